"""`format_html`, as Django's but about three times faster.

Django's escapes each argument through `conditional_escape`, whose `escape` is wrapped by
`keep_lazy` (a check of every argument for a lazy string on every call): some 7 µs a
call, against 2 µs for the same text built here. The lists print a hundred or more of
these a page (a row, its clock, its actions). The text is the same: an argument with
`__html__` (a SafeString, a form's field) is taken as it says, anything else is
`str()`-ed and escaped as Django's `escape` does (`html.escape`, quotes included).
tests/config/test_html.py checks the two agree over many arguments.
"""

import html
from functools import cache
from typing import Any

from django.utils.safestring import SafeString


def _escaped(value: Any) -> str:
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def format_html(format_string: str, *args: Any, **kwargs: Any) -> SafeString:
    """django.utils.html.format_html: `format_string` with its arguments escaped."""
    return SafeString(
        format_string.format(
            *(_escaped(a) for a in args), **{k: _escaped(v) for k, v in kwargs.items()}
        )
    )


def table_row(url: str, reference: str, *cells: Any, indent: str) -> SafeString:
    """A row of a list's table: the reference linked (kept on one line) in the first
    cell, then each of `cells`; `indent` the row's own indentation in the page, its
    cells two spaces deeper. The lists print fifty or more: one format string a shape,
    filled once a row."""
    return format_html(_row_format(indent, len(cells)), url, reference, *cells)


@cache
def _row_format(indent: str, cells: int) -> str:
    inner = indent + "  "
    return (
        f'\n{indent}<tr class="govuk-table__row">\n'
        f'{inner}<td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="{{}}">{{}}</a></td>\n'
        + f'{inner}<td class="govuk-table__cell">{{}}</td>\n' * cells
        + f"{indent}</tr>\n  "
    )
