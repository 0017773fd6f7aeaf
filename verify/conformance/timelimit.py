"""A wall-clock limit on one call of someone else's function.

:func:`limit` arms ``SIGALRM`` (``signal.setitimer``) for the duration of a ``with`` block; when the time
runs out the handler raises :class:`CallTimeout` in the main thread, which interrupts Python code and
blocking sleeps. It is a :class:`BaseException` so that a candidate's own ``except Exception`` cannot
swallow it. Limits: a C routine that does not check for signals (one long BLAS call) is interrupted only
when it returns; off the main thread, or where ``SIGALRM`` does not exist (Windows), there is no limit and
:func:`available` says so.
"""
from __future__ import annotations

import contextlib
import signal
import threading


class CallTimeout(BaseException):
    """The call ran past its limit."""


def available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def limit(seconds: float | None):
    """Raise :class:`CallTimeout` inside the block after ``seconds`` (``None`` or 0: no limit)."""
    if not seconds or not available():
        yield
        return

    def _alarm(signum, frame):
        raise CallTimeout(f"did not return within the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
