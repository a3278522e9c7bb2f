"""The subject-access export page and its download: QA managers and administrators of
the child's authority. Each is a read of the child's record, so each is logged."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from children.models import Child
from children.services import access_log_record
from escalations.views import staff_view
from records import selectors, services
from staff.models import StaffMember


def _child_or_refusal(staff: StaffMember, request: HttpRequest, pk: int) -> Child | HttpResponse:
    # Another authority's child is not found at all; one of this authority is refused in
    # words to anyone the export is not for.
    child = get_object_or_404(selectors.subject_access_candidates(staff), pk=pk)
    if not selectors.may_export_subject_access(staff):
        return render(request, "records/not_allowed.html", status=403)
    return child


@staff_view
def subject_access(request: HttpRequest, staff: StaffMember, pk: int) -> HttpResponse:
    child = _child_or_refusal(staff, request, pk)
    if isinstance(child, HttpResponse):
        return child
    access_log_record(user=staff.user, action="view subject access", children=[child])
    return render(request, "records/subject_access.html", {"staff": staff, "child": child})


@staff_view
def subject_access_download(request: HttpRequest, staff: StaffMember, pk: int) -> HttpResponse:
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
