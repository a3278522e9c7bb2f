"""The record of an escalation as HTML: its summary (`record_summary`) and each of its
steps (`record_step`), the tags escalations/_summary.html and escalations/_steps.html
print them with.

Built here rather than by the templates: a child's file prints fifteen summaries and some
forty steps, and the templates' lookups (near a thousand a page) cost more than the rest
of the page's making. The text is what the templates printed, character for character
(tests/escalations/test_record_html.py keeps those templates and compares). A stage
addressed to several people still prints its addressees and replies with their own
templates (_addressees.html, _replies.html): few steps have them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import template
from django.template.defaultfilters import capfirst, filesizeformat, linebreaksbr
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from config.dates import date_filter
from config.html import format_html

if TYPE_CHECKING:
    from escalations.selectors import EscalationSummary, StepRow

register = template.Library()


def _at(value: Any, fmt: str) -> str:
    """`{{ value|date:fmt }}`: a datetime in the local time zone, as the template shows it."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_filter(value, fmt)


def _row(key: Any, value: Any, extra_class: str = "") -> SafeString:
    """One row of a summary list: its key and its value (both escaped unless safe)."""
    return format_html(
        '<div class="govuk-summary-list__row{}"><dt class="govuk-summary-list__key">{}</dt>'
        '<dd class="govuk-summary-list__value">{}</dd></div>',
        extra_class,
        key,
        value,
    )


def _joined(parts: list[SafeString] | list[str]) -> SafeString:
    # Each part escaped its own values (format_html): joined, they stay safe.
    return SafeString("".join(parts))


_IMMEDIATE = SafeString(' <strong class="govuk-tag govuk-tag--red">Immediate safety</strong>')
_GOOD_PRACTICE = SafeString(' <strong class="govuk-tag govuk-tag--green">Good practice</strong>')


@register.simple_tag
def record_summary(summary: EscalationSummary) -> SafeString:
    """escalations/_summary.html's list: the escalation as the record heads it."""
    children = _joined(
        [
            format_html(
                '<a class="govuk-link" href="{}">{}</a> ({}){}',
                child["url"],
                child["name"],
                child["reference"],
                "" if last else SafeString("<br>"),
            )
            for last, child in _marking_last(summary.children)
        ]
    )
    state = format_html(
        "{}{}{}",
        summary.state,
        _IMMEDIATE if summary.immediate_safety else "",
        _GOOD_PRACTICE if summary.good_practice else "",
    )
    rows: list[SafeString | str] = [
        _row("Children", children),
        _row("Status", state),
        _row("Policy", summary.policy),
        _row(
            "Raised by",
            format_html("{} on {}", summary.raised_by, _at(summary.raised_at, "j M Y, H:i")),
        ),
    ]
    # Each optional row keeps its line when absent, as the template's did.
    conference = summary.conference
    rows += [
        _row(
            "Conference it arose from",
            format_html("{}, {}", conference["kind"], _at(conference["date"], "j M Y")),
        )
        if conference
        else "",
        _row("Concern about", summary.about_staff) if summary.about_staff else "",
        _row(
            "Categories",
            _joined(
                [
                    format_html("{}{}", c, "" if last else SafeString("<br>"))
                    for last, c in _marking_last(summary.categories)
                ]
            ),
        )
        if summary.categories
        else "",
        _pre_row("The issue", summary.summary),
        _pre_row("Wanted", summary.desired_outcome) if summary.desired_outcome else "",
        _row(
            "Formal process",
            format_html(
                "Started {}; must finish by {} ({} working days)",
                _at(summary.formal_started_at, "j M Y"),
                _at(summary.formal_cap_due_on, "j M Y"),
                summary.formal_cap_working_days,
            ),
        )
        if summary.formal_cap_due_on
        else "",
        _pre_row(summary.outcome_label, summary.outcome) if summary.outcome else "",
        _pre_row("What changed for the child", summary.outcome_for_child)
        if summary.outcome_for_child
        else "",
    ]
    return format_html(
        '<dl class="govuk-summary-list">\n  {}\n</dl>', SafeString("\n  ".join(rows))
    )


def _pre_row(key: str, value: Any) -> SafeString:
    """A summary row whose value keeps its line breaks (app-pre)."""
    return format_html(
        '<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{}</dt>'
        '<dd class="govuk-summary-list__value app-pre">{}</dd></div>',
        key,
        value,
    )


def _marking_last(items: list[Any]) -> list[tuple[bool, Any]]:
    """(is it the last?, item) for each item: `forloop.last`."""
    last = len(items) - 1
    return [(i == last, item) for i, item in enumerate(items)]


_AWAITING_THE_CHAIR = SafeString(
    ' <strong class="govuk-tag govuk-tag--blue">Awaiting the chair</strong>'
)
_OPEN = SafeString(' <strong class="govuk-tag">Open</strong>')
_BINDING = " app-clock--binding"
_LATE = SafeString('<strong class="govuk-tag govuk-tag--red">late</strong>')


def _included(name: str, row: StepRow) -> SafeString:
    """A part of the step still printed by its own template (a stage addressed to
    several people)."""
    return SafeString(get_template(f"escalations/{name}").render({"row": row}))


@register.simple_tag
def record_steps(step_rows: list[StepRow], heading_level: int | str | None = None) -> SafeString:
    """escalations/_steps.html: the "Steps" heading at `heading_level` (2 unless the page
    nests it deeper), then each step (`record_step`) a level below it."""
    level = heading_level or 2
    return format_html(
        '\n<h{} class="govuk-heading-{}">Steps</h{}>\n{}',
        level,
        "s" if int(level) > 2 else "m",
        level,
        _joined([record_step(row, int(level) + 1) for row in step_rows]),
    )


def record_step(row: StepRow, level: int) -> SafeString:
    """One step of escalations/_steps.html: a section headed at `level`, its summary
    list of what was asked, its clocks, the answer and what followed."""
    is_open = row.is_open
    lines: list[SafeString | str] = []
    if row.addressees:
        lines.append(_included("_addressees.html", row))
    else:
        lines.append(
            _row(
                "Asked",
                format_html(
                    "{} ({}), by {} on {}",
                    row.addressee_name,
                    row.addressee_title,
                    row.raised_by,
                    _at(row.raised_at, "j M Y, H:i"),
                ),
            )
        )
    lines.append(
        _row("Named by the policy, held by nobody", linebreaksbr(row.copies_unfilled, True))
        if row.copies_unfilled
        else ""
    )
    lines.append(
        _row(
            "Stages skipped",
            format_html(
                "{}{}",
                row.skipped_stage_names,
                format_html("<br>Reason: {}", row.skip_reason) if row.skip_reason else "",
            ),
        )
        if row.skipped_stage_names
        else ""
    )
    if row.due_on:
        deadline = format_html(
            "{} {}",
            _at(row.due_on, "j M Y"),
            format_html("(extended from {})", _at(row.extended_from, "j M Y"))
            if row.extended_from
            else format_html("({} from receipt)", row.timescale),
        )
    else:
        deadline = SafeString("No timescale set by the policy")
    stage_binds = row.binding == "stage"
    lines.append(
        _row(
            "Stage deadline",
            format_html(
                "{}{}",
                deadline,
                SafeString(" — <strong>this deadline applies</strong>") if stage_binds else "",
            ),
            _BINDING if stage_binds else "",
        )
    )
    lines.append(
        _row(
            "Timescale varied",
            format_html(
                "Timescale varied by the chair to {}: {}", row.timescale_words, row.timescale_reason
            ),
        )
        if row.timescale_reason
        else ""
    )
    if row.cap_due_on:
        cap_binds = row.binding == "cap"
        lines.append(
            _row(
                "Formal cap",
                format_html(
                    "{}{}",
                    _at(row.cap_due_on, "j M Y"),
                    SafeString(" — <strong>the cap is earlier, so it applies</strong>")
                    if cap_binds
                    else "",
                ),
                _BINDING if cap_binds else "",
            )
        )
    else:
        lines.append("")
    lines.append(
        _row(
            "Issue by",
            format_html(
                "{} — issued {}, {}",
                _at(row.issue_due_on, "D j M Y"),
                _at(row.raised_at, "D j M Y"),
                _LATE if row.was_issued_late else "on time",
            ),
        )
        if row.issue_due_on
        else ""
    )
    if is_open:
        clock = row.clock
        lines.append(
            _row(
                "Next" if clock.awaiting_chair else "Reply due",
                row.clock_html,
                _BINDING if clock.bites == "issue" else "",
            )
        )
    else:
        lines.append("")
    lines.append(
        _row(
            "Written statement",
            format_html(
                '<p class="govuk-body app-pre"><strong>The issue:</strong> {}</p>'
                '<p class="govuk-body app-pre"><strong>What has been done:</strong> {}</p>'
                '<p class="govuk-body app-pre"><strong>{}:</strong> {}</p>'
                '<p class="govuk-body-s">The earlier steps in this record go with the statement.</p>',
                row.statement_issue,
                row.statement_actions,
                row.statement_wanted_label,
                row.statement_wanted,
            ),
        )
        if row.statement_issue
        else ""
    )
    lines.append(_response(row))
    lines.append(
        _row("Last reminder", format_html("Sent {}", _at(row.chased_at, "j M Y, H:i")))
        if row.chased_at
        else ""
    )
    lines.append(
        _joined(
            [
                _row(
                    amendment.get_kind_display(),
                    format_html(
                        "{}, by {} on {}<br>Reason: {}",
                        capfirst(amendment.change_words),
                        amendment.made_by.display_name if amendment.made_by else "",
                        _at(amendment.made_at, "j M Y, H:i"),
                        amendment.reason,
                    ),
                )
                for amendment in row.amendments
            ]
        )
    )
    lines.append(
        _row(
            row.verdict_label,
            format_html("{} ({})", row.verdict_display, _at(row.verdict_at, "j M Y")),
        )
        if row.verdict
        else ""
    )
    return format_html(
        '\n<section class="app-step{}" aria-labelledby="step-{}">\n'
        '  <h{} class="govuk-heading-s" id="step-{}">{}. {}{}</h{}>\n'
        '  <dl class="govuk-summary-list govuk-summary-list--no-border">\n'
        "    {}\n"
        "  </dl>\n"
        "</section>\n",
        " app-step--open" if is_open else "",
        row.pk,
        level,
        row.pk,
        row.sequence,
        row.stage_name,
        _AWAITING_THE_CHAIR if row.is_awaiting_chair else _OPEN if is_open else "",
        level,
        SafeString("\n    ".join(lines)),
    )


def _response(row: StepRow) -> SafeString | str:
    """The answer: the several addressees' replies, the one response with its files, or
    that none came (a closed step)."""
    if row.addressees:
        return _included("_replies.html", row)
    if row.responded_at:
        files = ""
        if row.attachments:
            files = format_html(
                '<ul class="govuk-list">{}</ul>',
                _joined(
                    [
                        format_html(
                            '<li><a class="govuk-link" href="{}">{}</a> ({})</li>',
                            reverse("escalations:attachment", args=[a.pk]),
                            a.original_name,
                            filesizeformat(a.size),
                        )
                        for a in row.attachments
                    ]
                ),
            )
        return format_html(
            '<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">Response'
            '</dt><dd class="govuk-summary-list__value"><p class="govuk-body app-pre">{}</p>'
            '<p class="govuk-body-s">{}{}{}</p>\n      {}</dd></div>\n    ',
            row.response,
            _at(row.responded_at, "j M Y, H:i"),
            format_html(" · meeting on {}", _at(row.meeting_date, "j M Y"))
            if row.meeting_date
            else "",
            format_html(" · attended by {}", row.meeting_attendees)
            if row.meeting_attendees
            else "",
            files,
        )
    if not row.is_open:
        return _row("Response", "None received")
    return ""
