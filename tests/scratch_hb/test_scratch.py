import re
import pytest
from django.urls import reverse
from policies.models import Policy, Stage

def names(html):
    return sorted(set(re.findall(r'name="([^"]+)"', html)))

@pytest.mark.django_db
def test_dump(admin_client, ladders):
    for url in ["admin:auth_user_add", "admin:staff_staffmember_add", "admin:staff_partner_add",
                "admin:policies_policy_add", "admin:policies_closureday_add", "admin:policies_localauthority_add", "admin:policies_role_add", "admin:staff_team_add"]:
        html = admin_client.get(reverse(url)).content.decode()
        print(url, names(html))
    p = Policy.objects.get(slug="rutland")
    s = p.stages.get(order=2)
    html = admin_client.get(reverse("admin:policies_stage_change", args=[s.pk])).content.decode()
    print("stage", names(html))
    open("/tmp/stage_change.html","w").write(html)
    html = admin_client.get(reverse("admin:policies_policy_add")).content.decode()
    open("/tmp/policy_add.html","w").write(html)
