"""config.html.format_html prints what Django's format_html prints, for any arguments."""

from __future__ import annotations

import pytest
from django.utils import html as django_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from config.html import format_html

# Anything a page passes: text with markup characters, text marked safe, numbers, None,
# a lazy (translated) string.
text = st.text(alphabet=st.sampled_from(list("ab <>&\"'é—\n{}")), max_size=12)
arguments = st.one_of(
    text,
    text.map(mark_safe),
    st.integers(),
    st.none(),
    st.just(gettext_lazy("Escalation & <review>")),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(arguments, min_size=1, max_size=4))
def test_positional_arguments_print_as_djangos(args):
    template = "<p>" + "{}|" * len(args) + "</p>"

    assert format_html(template, *args) == django_html.format_html(template, *args)


@settings(max_examples=200, deadline=None)
@given(arguments, arguments)
def test_named_arguments_print_as_djangos(first, second):
    template = '<a href="{first}">{second}</a>'

    assert format_html(template, first=first, second=second) == django_html.format_html(
        template, first=first, second=second
    )


def test_the_result_is_safe_to_print_again():
    printed = format_html("<b>{}</b>", "<i>")

    assert isinstance(printed, SafeString)
    assert format_html("<p>{}</p>", printed) == "<p><b>&lt;i&gt;</b></p>"


@pytest.mark.parametrize("value", ["<script>", "a & b", "\"quoted\" 'single'"])
def test_markup_in_an_argument_is_escaped(value):
    assert format_html("{}", value) == django_html.escape(value)
