"""Every page's /favicon.ico request finds the icon in the static files (no 404)."""

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client


def test_favicon_ico_leads_to_the_static_icon(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("favicon.ico")
    icon = finders.find("favicon.ico")
    assert icon is not None
    with open(icon, "rb") as f:
        assert f.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header
