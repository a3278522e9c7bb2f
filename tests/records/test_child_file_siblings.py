"""The child's file names every child an escalation is about, each escalation once."""

from django.urls import reverse

from tests.fixtures import at

SLUG = "gloucestershire"


def test_the_childs_file_names_every_child_on_a_shared_escalation_once(
    client, time_machine, staff_of, child_of, raise_concern
):
    child = child_of(SLUG, reference="GL-SIB-1")
    sibling = child_of(SLUG, reference="GL-SIB-2")
    escalation = raise_concern(
        SLUG,
        stage_order=1,
        actor=staff_of(SLUG, "cp-chair"),
        children=[child, sibling],
        now=at(2026, 11, 2, 9),
    )
    time_machine.move_to(at(2026, 11, 4, 12), tick=False)
    client.force_login(staff_of(SLUG, "qa-manager").user)
    page = client.get(reverse("children:file", args=[child.pk])).content.decode()
    assert page.count(f">{escalation.reference}</a>") == 1
    record = page.split(escalation.reference, 1)[1]
    assert "(GL-SIB-1)" in record
    assert "(GL-SIB-2)" in record
