"""A wall-clock limit on one call of someone else's function.

:func:`limit` arms ``SIGALRM`` (``signal.setitimer``) for the duration of a ``with`` block; when the time
runs out the handler raises :class:`CallTimeout` in the main thread, which interrupts Python code and
blocking sleeps. It is a :class:`BaseException` so that a candidate's own ``except Exception`` cannot
swallow it. A candidate may take ``SIGALRM`` over (its own handler, ``SIG_IGN``, a cancelled timer): a watchdog
thread then sends ``SIGINT`` to the main thread shortly after the limit, and again every second until the block
is left, and the ``KeyboardInterrupt`` it causes becomes the same :class:`CallTimeout` (a Ctrl-C of the user's
own stays a ``KeyboardInterrupt``). Limits: a C routine that does not check for signals (one long BLAS
call) is interrupted only when it returns; a candidate that also ignores ``SIGINT`` is not stopped; off
the main thread, or where ``SIGALRM`` does not exist (Windows), there is no limit and :func:`available` says so.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time

_GRACE = 0.5  # seconds after the limit before the watchdog steps in (the alarm normally comes first)


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

    def _interrupt(signum, frame):
        if watchdog.fired or before_int is signal.default_int_handler or before_int == signal.SIG_DFL:
            raise KeyboardInterrupt
        if callable(before_int):
            before_int(signum, frame)  # someone else's handler; SIG_IGN: nothing

    watchdog = _Watchdog(seconds + _GRACE)
    before_int = signal.signal(signal.SIGINT, _interrupt)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    watchdog.start()
    try:
        yield
    except KeyboardInterrupt:
        if not watchdog.fired:
            raise
        raise CallTimeout(f"did not return within the time limit of {seconds:g} s") from None
    finally:
        watchdog.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        signal.signal(signal.SIGINT, before_int)


class _Watchdog(threading.Thread):
    """Once started, sends SIGINT to the main thread after ``seconds`` and then every second, until :meth:`stop`."""

    def __init__(self, seconds: float):
        super().__init__(daemon=True, name="attnreg-timelimit")
        self.seconds, self.done, self.fired = seconds, threading.Event(), False
        self.main = threading.main_thread().ident

    def run(self) -> None:
        wait = self.seconds
        while not self.done.wait(wait):
            self.fired, wait = True, 1.0
            signal.pthread_kill(self.main, signal.SIGINT)

    def stop(self) -> None:
        self.done.set()
        try:  # a SIGINT sent just before the block was left is absorbed here, not raised later
            self.join()
            if self.fired:
                time.sleep(0.05)
        except KeyboardInterrupt:
            if not self.fired:
                raise
