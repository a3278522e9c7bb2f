from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from children.selectors import visible_children
from children.services import access_log_record
from escalations import selectors as escalation_selectors
from escalations.views import staff_view
from staff.models import StaffMember


@staff_view
def child_list(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    # PostgreSQL cannot take a NUL in a query parameter (a 500); no name contains one.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    children = visible_children(staff).select_related("team", "social_worker__user")
    if query:
        children = children.filter(
            Q(reference__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    page = Paginator(children.order_by("last_name", "first_name"), 50).get_page(
        request.GET.get("page")
    )
    access_log_record(user=staff.user, action="list children", children=page.object_list)
    return render(request, "children/list.html", {"page": page, "query": query, "staff": staff})


@staff_view
def child_file(request: HttpRequest, staff: StaffMember, pk: int) -> HttpResponse:
    """The record 'on the child's file': plan, conferences, every escalation and step."""
    child = get_object_or_404(
        visible_children(staff).select_related("team", "social_worker__user"), pk=pk
    )
    access_log_record(user=staff.user, action="view child", children=[child])
    escalations = (
        escalation_selectors.visible_escalations(staff)
        .filter(children=child)
        .select_related("policy", "current_stage", "raised_by__user")
        .order_by("-raised_at")
    )
    today = timezone.localdate()
    return render(
        request,
        "children/file.html",
        {
            "staff": staff,
            "child": child,
            "plans": child.plans.all(),
            "conferences": child.conferences.select_related("chair__user"),
            "events": child.significant_events.all(),
            "escalations": [
                escalation_selectors.escalation_context(staff, e, today) for e in escalations
            ],
            "can_raise": escalation_selectors.policies_for(staff).exists(),
        },
    )


@staff_view
def conference_view(request: HttpRequest, staff: StaffMember, pk: int) -> HttpResponse:
    """For the child's next conference: escalations raised since the previous one.

    Rutland: "The Independent Chair should verbally inform the members of a Child
    Protection Conference of any escalation alerts they have initiated since the
    previous meeting".
    """
    child = get_object_or_404(visible_children(staff), pk=pk)
    today = timezone.localdate()
    previous = child.conferences.filter(date__lte=today).order_by("-date").first()
    escalations = (
        escalation_selectors.visible_escalations(staff)
        .filter(children=child)
        .select_related("policy", "current_stage", "raised_by__user")
        .order_by("raised_at")
    )
    if previous is not None:
        escalations = escalations.filter(raised_at__date__gt=previous.date)
    access_log_record(user=staff.user, action="conference view", children=[child])
    return render(
        request,
        "children/conference.html",
        {
            "child": child,
            "previous": previous,
            "escalations": [
                escalation_selectors.escalation_context(staff, e, today) for e in escalations
            ],
        },
    )
