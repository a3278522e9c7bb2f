"""`staff_required`: the app's pages are for people with a staff record."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render

from staff.models import StaffMember


class StaffRequest(HttpRequest):
    """A request `staff_required` let through: `request.staff` is the signed-in person."""

    staff: StaffMember
    user: User


# Any response: a page, a redirect, or a file streamed to the browser.
View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Signed in, with an active staff record (`request.staff`, set by StaffMiddleware).

    Anyone else signed in is refused in words; an administrator without a record goes to
    the admin site, the only part of the service that is theirs.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "staff", None) is None:
            if request.user.is_staff:
                return redirect("admin:index")
            return render(request, "staff/no_staff_record.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
