"""Clock.html() prints a step's clock exactly as escalations/_clock.html, the template it
replaced, printed it (kept here as the reference): every list, the record and the reply
page show it."""

from __future__ import annotations

from datetime import date

from django.template import engines
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.selectors import Clock

# escalations/_clock.html as it was when Clock.html() replaced it.
TEMPLATE = engines["django"].from_string(
    '{% if clock.awaiting_chair %}<strong class="govuk-tag govuk-tag--blue">Awaiting the chair</strong> <span class="govuk-hint govuk-!-display-inline">(answered: the chair decides next)</span>{% if clock.issue_by %}<br>Issue {{ clock.issue_stage|default:"the next stage" }} by {{ clock.issue_by|date:"D j M Y" }}{% if clock.issue_overdue %} <strong class="govuk-tag govuk-tag--red">Overdue</strong>{% elif clock.issue_days_left is not None %} <span class="govuk-hint govuk-!-display-inline">({{ clock.issue_days_left }} working day{{ clock.issue_days_left|pluralize }} left)</span>{% endif %}{% endif %}{% elif clock.effective %}{{ clock.effective|date:"D j M Y" }}{% if clock.off_day %} — not a working day{% endif %}{% if clock.overdue %} <strong class="govuk-tag govuk-tag--red">Overdue</strong>{% elif clock.days_left is not None %} <span class="govuk-hint govuk-!-display-inline">({{ clock.days_left }} {% if not clock.calendar %}working {% endif %}day{{ clock.days_left|pluralize }} left)</span>{% endif %}{% if clock.binding == "cap" %}<br><span class="govuk-body-s">Formal cap applies</span>{% endif %}{% else %}No timescale set by the policy{% endif %}'
)

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
left = st.none() | st.integers(min_value=0, max_value=40)
clocks = st.builds(
    Clock,
    due_on=st.none() | days,
    cap_due_on=st.none() | days,
    effective=st.none() | days,
    binding=st.sampled_from(["", "stage", "cap"]),
    days_left=left,
    overdue=st.booleans(),
    awaiting_chair=st.booleans(),
    calendar=st.booleans(),
    off_day=st.booleans(),
    issue_by=st.none() | days,
    issue_stage=st.sampled_from(["", "Stage 2: Head of Service", "Fish & <chips>"]),
    issue_overdue=st.booleans(),
    issue_days_left=left,
)


@settings(max_examples=400, deadline=None)
@given(clocks)
def test_a_clock_prints_as_the_template_printed_it(clock):
    assert clock.html() == TEMPLATE.render({"clock": clock})


def test_a_clock_without_a_deadline_says_so():
    clock = Clock(None, None, None, "", None, False, False)

    assert clock.html() == "No timescale set by the policy"
