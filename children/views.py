from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render

from children.selectors import visible_children
from children.services import access_log_record
from staff.decorators import StaffRequest, staff_required


@staff_required
def child_list(request: StaffRequest) -> HttpResponse:
    staff = request.staff
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
