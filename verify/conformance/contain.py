"""Keep one call of someone else's function from writing into our output or ending our process.

:func:`contained` is a context manager around the call, outside :func:`.timelimit.limit` (so the
watchdog is stopped before anything here is undone):

* file descriptors 1 and 2 point at one temporary file for the call (``os.dup2``; Python's and the C
  library's buffers are flushed on both sides of it), so what the function writes below Python — a
  ``os.write(1, …)``, a C extension's ``printf`` — is read back into ``said`` instead of landing between
  our report's lines; Python-level ``print`` is redirected by the caller (``contextlib.redirect_stdout``);
  the whole process's fds are redirected, so another thread's output during the call is caught too.
  Where fd 1 or 2 is closed nothing is redirected.
* ``os._exit`` is replaced for the call by a stand-in that raises :class:`TargetExit` (a ``SystemExit``,
  a failed case for the caller) instead of ending the process with our exit status — ``os._exit(0)``
  would otherwise end ``check-impl`` with 0, "pass", and no verdict. In a forked child (``os.getpid()``
  differs; ``multiprocessing`` children end with ``os._exit``) the stand-in calls the real one. It sees
  only calls through the ``os`` module's attribute: a reference taken before the call (``from os
  import _exit``), ``posix._exit``, C-level ``exit()``/``abort()`` and signals still end the process —
  containing those takes a child process per call, which :mod:`.runner` does not do (it hands the
  function the caller's arrays, on the caller's device).
* Known limits of containing in-process (tests/test_contain_attack.py, 3 and 4): a function that closes file
  descriptors it does not own (``os.closerange(3, …)``) can close the saved copies of ours, and then our output
  is lost; a thread the function starts and leaves running is outside the call (its output lands in ours, and its
  later ``os._exit`` is the real one).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import os
import sys
import tempfile
from typing import NoReturn


class TargetExit(SystemExit):
    """The function called ``os._exit``."""


def _flush() -> None:
    for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if f is not None:
                f.flush()
    with contextlib.suppress(Exception):  # C stdio buffers (printf of an extension), where libc is at hand
        _libc().fflush(None)


@functools.cache
def _libc():
    return ctypes.CDLL(None)


@contextlib.contextmanager
def contained(said: io.StringIO):
    """Run the block with fds 1, 2 sent to a temporary file (appended to ``said`` afterwards) and
    ``os._exit`` raising :class:`TargetExit`; both undone on the way out. Yields a text stream on that file
    for the caller's ``redirect_stdout`` / ``redirect_stderr``: a real file, so ``sys.stdout.buffer`` and
    ``fileno()`` work in the function (an ``io.StringIO`` has neither: a correct function writing bytes
    failed every case), and the function closing it closes only the stream, not ``said``. A forked child
    that returns from the block ends there (with status 0): it must not run the rest of our program (a
    target forking once printed two reports)."""
    real_exit, pid = os._exit, os.getpid()

    def _exit(status: int) -> NoReturn:
        if os.getpid() != pid:
            real_exit(status)
        raise TargetExit(f"the function called os._exit({status})")

    saved: list[int] = []
    with tempfile.TemporaryFile() as tmp:
        stream = open(tmp.fileno(), "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        try:
            _flush()
            with contextlib.suppress(OSError):
                saved.append(os.dup(1))
                saved.append(os.dup(2))
                os.dup2(tmp.fileno(), 1)
                os.dup2(tmp.fileno(), 2)
            os._exit = _exit
            yield stream
        finally:
            if os.getpid() != pid:  # a forked child returning from the function
                with contextlib.suppress(Exception):
                    stream.flush()
                real_exit(0)
            os._exit = real_exit
            with contextlib.suppress(Exception):  # closed by the function: nothing buffered to lose
                stream.flush()
            if len(saved) == 2:
                _flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            with contextlib.suppress(Exception):
                stream.close()
            tmp.seek(0)
            said.write(tmp.read(2000).decode("utf-8", "replace"))
