r"""One :class:`concurrent.futures.Executor` for independent tasks (branch-and-bound boxes, search points).

* ``workers = 1``: no executor: tasks run one after another in this process, no start-up cost;
* ``workers = N > 1``: this process and ``N − 1`` local processes, forked at once while this process has
  no other threads (so no lock is inherited held; a later fork could not promise that), elsewhere
  ``spawn``ed. ``caller_works`` tells the caller to run tasks itself while the executor runs others: one
  process fewer to start, and the caller's warm state does work instead of waiting;
* ``scheduler = "tcp://host:8786"``: a Dask cluster, through ``distributed.Client(ADDRESS).get_executor()``
  (``pip install "attnreg[dask]"``). Workers must have attnreg installed at the same version.

Callers must make results independent of the executor (fixed task lists, results in task order);
``slots`` says how many tasks run at once (the caller included when ``caller_works``), for cutting work
into chunks only.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass


class ExecutorError(ValueError):
    """The executor cannot be made (bad worker count, dask missing, scheduler unreachable)."""


@dataclass
class Pool:
    executor: object  # a concurrent.futures.Executor, or None: everything runs in the caller
    slots: int  # tasks that run at once, the caller's included when caller_works
    kind: str
    caller_works: bool = False  # the caller runs tasks too (it is one of the slots)
    lost: bool = False  # a worker died: the caller ran its tasks (callers that share work set this)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def executor(workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0):
    """Yield a :class:`Pool`; everything it started is shut down on exit."""
    if scheduler is not None:
        if not scheduler.strip():
            raise ExecutorError("--scheduler needs an address, e.g. tcp://host:8786")
        try:
            import distributed  # deferred: dask, an optional dependency
        except ImportError:
            raise ExecutorError("--scheduler needs dask: pip install 'attnreg[dask]'") from None
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except Exception as exc:  # any failure to connect means the same to the user: a bad address (ValueError),
            # a peer that is no scheduler (the client then tried to allocate exabytes: MemoryError), a refusal
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} ({exc.__class__.__name__})") from None
        try:
            slots = max(1, sum(client.nthreads().values()))
            yield Pool(client.get_executor(), slots, f"dask {scheduler} ({slots} threads)")
        finally:
            client.close()
        return
    workers = cores() if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ExecutorError(f"--workers must be a positive integer, got {workers!r}")
    if workers > OVERSUBSCRIBE * cores():
        raise ExecutorError(f"--workers {workers} is more than {OVERSUBSCRIBE} per core ({cores()} cores here): every "
                            "worker is a process started at once, and more cannot run at the same time")
    if workers == 1:
        yield Pool(None, 1, "1 worker (this process)", caller_works=True)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and _threads() == 1 else "spawn"
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context(method)) as ex:
        if method == "fork":
            ex.submit(int)  # fork every worker now (submit forks them), before any progress thread exists
        yield Pool(ex, workers, f"{workers} workers (this process and {workers - 1} more, {method})",
                   caller_works=True)


OVERSUBSCRIBE = 4  # at most this many workers per core: all are forked at the start, and a huge count is a fork bomb

THREADED = ("jax", "torch", "tensorflow")  # start native thread pools at use, invisible to ``threading``


def _threads() -> int:
    """Python threads, plus one when a library that runs native thread pools is loaded: a fork while
    those run may inherit a held lock (jax warns of a deadlock). Idle BLAS threads are fork-safe."""
    return threading.active_count() + any(name in sys.modules for name in THREADED)
