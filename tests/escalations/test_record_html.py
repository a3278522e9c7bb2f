"""The record's tags (escalations.record_html) print an escalation's summary and steps
exactly as escalations/_summary.html and escalations/_steps.html printed them before the
tags replaced their bodies (those templates are kept here, as the reference), for any
mix of what a summary or a step may hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from django.template import engines
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from hypothesis import given, settings
from hypothesis import strategies as st

OLD_SUMMARY = engines["django"].from_string(
    """{# summary: selectors.EscalationSummary. #}<dl class="govuk-summary-list">
  <div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Children</dt><dd class="govuk-summary-list__value">{% for child in summary.children %}<a class="govuk-link" href="{{ child.url }}">{{ child.name }}</a> ({{ child.reference }}){% if not forloop.last %}<br>{% endif %}{% endfor %}</dd></div>
  <div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Status</dt><dd class="govuk-summary-list__value">{{ summary.state }}{% if summary.immediate_safety %} <strong class="govuk-tag govuk-tag--red">Immediate safety</strong>{% endif %}{% if summary.good_practice %} <strong class="govuk-tag govuk-tag--green">Good practice</strong>{% endif %}</dd></div>
  <div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Policy</dt><dd class="govuk-summary-list__value">{{ summary.policy }}</dd></div>
  <div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Raised by</dt><dd class="govuk-summary-list__value">{{ summary.raised_by }} on {{ summary.raised_at|date:"j M Y, H:i" }}</dd></div>
  {% if summary.conference %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Conference it arose from</dt><dd class="govuk-summary-list__value">{{ summary.conference.kind }}, {{ summary.conference.date|date:"j M Y" }}</dd></div>{% endif %}
  {% if summary.about_staff %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Concern about</dt><dd class="govuk-summary-list__value">{{ summary.about_staff }}</dd></div>{% endif %}
  {% if summary.categories %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Categories</dt><dd class="govuk-summary-list__value">{% for c in summary.categories %}{{ c }}{% if not forloop.last %}<br>{% endif %}{% endfor %}</dd></div>{% endif %}
  <div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">The issue</dt><dd class="govuk-summary-list__value app-pre">{{ summary.summary }}</dd></div>
  {% if summary.desired_outcome %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Wanted</dt><dd class="govuk-summary-list__value app-pre">{{ summary.desired_outcome }}</dd></div>{% endif %}
  {% if summary.formal_cap_due_on %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Formal process</dt><dd class="govuk-summary-list__value">Started {{ summary.formal_started_at|date:"j M Y" }}; must finish by {{ summary.formal_cap_due_on|date:"j M Y" }} ({{ summary.formal_cap_working_days }} working days)</dd></div>{% endif %}
  {% if summary.outcome %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{{ summary.outcome_label }}</dt><dd class="govuk-summary-list__value app-pre">{{ summary.outcome }}</dd></div>{% endif %}
  {% if summary.outcome_for_child %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">What changed for the child</dt><dd class="govuk-summary-list__value app-pre">{{ summary.outcome_for_child }}</dd></div>{% endif %}
</dl>
"""
)
OLD_STEPS = engines["django"].from_string(
    """{# heading_level: the level of the "Steps" heading (2 unless the page nests it deeper). step_rows: selectors.StepRow, which carries what each step prints. #}{% with h=heading_level|default:2 sub=heading_level|default:2|add:1 %}
<h{{ h }} class="govuk-heading-{% if h > 2 %}s{% else %}m{% endif %}">Steps</h{{ h }}>
{% for row in step_rows %}
<section class="app-step{% if row.is_open %} app-step--open{% endif %}" aria-labelledby="step-{{ row.pk }}">
  <h{{ sub }} class="govuk-heading-s" id="step-{{ row.pk }}">{{ row.sequence }}. {{ row.stage_name }}{% if row.is_awaiting_chair %} <strong class="govuk-tag govuk-tag--blue">Awaiting the chair</strong>{% elif row.is_open %} <strong class="govuk-tag">Open</strong>{% endif %}</h{{ sub }}>
  <dl class="govuk-summary-list govuk-summary-list--no-border">
    {% if row.addressees %}{% include "escalations/_addressees.html" %}{% else %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Asked</dt><dd class="govuk-summary-list__value">{{ row.addressee_name }} ({{ row.addressee_title }}), by {{ row.raised_by }} on {{ row.raised_at|date:"j M Y, H:i" }}</dd></div>{% endif %}
    {% if row.copies_unfilled %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Named by the policy, held by nobody</dt><dd class="govuk-summary-list__value">{{ row.copies_unfilled|linebreaksbr }}</dd></div>{% endif %}
    {% if row.skipped_stage_names %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Stages skipped</dt><dd class="govuk-summary-list__value">{{ row.skipped_stage_names }}{% if row.skip_reason %}<br>Reason: {{ row.skip_reason }}{% endif %}</dd></div>{% endif %}
    <div class="govuk-summary-list__row{% if row.binding == 'stage' %} app-clock--binding{% endif %}"><dt class="govuk-summary-list__key">Stage deadline</dt><dd class="govuk-summary-list__value">{% if row.due_on %}{{ row.due_on|date:"j M Y" }} {% if row.extended_from %}(extended from {{ row.extended_from|date:"j M Y" }}){% else %}({{ row.timescale }} from receipt){% endif %}{% else %}No timescale set by the policy{% endif %}{% if row.binding == "stage" %} — <strong>this deadline applies</strong>{% endif %}</dd></div>
    {% if row.timescale_reason %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Timescale varied</dt><dd class="govuk-summary-list__value">Timescale varied by the chair to {{ row.timescale_words }}: {{ row.timescale_reason }}</dd></div>{% endif %}
    {% if row.cap_due_on %}<div class="govuk-summary-list__row{% if row.binding == 'cap' %} app-clock--binding{% endif %}"><dt class="govuk-summary-list__key">Formal cap</dt><dd class="govuk-summary-list__value">{{ row.cap_due_on|date:"j M Y" }}{% if row.binding == "cap" %} — <strong>the cap is earlier, so it applies</strong>{% endif %}</dd></div>{% endif %}
    {% if row.issue_due_on %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Issue by</dt><dd class="govuk-summary-list__value">{{ row.issue_due_on|date:"D j M Y" }} — issued {{ row.raised_at|date:"D j M Y" }}, {% if row.was_issued_late %}<strong class="govuk-tag govuk-tag--red">late</strong>{% else %}on time{% endif %}</dd></div>{% endif %}
    {% if row.is_open %}<div class="govuk-summary-list__row{% if row.clock.bites == 'issue' %} app-clock--binding{% endif %}"><dt class="govuk-summary-list__key">{% if row.clock.awaiting_chair %}Next{% else %}Reply due{% endif %}</dt><dd class="govuk-summary-list__value">{{ row.clock_html }}</dd></div>{% endif %}
    {% if row.statement_issue %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Written statement</dt><dd class="govuk-summary-list__value"><p class="govuk-body app-pre"><strong>The issue:</strong> {{ row.statement_issue }}</p><p class="govuk-body app-pre"><strong>What has been done:</strong> {{ row.statement_actions }}</p><p class="govuk-body app-pre"><strong>{{ row.statement_wanted_label }}:</strong> {{ row.statement_wanted }}</p><p class="govuk-body-s">The earlier steps in this record go with the statement.</p></dd></div>{% endif %}
    {% if row.addressees %}{% include "escalations/_replies.html" %}{% elif row.responded_at %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Response</dt><dd class="govuk-summary-list__value"><p class="govuk-body app-pre">{{ row.response }}</p><p class="govuk-body-s">{{ row.responded_at|date:"j M Y, H:i" }}{% if row.meeting_date %} · meeting on {{ row.meeting_date|date:"j M Y" }}{% endif %}{% if row.meeting_attendees %} · attended by {{ row.meeting_attendees }}{% endif %}</p>
      {% if row.attachments %}<ul class="govuk-list">{% for a in row.attachments %}<li><a class="govuk-link" href="{% url 'escalations:attachment' a.pk %}">{{ a.original_name }}</a> ({{ a.size|filesizeformat }})</li>{% endfor %}</ul>{% endif %}</dd></div>
    {% elif not row.is_open %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Response</dt><dd class="govuk-summary-list__value">None received</dd></div>{% endif %}
    {% if row.chased_at %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Last reminder</dt><dd class="govuk-summary-list__value">Sent {{ row.chased_at|date:"j M Y, H:i" }}</dd></div>{% endif %}
    {% for amendment in row.amendments %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{{ amendment.get_kind_display }}</dt><dd class="govuk-summary-list__value">{{ amendment.change_words|capfirst }}, by {{ amendment.made_by.display_name }} on {{ amendment.made_at|date:"j M Y, H:i" }}<br>Reason: {{ amendment.reason }}</dd></div>{% endfor %}
    {% if row.verdict %}<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{{ row.verdict_label }}</dt><dd class="govuk-summary-list__value">{{ row.verdict_display }} ({{ row.verdict_at|date:"j M Y" }})</dd></div>{% endif %}
  </dl>
</section>
{% endfor %}{% endwith %}
"""
)

words = st.sampled_from(
    ["", "Ada Lovelace", "Fish & <chips>", "\"quoted\" 'it'", "line one\nline two"]
)
some_words = st.sampled_from(["Ada Lovelace", "Fish & <chips>", "a\nb & <c>"])
days = st.one_of(st.none(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
# Across both clock changes, so that a time shown in London's own zone is checked too.
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
maybe_moments = st.one_of(st.none(), moments)


def namespace(**fields):
    return st.builds(SimpleNamespace, **fields)


attachments = st.lists(
    namespace(pk=st.integers(1, 999), original_name=words, size=st.integers(0, 10**8)),
    max_size=2,
)
amendments = st.lists(
    namespace(
        get_kind_display=st.sampled_from(["Deadline extended", "Re-addressed"]).map(
            lambda text: lambda: text
        ),
        change_words=some_words,
        made_by=namespace(display_name=words),
        made_at=moments,
        reason=words,
    ),
    max_size=2,
)
addressees = st.lists(
    namespace(
        addressee=namespace(
            name=some_words,
            staff=st.one_of(st.none(), namespace(role=namespace(name=words))),
            responded_at=maybe_moments,
            response=words,
        ),
        answered=st.booleans(),
        awaited=st.booleans(),
        due_on=days,
        overdue=st.booleans(),
        days_left=st.one_of(st.none(), st.integers(0, 20)),
        attachments=attachments,
    ),
    max_size=3,
)
steps = namespace(
    pk=st.integers(1, 10**6),
    sequence=st.integers(1, 6),
    stage_name=words,
    is_open=st.booleans(),
    is_awaiting_chair=st.booleans(),
    addressees=st.one_of(st.just(()), addressees.map(tuple)),
    addressee_name=words,
    addressee_title=words,
    raised_by=words,
    raised_at=moments,
    completion_label=st.sampled_from(["Everyone has replied", "Any one reply"]),
    copies_unfilled=words,
    skipped_stage_names=words,
    skip_reason=words,
    due_on=days,
    extended_from=days,
    timescale=st.sampled_from(["10 working days", "1 calendar day"]),
    binding=st.sampled_from(["stage", "cap", "", None]),
    timescale_reason=words,
    timescale_words=words,
    cap_due_on=days,
    issue_due_on=days,
    was_issued_late=st.booleans(),
    clock=namespace(
        bites=st.sampled_from(["issue", "stage", "cap", ""]), awaiting_chair=st.booleans()
    ),
    clock_html=st.sampled_from(
        [SafeString(""), mark_safe('Fri 4 Dec <strong class="x">late</strong>')]
    ),
    statement_issue=words,
    statement_actions=words,
    statement_wanted_label=words,
    statement_wanted=words,
    responded_at=maybe_moments,
    response=words,
    meeting_date=days,
    meeting_attendees=words,
    attachments=attachments,
    chased_at=maybe_moments,
    amendments=amendments,
    verdict=words,
    verdict_label=words,
    verdict_display=words,
    verdict_at=moments,
)
summaries = namespace(
    url=st.just("/escalations/3/"),
    reference=st.just("ESC-000003"),
    state=words,
    children=st.lists(
        st.fixed_dictionaries({"url": st.just("/children/1/"), "name": words, "reference": words}),
        max_size=3,
    ),
    immediate_safety=st.booleans(),
    good_practice=st.booleans(),
    policy=words,
    raised_by=words,
    raised_at=moments,
    conference=st.one_of(st.none(), st.fixed_dictionaries({"kind": words, "date": days})),
    about_staff=words,
    categories=st.lists(words, max_size=3),
    summary=words,
    desired_outcome=words,
    formal_cap_due_on=days,
    formal_started_at=maybe_moments,
    formal_cap_working_days=st.integers(1, 60),
    outcome=words,
    outcome_label=words,
    outcome_for_child=words,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(steps, max_size=3), st.sampled_from([None, 2, 4]))
def test_steps_print_as_the_template_printed_them(rows, heading_level):
    context = {"step_rows": rows, "heading_level": heading_level}

    printed = get_template("escalations/_steps.html").render(context)

    assert printed == OLD_STEPS.render(context)


@settings(max_examples=300, deadline=None)
@given(summaries)
def test_a_summary_prints_as_the_template_printed_it(summary):
    printed = get_template("escalations/_summary.html").render({"summary": summary})

    assert printed == OLD_SUMMARY.render({"summary": summary})
