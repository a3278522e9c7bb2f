"""The tracker's rows and its filters' options, printed in Python (reports.selectors
tracker_row_html, options_html), exactly as reports/tracker.html's loops printed them
(those loops are kept here, as the reference)."""

from __future__ import annotations

from django.template import engines
from django.utils.html import format_html
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.selectors import options_html, tracker_row_html
from tests.strategies import references, urls, words

ROWS = engines["django"].from_string(
    """{% for row in rows %}
  <tr class="govuk-table__row">
    <td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="{{ row.url }}">{{ row.reference }}</a></td>
    <td class="govuk-table__cell">{{ row.raised }}</td>
    <td class="govuk-table__cell">{{ row.children }}</td>
    <td class="govuk-table__cell">{{ row.status }}</td>
    <td class="govuk-table__cell">{{ row.stage }}</td>
    <td class="govuk-table__cell">{{ row.chair }}</td>
    <td class="govuk-table__cell">{{ row.due }}</td>
  </tr>
  {% endfor %}"""
)
OPTIONS = engines["django"].from_string(
    """{% for o in options %}<option value="{{ o.value }}"{{ o.selected }}>{{ o.label }}</option>{% endfor %}"""
)

rows = st.fixed_dictionaries(
    {
        "url": urls,
        "reference": references,
        "raised": words,
        "children": words,
        "status": words,
        "stage": words,
        "chair": words,
        "due": st.one_of(words, st.just(format_html("<strong>{}</strong>", "Overdue & <late>"))),
    }
)
options = st.fixed_dictionaries(
    {
        "value": st.one_of(words, st.integers(1, 999).map(str)),
        "label": words,
        "selected": st.sampled_from(["", " selected"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, max_size=3))
def test_a_row_prints_as_the_template_printed_it(listed):
    printed = "".join(tracker_row_html(row) for row in listed)

    assert printed == ROWS.render({"rows": listed})


@settings(max_examples=300, deadline=None)
@given(st.lists(options, max_size=4))
def test_options_print_as_the_template_printed_them(listed):
    assert options_html(listed) == OPTIONS.render({"options": listed})
