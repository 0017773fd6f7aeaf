r"""One :class:`concurrent.futures.Executor` for independent tasks (branch-and-bound boxes, search points).

* ``workers = 1``: tasks run one after another in this process (a one-thread executor), no start-up cost;
* ``workers = N > 1``: ``N`` local processes, forked at once while this process has no other threads (so
  no lock is inherited held; a later fork could not promise that), elsewhere ``spawn``ed;
* ``scheduler = "tcp://host:8786"``: a Dask cluster, through ``distributed.Client(ADDRESS).get_executor()``
  (``pip install "attnreg[dask]"``). Workers must have attnreg installed at the same version.

Callers must make results independent of the executor (fixed task lists, order-preserving ``map``);
``slots`` says how many tasks run at once, for cutting work into chunks only.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass


class ExecutorError(ValueError):
    """The executor cannot be made (bad worker count, dask missing, scheduler unreachable)."""


@dataclass
class Pool:
    executor: object  # a concurrent.futures.Executor
    slots: int
    kind: str


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def executor(workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0):
    """Yield a :class:`Pool`; everything it started is shut down on exit."""
    if scheduler:
        try:
            import distributed  # deferred: dask, an optional dependency
        except ImportError:
            raise ExecutorError("--scheduler needs dask: pip install 'attnreg[dask]'") from None
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
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
    if workers == 1:
        with ThreadPoolExecutor(max_workers=1) as ex:
            yield Pool(ex, 1, "1 worker (this process)")
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and _threads() == 1 else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as ex:
        ex.submit(int).result()  # start every worker now, before any progress thread exists
        yield Pool(ex, workers, f"{workers} local processes")


THREADED = ("jax", "torch", "tensorflow")  # start native thread pools at use, invisible to ``threading``


def _threads() -> int:
    """Python threads, plus one when a library that runs native thread pools is loaded: a fork while
    those run may inherit a held lock (jax warns of a deadlock). Idle BLAS threads are fork-safe."""
    return threading.active_count() + any(name in sys.modules for name in THREADED)
