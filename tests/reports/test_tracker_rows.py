"""The tracker's rows, read as plain values (reports/selectors.py): each page shows what the
models say (an Escalation per row, its open step's Clock.html(),
its raiser's display name), and the access log names the children it shows."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from children.models import AccessLog, AccessLogChild
from escalations import selectors
from escalations.models import Escalation
from tests.reports.conftest import GLOUCESTERSHIRE, TODAY, get_as, qa_of
from tests.reports.test_report_views import bulk_escalations

ROW = re.compile(
    r'<tr class="govuk-table__row">\s*(<td class="govuk-table__cell app-nowrap">.*?)</tr>', re.S
)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


@pytest.fixture
def qa(world):
    return qa_of(world, GLOUCESTERSHIRE)


def cells_from_the_models(escalation: Escalation, qa) -> list[str]:
    authority = qa.authority
    step = escalation.open_step()
    clock = (
        selectors.Clock.of(step, TODAY, authority.nation, authority.closure_dates())
        if step
        else None
    )
    url = reverse("escalations:detail", args=[escalation.pk])
    stage = escalation.current_stage
    children = escalation.children.order_by("last_name", "first_name", "pk")
    return [
        f'<a class="govuk-link" href="{url}">{escalation.reference}</a>',
        date_format(timezone.localtime(escalation.raised_at), "j M Y"),
        ", ".join(html.escape(c.reference) for c in children),
        html.escape(escalation.get_state_display()),
        html.escape((stage.name if stage else "") or "—"),
        html.escape(escalation.raised_by.display_name),
        clock.html() if clock else "—",
    ]


def page_cells(client, time_machine, qa, query: str = "") -> list[list[str]]:
    page = get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?{query}")
    assert page.status_code == 200
    return [CELL.findall(row) for row in ROW.findall(page.content.decode())]


@pytest.fixture
def made(world, qa):
    """Sixty escalations of the four kinds (open, awaiting a reply, closed, awaiting the
    chair), one raised by someone who is not a chair, one with no stage recorded, and one
    about two children of the same name (shown in the order of their pks, as the CSV)."""
    escalations = bulk_escalations(world, 60)
    not_a_chair = world.staff_of(qa.authority.slug, world.stage(GLOUCESTERSHIRE, 0).role.slug)
    assert not not_a_chair.role.is_chair
    Escalation.objects.filter(pk=escalations[-1].pk).update(raised_by=not_a_chair)
    Escalation.objects.filter(pk=escalations[-2].pk).update(current_stage=None)
    twins = [world.child(GLOUCESTERSHIRE, first_name="Evie", last_name="Green") for _ in "ab"]
    escalations[-3].children.add(*twins)
    return escalations


@pytest.mark.parametrize("query", ["", "page=2", "sort=status", "sort=reference&page=2"])
def test_each_row_shows_what_the_models_say(client, time_machine, qa, made, query):
    shown = page_cells(client, time_machine, qa, query)
    assert shown
    by_reference = {e.reference: e for e in Escalation.objects.filter(authority=qa.authority)}
    for cells in shown:
        reference = re.search(r">(ESC-\d+)<", cells[0])
        assert reference is not None
        assert cells == cells_from_the_models(by_reference[reference[1]], qa)


def test_the_access_log_names_every_child_the_page_shows(client, time_machine, qa, made):
    shown = page_cells(client, time_machine, qa)
    listed = [re.search(r">(ESC-\d+)<", cells[0])[1] for cells in shown]  # type: ignore[index]
    escalations = {e.reference: e for e in made}
    children = [
        c
        for reference in listed
        for c in escalations[reference].children.order_by("last_name", "first_name", "pk")
    ]
    log = AccessLog.objects.filter(action="tracker").latest("pk")
    assert log.child_id == children[0].pk
    logged = set(AccessLogChild.objects.filter(log=log).values_list("child_id", flat=True))
    assert logged == {c.pk for c in children}
