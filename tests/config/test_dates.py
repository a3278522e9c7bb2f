"""The templates' `date` filter (config/dates.py) prints exactly what Django's does."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.template import Context, Engine, engines
from hypothesis import given, settings
from hypothesis import strategies as st

from config.dates import _FAST

DJANGO_ONLY = Engine(libraries={})  # Django's builtins alone: its own `date` filter
# Those on the fast path, and others that go to Django's filter.
DATE_FORMATS = [*sorted(f for f, (_, timed) in _FAST.items() if not timed), "N j, Y", "Y-m-d"]
FORMATS = [*sorted(_FAST), "N j, Y", "Y-m-d", "jS F Y P"]
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
# Aware, in UTC, as the database returns them: the filter sees them in Europe/London.
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
)


def _both(value: object, fmt: str) -> tuple[str, str]:
    source = "{{ value|date:'" + fmt + "' }}"
    ours = engines["django"].from_string(source).render({"value": value})
    django = DJANGO_ONLY.from_string(source).render(Context({"value": value}))
    return ours, django


@settings(max_examples=300, deadline=None)
@given(day=DATES, fmt=st.sampled_from(DATE_FORMATS))
def test_a_date_prints_as_django_prints_it(day, fmt):
    ours, django = _both(day, fmt)
    assert ours == django


@settings(max_examples=300, deadline=None)
@given(moment=MOMENTS, fmt=st.sampled_from(FORMATS))
def test_a_moment_prints_in_london_time_as_django_prints_it(moment, fmt):
    ours, django = _both(moment, fmt)
    assert ours == django


def test_the_clocks_going_back_print_as_django_prints_them():
    # 25 Oct 2026, 01:30 happens twice in London: 00:30 and 01:30 UTC.
    for minutes in range(0, 180, 15):
        moment = datetime(2026, 10, 25, 0, 0, tzinfo=UTC) + timedelta(minutes=minutes)
        ours, django = _both(moment, "j M Y, H:i")
        assert ours == django


@pytest.mark.parametrize("value", [None, "", "not a date", 3])
def test_what_is_not_a_date_prints_as_django_prints_it(value):
    ours, django = _both(value, "j M Y")
    assert ours == django


def test_the_service_is_in_english_as_the_fast_path_assumes():
    assert django_settings.LANGUAGE_CODE == "en-gb"
    assert "django.middleware.locale.LocaleMiddleware" not in django_settings.MIDDLEWARE


def test_a_time_format_given_a_date_is_refused_as_django_refuses_it():
    with pytest.raises(TypeError):
        _both(date(2026, 3, 5), "j M Y, H:i")
