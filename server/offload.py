"""Keeping the web process's event loop free. Under eventlet (ASYNC_MODE) one greenlet that computes
for a second stalls every other request, socket and /healthz for that second. CPU-bound work that
can take longer than ~100 ms runs through `off_loop` (a real OS thread: the hub goes on switching
greenlets while the thread holds the GIL in 5 ms slices), and a long loop over rows calls
`cooperate()` now and then to give the hub a turn. In a process eventlet has not patched (workers,
tests with plain threads) both simply run in place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _patched() -> bool:
    if "eventlet" not in sys.modules:
        return False
    from eventlet import patcher

    return bool(patcher.is_monkey_patched("socket"))


def off_loop(func: Callable[..., T], *args: Any) -> T:
    if _patched():
        from eventlet import tpool

        return tpool.execute(func, *args)
    return func(*args)


def cooperate() -> None:
    """Lets other greenlets run (a no-op outside eventlet)."""
    if _patched():
        import eventlet

        eventlet.sleep(0)


def os_semaphore(value: int):
    """A semaphore of real OS threads (the work `off_loop` runs), also in a patched process: it
    bounds how much memory- or CPU-hungry work runs at once in the thread pool."""
    if _patched():
        from eventlet import patcher

        return patcher.original("threading").BoundedSemaphore(value)
    import threading

    return threading.BoundedSemaphore(value)
