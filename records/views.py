"""The child's record: the file page and the conference view (the child with every
escalation about them), and the subject-access export page and its download (QA
managers and administrators of the child's authority). Each is a read of the child's
record, so each is logged.

The file and conference pages live here rather than in children/ because they show the
escalations: children/ sits below escalations/ (pyproject.toml, [tool.importlinter]).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from children.models import Child
from children.selectors import visible_children
from children.services import access_log_record
from escalations import selectors as escalation_selectors
from records import selectors, services
from staff.decorators import StaffRequest, staff_required
from staff.models import StaffMember


def _child_or_refusal(staff: StaffMember, request: HttpRequest, pk: int) -> Child | HttpResponse:
    # Another authority's child is not found at all; one of this authority is refused in
    # words to anyone the export is not for.
    child = get_object_or_404(selectors.subject_access_candidates(staff), pk=pk)
    if not selectors.may_export_subject_access(staff):
        return render(request, "records/not_allowed.html", status=403)
    return child


@staff_required
def subject_access(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    child = _child_or_refusal(staff, request, pk)
    if isinstance(child, HttpResponse):
        return child
    access_log_record(user=staff.user, action="view subject access", children=[child])
    return render(request, "records/subject_access.html", {"staff": staff, "child": child})


@staff_required
def subject_access_download(request: StaffRequest, pk: int) -> HttpResponse:
    staff = request.staff
    child = _child_or_refusal(staff, request, pk)
    if isinstance(child, HttpResponse):
        return child
    data = services.subject_access_export(user=staff.user, child=child)
    response = HttpResponse(data, content_type="application/zip")
    # The case reference, not the name: file names end up in download folders and logs.
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="subject-access-{child.pk}-{stamp}.zip"'
    )
    return response


@staff_required
def child_file(request: StaffRequest, pk: int) -> HttpResponse:
    """The record 'on the child's file': plan, conferences, every escalation and step."""
    staff = request.staff
    child = get_object_or_404(
        # The social worker comes with the record's people (child_file_page).
        visible_children(staff).select_related("team"),
        pk=pk,
    )
    access_log_record(user=staff.user, action="view child", children=[child])
    shown = selectors.child_file_page(staff, child, timezone.localdate(), request.GET.get("page"))
    page = shown.page
    return render(
        request,
        "children/file.html",
        {
            "staff": staff,
            "child": child,
            "plans": shown.history.plans,
            "conferences": shown.history.conferences,
            "events": shown.history.events,
            "escalations": shown.escalations,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            ),
            "can_raise": bool(escalation_selectors.raisable_policy_pks(staff)),
        },
    )


@staff_required
def conference_view(request: StaffRequest, pk: int) -> HttpResponse:
    """For the child's next conference: escalations raised since the previous one.

    Rutland: "The Independent Chair should verbally inform the members of a Child
    Protection Conference of any escalation alerts they have initiated since the
    previous meeting".
    """
    staff = request.staff
    child = get_object_or_404(visible_children(staff), pk=pk)
    previous, items = selectors.next_conference(staff, child, timezone.localdate())
    access_log_record(user=staff.user, action="conference view", children=[child])
    return render(
        request,
        "children/conference.html",
        {"child": child, "previous": previous, "items": items},
    )
