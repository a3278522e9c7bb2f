from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from escalations.views import staff_view
from notifications import selectors, services
from staff.models import StaffMember


@staff_view
def notification_list(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    page = Paginator(selectors.notifications_for(staff), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@staff_view
@require_POST
def notification_open(request: HttpRequest, staff: StaffMember, pk: int) -> HttpResponse:
    """Mark it read and go to what it is about (POST: reading changes state)."""
    notification = get_object_or_404(selectors.notifications_for(staff), pk=pk)
    services.notification_mark_read(notification=notification, now=timezone.now())
    if notification.step.responder_id == staff.pk and notification.step.is_open:
        return redirect("escalations:respond", pk=notification.step_id)
    return redirect("escalations:detail", pk=notification.escalation_id)
