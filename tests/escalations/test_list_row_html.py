"""list_row_html() prints a row of a list of escalations exactly as escalations/_table.html's
loop printed it (the template it replaced, kept here as the reference)."""

from __future__ import annotations

from django.template import engines
from django.utils.html import format_html
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.selectors import list_row_html
from tests.strategies import references, urls, words

# The loop of escalations/_table.html as it was when list_row_html() replaced it.
TEMPLATE = engines["django"].from_string(
    """{% for row in rows %}
    <tr class="govuk-table__row">
      <td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="{{ row.url }}">{{ row.reference }}</a></td>
      <td class="govuk-table__cell">{{ row.children }}</td>
      <td class="govuk-table__cell">{{ row.state }}</td>
      <td class="govuk-table__cell">{{ row.stage }}</td>
      <td class="govuk-table__cell">{{ row.who }}</td>
      <td class="govuk-table__cell">{{ row.due }}</td>
    </tr>
  {% endfor %}"""
)

rows = st.fixed_dictionaries(
    {
        "url": urls,
        "reference": references,
        "children": words,
        "state": words,
        "stage": words,
        "who": words,
        "due": st.one_of(
            words,
            st.just(format_html('Fri 4 Dec <strong class="x">{}</strong>', "Overdue & <late>")),
        ),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, max_size=3))
def test_a_row_prints_as_the_template_printed_it(listed):
    printed = "".join(list_row_html(**row) for row in listed)

    assert printed == TEMPLATE.render({"rows": listed})
