"""The pages a partner-agency contact reaches through their e-mailed link, with no council
account (escalations/partner_access.py says how the way in works).

Thin, like the staff views: find the access (by the link's token) or the session (by its
cookie), show a form, call a service. Nothing here reads the staff login: a partner's
session opens their one step and nothing else, and every other page of the site sees an
anonymous visitor. Every page that shows case data is written to the access log, naming
the partner.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from children.services import access_log_record
from escalations import partner_access, rules
from escalations.models import PartnerAccess, PartnerSession
from escalations.partner_access import PartnerRefused
from escalations.views import reply_submitted


def _session(request: HttpRequest) -> PartnerSession | None:
    return partner_access.session_for_token(
        request.COOKIES.get(partner_access.SESSION_COOKIE), now=timezone.now()
    )


def _closed(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "escalations/partner_closed.html", {"message": message}, status=410)


def _unknown(request: HttpRequest) -> HttpResponse:
    # The same page for a made-up token and a mistyped one: nothing to learn from it.
    return render(request, "escalations/partner_unknown.html", status=404)


def _start_context(access: PartnerAccess, **extra: Any) -> dict[str, Any]:
    return {
        "partner": access.partner,
        "email": partner_access.mask_email(access.partner.email),
        "reference": access.step.escalation.reference,
        "authority": access.step.escalation.authority.name,
        **extra,
    }


@require_http_methods(["GET", "POST"])
def partner_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: offers to send a one-time code (a press, not the opening itself,
    so a mail system that opens links to scan them sends no codes)."""
    access = partner_access.access_for_token(token)
    if access is None:
        return _unknown(request)
    refusal = partner_access.access_refusal(access)
    if refusal is not None:
        return _closed(request, refusal)
    session = _session(request)
    if session is not None and session.access_id == access.pk:
        return redirect("escalations:partner_reply")
    if request.method == "POST":
        try:
            partner_access.partner_code_request(access=access, now=timezone.now())
        except PartnerRefused as exc:
            return render(
                request,
                "escalations/partner_code.html",
                _start_context(access, token=token, error=exc.message),
                status=429,
            )
        return redirect("escalations:partner_code", token=token)
    return render(request, "escalations/partner_start.html", _start_context(access, token=token))


@require_http_methods(["GET", "POST"])
def partner_code(request: HttpRequest, token: str) -> HttpResponse:
    """Enter the code: the right one starts the partner's session on this step alone."""
    access = partner_access.access_for_token(token)
    if access is None:
        return _unknown(request)
    refusal = partner_access.access_refusal(access)
    if refusal is not None:
        return _closed(request, refusal)
    error = None
    if request.method == "POST":
        try:
            session_token = partner_access.partner_code_verify(
                access=access, code=request.POST.get("code", ""), now=timezone.now()
            )
        except PartnerRefused as exc:
            error = exc.message
        else:
            response = redirect("escalations:partner_reply")
            response.set_cookie(
                partner_access.SESSION_COOKIE,
                session_token,
                path=partner_access.SESSION_COOKIE_PATH,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response
    return render(
        request,
        "escalations/partner_code.html",
        _start_context(access, token=token, error=error, sent=request.method == "GET"),
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def partner_reply(request: HttpRequest) -> HttpResponse:
    """The partner's one step: the issue, what is asked, their deadline, and their reply."""
    session = _session(request)
    if session is None:
        return render(request, "escalations/partner_signed_out.html", status=403)
    access = session.access
    refusal = partner_access.access_refusal(access)
    if refusal is not None:
        return _closed(request, refusal)
    partner, step = access.partner, access.step
    escalation = step.escalation
    can_reply = rules.respond_refusal(partner, step) is None
    form = None
    if can_reply:
        form, recorded = reply_submitted(request, actor=partner, step=step)
        if recorded:
            return redirect("escalations:partner_reply")
    access_log_record(
        partner=partner,
        action="partner view step" if request.method == "GET" else "partner reply",
        children=list(escalation.children.all()),
        escalation=escalation,
    )
    addressee = access.addressee
    if addressee is not None:
        addressee.refresh_from_db()
    step.refresh_from_db()
    return render(
        request,
        "escalations/partner_reply.html",
        {
            "partner": partner,
            "step": step,
            "escalation": escalation,
            "initials": ", ".join(c.initials for c in escalation.children.all()),
            "due_on": addressee.due_on if addressee is not None else step.effective_due_on,
            "reply": addressee if addressee is not None else step,
            "form": form,
        },
    )


@require_POST
def partner_sign_out(request: HttpRequest) -> HttpResponse:
    session = _session(request)
    if session is not None:
        partner_access.partner_session_end(session=session, now=timezone.now())
    response = render(request, "escalations/partner_signed_out.html", {"signed_out": True})
    response.delete_cookie(partner_access.SESSION_COOKIE, path=partner_access.SESSION_COOKIE_PATH)
    return response
