"""The second factor: set up an authenticator app once, then a code at each sign-in."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from staff import services
from staff.auth import AuthenticatedHttpRequest, second_factor_passed
from staff.forms import CodeForm

# The set-up key belongs to the session that was shown it (see staff/services.py).
SETUP_SESSION_KEY = "second_factor_setup_device"
SETUP_KEY_GONE = (
    "That key has expired or was replaced by a newer one. In the app, remove the account "
    "you just added, scan the new code below, then enter the code it shows."
)


def _grouped(key: str) -> str:
    """ABCD EFGH …: easier to type into an app by hand."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/"
    return target


@login_required
def second_factor(request: AuthenticatedHttpRequest) -> HttpResponse:
    if second_factor_passed(request.user):
        return redirect(_next(request))
    if not user_has_device(request.user):
        return redirect(f"{request.path}setup/?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", "That code is not right, or it has expired. Try the current one.")
    return render(
        request, "registration/second_factor.html", {"form": form, "next": _next(request)}
    )


@login_required
def second_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    if user_has_device(request.user):
        # Replacing a device is an administrator's job, so a stolen password cannot.
        return redirect(f"/accounts/second-factor/?next={_next(request)}")
    device = services.totp_device_pending(
        user=request.user, device_pk=request.session.get(SETUP_SESSION_KEY)
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device is None:
            form.add_error("code", SETUP_KEY_GONE)
        elif services.totp_device_confirm(device=device, token=form.cleaned_data["code"].strip()):
            del request.session[SETUP_SESSION_KEY]
            otp_login(request, device)
            return redirect(_next(request))
        else:
            form.add_error("code", "That code is not right. Check the app shows this account.")
    if device is None:
        device = services.totp_device_start(user=request.user)
        request.session[SETUP_SESSION_KEY] = device.pk
    qr = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return render(
        request,
        "registration/second_factor_setup.html",
        {
            "form": form,
            "next": _next(request),
            "qr_svg": qr.to_string(encoding="unicode"),
            "key": _grouped(b32encode(device.bin_key).decode().rstrip("=")),
            "key_minutes": int(services.SETUP_KEY_LIFETIME.total_seconds() // 60),
        },
    )
