from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from escalations import selectors
from policies.working_days import working_days_between


@login_required
def my_escalations(request: HttpRequest) -> HttpResponse:
    staff = selectors.staff_for(request.user)
    if staff is None:
        if request.user.is_staff:
            return redirect("admin:index")
        return render(request, "escalations/no_staff_record.html", status=403)
    today = timezone.localdate()
    closures = staff.authority.closure_dates()
    rows = []
    for escalation in selectors.my_escalations(staff):
        step = selectors.open_step_of(escalation)
        due = step.effective_due_on if step else None
        rows.append(
            {
                "escalation": escalation,
                "step": step,
                "due": due,
                "days_left": (
                    working_days_between(
                        today, due, nation=staff.authority.nation, closures=closures
                    )
                    if due
                    else None
                ),
                "overdue": bool(due and due < today),
            }
        )
    rows.sort(key=lambda r: (not r["escalation"].is_open, not r["overdue"]))
    return render(request, "escalations/mine.html", {"staff": staff, "rows": rows})
