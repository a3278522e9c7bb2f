"""Playwright's event loop, kept out of the tests that do not use the browser.

Playwright's sync API marks its event loop as running in the main thread from
`sync_playwright().start()` until `stop()` (playwright/_impl/_sync_base.py sets it again
after every call), so for the rest of the session once the first browser test has run.
Two things change while it is marked:

- Django's `async_to_sync` refuses to run (the status page and the health views use it);
- asgiref keeps Django's database connections per thread only while no loop runs in the
  thread; with one marked running it keeps them per context, a second set. A test's
  transaction could then be opened on one connection and its body run on the other, in
  autocommit: the body's rows were committed and outlived the test.

So the mark is set aside after every test and put back only for the browser tests, which
all use the live server: their database work is committed and flushed whichever
connection does it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

_set_aside: list[asyncio.AbstractEventLoop] = []


def set_aside() -> None:
    loop = asyncio._get_running_loop()
    if loop is not None:
        asyncio._set_running_loop(None)
        _set_aside[:] = [loop]


def put_back() -> None:
    if _set_aside:
        asyncio._set_running_loop(_set_aside.pop())


@contextmanager
def put_back_for_now() -> Iterator[None]:
    """For Playwright's own calls made outside a browser test (closing it at the end)."""
    put_back()
    try:
        yield
    finally:
        set_aside()
