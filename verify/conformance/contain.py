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
* Known limits of containing in-process (tests/test_contain_attack.py 3 and 4, tests/test_contain_attack2.py 2
  and 6): a function that closes file descriptors it does not own (``os.closerange(3, …)``) can close the saved
  copies of ours, and then our output is lost; one that closes fd 1 and opens a file gets fd 1, which the restore
  points back at our stdout; a thread the function starts and leaves running is outside the call (its output lands
  in ours, and its later ``os._exit`` is the real one); so are the ``atexit`` handlers it registers, which run
  after our report (their output follows it, and an ``os._exit`` there sets our exit status).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import os
import sys
import tempfile
import traceback
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


class _Stream(io.TextIOWrapper):
    """The text stream the function sees as ``sys.stdout`` / ``sys.stderr``: its ``fileno()`` is fd 1, which points at
    the temporary file during the call (``faulthandler.enable()``, ``os.fdopen(os.dup(sys.stdout.fileno()))`` work)."""

    def fileno(self) -> int:
        return 1


class _Kept(io.BytesIO):
    """A buffer the function cannot close: ``sys.stdout.close()`` in it closes the text stream, not our copy."""

    def close(self) -> None:
        pass


def _child_exit(real_exit, saved: list[int], exc: BaseException | None) -> NoReturn:
    """End a forked child that came back out of the function with the status it would have had: 0, a
    ``SystemExit``'s code, or 1 with the traceback on the real stderr for another exception."""
    status = 0
    if isinstance(exc, SystemExit):
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
    elif exc is not None:
        status = 1
        with contextlib.suppress(Exception):
            text = "".join(traceback.format_exception(exc))
            os.write(saved[1] if len(saved) == 2 else 2, text.encode("utf-8", "replace"))
    real_exit(status)


@contextlib.contextmanager
def contained(said: io.StringIO):
    """Run the block with fds 1, 2 sent to a temporary file and ``os._exit`` raising :class:`TargetExit`; both
    undone on the way out, what was written appended to ``said``. Yields a text stream for the caller's
    ``redirect_stdout`` / ``redirect_stderr``: it has a ``buffer`` (an ``io.StringIO`` has none: a correct
    function writing bytes failed every case), lives in memory and is never closed by us, so a function that
    closes it, or the file descriptor behind it, or keeps it for a later call, touches nothing of ours (a stream
    on the temporary file's descriptor was: closing it was blamed on this module, and its number, reused by the
    function's own file, was read and closed here). A forked child that comes back out of the block ends there,
    with the status it would have had (:func:`_child_exit`): it must not run the rest of our program (a target
    forking once printed two reports)."""
    real_exit, pid, during = os._exit, os.getpid(), [True]

    def _exit(status: int) -> NoReturn:  # kept by the function (atexit.register(os._exit, 0)): the real one after
        if os.getpid() != pid or not during[0]:
            real_exit(status)
        raise TargetExit(f"the function called os._exit({status})")

    saved: list[int] = []
    kept = _Kept()
    stream = _Stream(kept, encoding="utf-8", errors="replace", write_through=True)
    with tempfile.TemporaryFile() as tmp:
        try:
            _flush()
            with contextlib.suppress(OSError):
                saved.append(os.dup(1))
                saved.append(os.dup(2))
                os.dup2(tmp.fileno(), 1)
                os.dup2(tmp.fileno(), 2)
            os._exit = _exit
            try:
                yield stream
            except BaseException as exc:
                if os.getpid() != pid:
                    _child_exit(real_exit, saved, exc)
                raise
            if os.getpid() != pid:
                _child_exit(real_exit, saved, None)
        finally:
            os._exit, during[0] = real_exit, False
            with contextlib.suppress(Exception):  # detached or closed by the function: what it wrote is in kept
                stream.flush()
            if len(saved) == 2:
                _flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            said.write(tmp.read(2000).decode("utf-8", "replace"))
            said.write(kept.getvalue()[:2000].decode("utf-8", "replace"))
