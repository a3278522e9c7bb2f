"""Reflow at 320 px (WCAG 1.4.10): every data table sits in its own labelled, focusable
scroll region, so on a phone only the table scrolls sideways, never the page — My
escalations, the to-do list, the escalation page, the tracker and the reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations import services
from escalations.models import Escalation
from tests.fixtures import first_category

NARROW = {"width": 320, "height": 900}

# The page's own sideways scroll, and any table in <main> outside a table region
# (role="region", tabindex="0", a name), and whether each region scrolls the table.
LAYOUT = """() => {
  const tables = [...document.querySelectorAll("main table")];
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (/(auto|scroll|hidden)/.test(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].slice(0, 2).join(".") : "");
  const starts = [...document.body.querySelectorAll("*")].filter(el =>
    el.getBoundingClientRect().right > window.innerWidth + 1
    && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1 && !scrolls(el)
  ).slice(0, 4).map(el => `${name(el)} (to ${Math.round(el.getBoundingClientRect().right)} px)`);
  const region = t => t.closest('[role="region"][tabindex="0"][aria-label]');
  return {
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    starts,
    tables: tables.length,
    outside: tables.filter(t => !region(t)).map(t => t.outerHTML.slice(0, 120)),
    scrolling: tables.filter(t => region(t) && region(t).scrollWidth > region(t).clientWidth)
      .map(t => region(t).getAttribute("aria-label")),
  };
}"""


def layout_at_320(page: Any, url: str) -> dict:
    page.goto(url)
    page.set_viewport_size(NARROW)
    return page.evaluate(LAYOUT)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_at_320_px_only_the_tables_scroll_sideways_never_the_page(
    site, world_of, child_of, new_context, sign_in
):
    world = world_of("rutland")
    now = timezone.now()
    # Long names, so the tables are wider than a phone.
    children = [
        child_of(
            "rutland",
            first_name=f"Maximilian-Alexander{n}",
            last_name="Featherstonehaugh-Worthington",
            team=world.north.team,
        )
        for n in range(3)
    ]

    def at_stage_1(child, *, days_ago: int) -> Escalation:
        escalation = services.escalation_raise(
            actor=world.chair,
            policy=world.policy,
            children=[child, world.child],
            summary="Statutory visits have not taken place.",
            categories=first_category(world.policy),
            responder=world.north.service,
            now=now - timedelta(days=days_ago + 1),
        )
        services.escalation_escalate(
            actor=world.chair,
            escalation=escalation,
            responder=world.north.manager,
            now=now - timedelta(days=days_ago),
        )
        return escalation

    overdue = at_stage_1(children[0], days_ago=21)
    answered = at_stage_1(children[1], days_ago=3)
    services.step_respond(
        actor=world.north.manager,
        step=answered.open_step(),
        response="Visits are booked for Monday.",
        now=now - timedelta(hours=2),
    )
    at_stage_1(children[2], days_ago=1)

    chair_pages = {
        "My escalations": reverse("escalations:mine"),
        "To do": reverse("escalations:todo"),
        "The escalation page": reverse("escalations:detail", args=[overdue.pk]),
        "The printed record": reverse("escalations:record", args=[answered.pk]),
        "For the next conference": reverse("children:conference", args=[world.child.pk]),
    }
    qa_pages = {
        "The tracker": reverse("reports:tracker"),
        "The dashboard": reverse("reports:dashboard"),
        "The quarterly report": reverse("reports:quarterly"),
        "The escalation page (QA)": reverse("escalations:detail", args=[answered.pk]),
    }
    results: dict[str, dict] = {}
    chair = sign_in(new_context(), world.chair)
    for name, path in chair_pages.items():
        results[name] = layout_at_320(chair, f"{site}{path}")
    qa = sign_in(new_context(), world.qa)
    for name, path in qa_pages.items():
        results[name] = layout_at_320(qa, f"{site}{path}")

    problems = [
        f"{name}: the page is {r['scrollWidth']} px wide at {r['width']} px, from "
        + ", ".join(r["starts"])
        for name, r in results.items()
        if r["scrollWidth"] > r["width"]
    ] + [
        f"{name}: a table outside a table region: {html}"
        for name, r in results.items()
        for html in r["outside"]
    ]
    assert not problems, "\n".join(problems)
    # The wide tables are there and scroll inside their regions (not trimmed away).
    assert results["My escalations"]["scrolling"]
    assert results["The tracker"]["scrolling"] == ["Escalations matching the filters"]
    assert results["To do"]["tables"] >= 2
