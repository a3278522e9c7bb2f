"""Debug: render a page at 320 and list wide elements."""
import pytest
from django.urls import reverse
from tests.browser.test_accessibility_every_page import seed  # noqa
from tests.browser.pages import NARROW

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_debug(site, seed, new_context, sign_in):
    page = sign_in(new_context(bypass_csp=True), seed.people["chair"])
    page.set_viewport_size(NARROW)
    page.goto(site + "/escalations/todo/")
    print(page.evaluate("""() => [...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > 330).slice(0,15).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + getComputedStyle(e).overflowX)"""))
    page.set_viewport_size({"width":1280,"height":900})
    page.goto(site + f"/escalations/raise/{seed.fresh_child.pk}/")
    print(page.locator("#id_stage_2").evaluate("e => e.outerHTML"))
    print(page.locator("#id_stage_2").evaluate("e => e.parentElement.outerHTML"))
