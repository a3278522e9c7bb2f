"""todo_row_html() prints a To do row exactly as escalations/todo.html's row, the template
it replaced, printed it (kept here as the reference)."""

from __future__ import annotations

from django.template import engines
from django.utils.html import format_html
from django.utils.safestring import SafeString
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.selectors import todo_row_html
from tests.strategies import references, urls, words

# The loop of escalations/todo.html's table as it was when todo_row_html() replaced it.
TEMPLATE = engines["django"].from_string(
    """{% for row in rows %}
    <tr class="govuk-table__row">
      <td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="{{ row.url }}">{{ row.reference }}</a></td>
      <td class="govuk-table__cell">{{ row.children }}</td>
      <td class="govuk-table__cell">{{ row.stage }}{% if row.step %}<br><span class="govuk-body-s">{{ row.addressee }}</span>{% endif %}</td>
      <td class="govuk-table__cell">{% if row.overdue %}<strong class="govuk-tag govuk-tag--red">Overdue</strong><br>{% endif %}{{ row.when }}</td>
      <td class="govuk-table__cell"><ul class="govuk-list govuk-!-margin-bottom-0">{{ row.actions }}</ul></td>
    </tr>
  {% endfor %}"""
)

rows = st.fixed_dictionaries(
    {
        "url": urls,
        "reference": references,
        "children": words,
        "stage": words,
        "step": st.booleans(),
        "addressee": words,
        "overdue": st.booleans(),
        "when": words,
        "actions": st.sampled_from(
            [
                SafeString(""),
                format_html(
                    '<li><a class="govuk-link" href="{}">{}</a></li>', "/x/", "Open & <go>"
                ),
            ]
        ),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, max_size=3))
def test_a_row_prints_as_the_template_printed_it(listed):
    printed = "".join(
        todo_row_html(
            url=row["url"],
            reference=row["reference"],
            children=row["children"],
            stage=row["stage"],
            has_step=row["step"],
            addressee=row["addressee"],
            overdue=row["overdue"],
            when=row["when"],
            actions=row["actions"],
        )
        for row in listed
    )

    assert printed == TEMPLATE.render({"rows": listed})
