from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from notifications import selectors, services
from staff.decorators import StaffRequest, staff_required


@staff_required
def notification_list(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    page = Paginator(selectors.notifications_for(staff), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@staff_required
@require_POST
def notification_open(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark it read and go to what it is about (POST: reading changes state)."""
    staff = request.staff
    notification = get_object_or_404(selectors.notifications_for(staff), pk=pk)
    services.notification_mark_read(notification=notification, now=timezone.now())
    step = notification.step
    # Anyone the step is addressed to (each person on a stage addressed to several) goes to
    # their response page, which shows their own part and refuses what is no longer theirs.
    addressed = step.responder_id == staff.pk or step.addressees.filter(staff=staff).exists()
    if addressed and step.is_open:
        return redirect("escalations:respond", pk=notification.step_id)
    return redirect("escalations:detail", pk=notification.escalation_id)
