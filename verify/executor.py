r"""One :class:`concurrent.futures.Executor` for independent tasks (branch-and-bound boxes, search points).

* ``workers = 1``: no executor: tasks run one after another in this process, no start-up cost;
* ``workers = N > 1``: this process and ``N − 1`` local processes, all forked at once when the pool starts
  if this process has no other threads then (so no lock is inherited held), elsewhere ``spawn``ed.
  ``caller_works`` tells the caller to run tasks itself while the executor runs others: one process fewer
  to start, and the caller's warm state does work instead of waiting. The pool starts only once the caller
  has done :data:`START_AFTER` seconds of work alone (:func:`share`): a run shorter than that starts no
  process and pays no fork (not promised faster, only not slowed by a start-up); callers that show
  progress must not start a thread (a thread alive at the start means ``spawn``);
* ``scheduler = "tcp://host:8786"``: a Dask cluster, through ``distributed.Client(ADDRESS).get_executor()``
  (``pip install "attnreg[dask]"``). Workers must have attnreg installed at the same version.

Callers must make results independent of the executor (fixed task lists, results in task order;
:func:`share` and :func:`mapper` keep the order); ``slots`` says how many tasks run at once (the caller
included when ``caller_works``), for cutting work into chunks only.
"""
from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor


class ExecutorError(ValueError):
    """The executor cannot be made (bad worker count, dask missing, scheduler unreachable)."""


class Pool:
    """Where a run's parts go. ``executor`` is a :class:`concurrent.futures.Executor` or None (everything runs
    in the caller); a local pool may be *deferred*: ``start`` makes its executor the first time
    :func:`share` finds that the caller alone has done ``start_after`` seconds of work and at least two parts
    are left, so a run that ends sooner starts no process at all (and pays no start-up)."""

    def __init__(self, executor, slots: int, kind: str, caller_works: bool = False, lost: bool = False,
                 start=None, start_after: float = 0.0):
        self._executor, self._start = executor, start
        self.slots = slots  # tasks that run at once, the caller's included when caller_works
        self._kind = kind
        self.caller_works = caller_works  # the caller runs tasks too (it is one of the slots)
        self.lost = lost  # a worker died: the caller ran its tasks (callers that share work set this)
        self.start_after = start_after  # seconds of work the caller does alone before a deferred pool starts
        self.alone = 0.0  # seconds of work the caller did before the pool started

    @property
    def started(self) -> bool:
        return self._executor is not None

    @property
    def deferred(self) -> bool:
        """A local pool not started yet."""
        return self._executor is None and self._start is not None

    @property
    def executor(self):
        """The executor, started now if it was deferred (None: no executor at all)."""
        if self._executor is None and self._start is not None:
            self._executor, self._kind = self._start()
            self._start = None
        return self._executor

    @property
    def kind(self) -> str:
        if self._executor is None and self._start is not None:
            return (f"{self.slots} workers, of which only this process ran (the work ended before it had done "
                    f"{self.start_after * 1e3:g} ms of it alone, when the others would have started)")
        return self._kind


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# seconds of work alone before a local pool starts: about what starting and stopping one forked worker costs
# this process in CPU (ski rental: rent until the rent paid equals the price). Measured on the loaded 2-core VM
# (median of 15): ProcessPoolExecutor() 1.5 ms, the fork and its manager thread 5.0 ms, the first round trip
# 1.9 ms, the shut-down 1.1 ms, 9.5 ms in all; its wall time there is 3x that (the threads wait for a core).
START_AFTER = 0.01


@contextlib.contextmanager
def executor(workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0,
             start_after: float | None = None):
    """Yield a :class:`Pool`; everything it started is shut down on exit. A local pool of ``workers > 1``
    starts its processes only once this process has done ``start_after`` seconds of work alone (default
    :data:`START_AFTER`; 0: at the first work shared), see :func:`share`."""
    if scheduler is not None:
        if not scheduler.strip():
            raise ExecutorError("--scheduler needs an address, e.g. tcp://host:8786")
        try:
            import distributed  # deferred: dask, an optional dependency
        except ImportError:
            raise ExecutorError("--scheduler needs dask: pip install 'attnreg[dask]'") from None
        _probe(scheduler, timeout)
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except Exception as exc:  # any failure to connect means the same to the user: a bad address (ValueError),
            # a peer that is no scheduler (the client then tried to allocate exabytes: MemoryError), a refusal
            why = "it answered, but not as a Dask scheduler" if isinstance(exc, MemoryError) else \
                exc.__class__.__name__
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} ({why})") from None
        try:
            try:  # a scheduler without workers would take the tasks and never run them
                client.wait_for_workers(1, timeout=timeout)
            except Exception:  # noqa: BLE001 - dask's TimeoutError, or the scheduler went away
                raise ExecutorError(f"the Dask scheduler at {scheduler} has no workers (none joined within "
                                    f"{timeout:g} s)") from None
            slots = max(1, sum(client.nthreads().values()))
            yield Pool(client.get_executor(), slots, f"dask {scheduler} ({slots} threads)")
        finally:
            client.close()
        return
    workers = cores() if workers is None else workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ExecutorError(f"--workers must be a positive integer, got {workers!r}")
    if workers > OVERSUBSCRIBE * cores():
        raise ExecutorError(f"--workers {workers} is more than {OVERSUBSCRIBE} per core ({cores()} cores here): every "
                            "worker is a process started at once, and more cannot run at the same time")
    if workers == 1:
        yield Pool(None, 1, "1 worker (this process)", caller_works=True)
        return
    with contextlib.ExitStack() as stack:

        def start():
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() and _threads() == 1 else "spawn"
            ex = ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context(method),
                                     initializer=_worker_init, initargs=(os.getpid(),))
            stack.push(functools.partial(_close, ex))
            if method == "fork":
                ex.submit(int)  # fork every worker now (submit forks them), while no other thread exists
            return ex, f"{workers} workers (this process and {workers - 1} more, {method})"

        yield Pool(None, workers, "", caller_works=True, start=start,
                   start_after=START_AFTER if start_after is None else start_after)


def share(pool, fn, parts) -> list:
    """``[fn(part) for part in parts]`` on ``pool`` (None: here), in part order; ``fn`` is picklable (a top-level
    function or a partial of one) and pure, so who runs a part does not change its result.

    With ``pool.caller_works`` the executor takes parts from the front (one queued behind each running one)
    and this process from the back, until none is left. A deferred pool is started only while at least two
    parts are left and once this process has done ``pool.start_after`` seconds of work alone: a run with
    less work than that pays nothing for the pool, and one with more pays the start once (ski rental: at
    most the start-up cost is lost, on a run that ends just after it). If the executor breaks (a worker
    died), its parts run here and ``pool.lost`` is set. Without ``caller_works`` (a Dask cluster) even a
    single part goes to the executor: the user asked for the cluster."""
    parts = list(parts)
    if pool is None or not (pool.started or pool.deferred) or (len(parts) < 2 and pool.caller_works):
        return [fn(part) for part in parts]
    if not pool.caller_works:
        return list(pool.executor.map(fn, parts))
    results: list = [None] * len(parts)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH)  # the executor's threads here pass parts on only while they hold the GIL
    remote = pool.slots - 1
    broken = False
    try:
        front, back, flying = 0, len(parts), {}
        while front < back or flying:
            if not pool.started and back - front >= 2 and pool.alone >= pool.start_after:
                pool.executor  # noqa: B018 - starts the deferred pool
            while pool.started and not broken and front < back - 1 and len(flying) < 2 * remote:
                try:
                    flying[pool.executor.submit(fn, parts[front])] = front
                except futures.BrokenExecutor:
                    broken = True
                    break
                front += 1
            if front < back:
                back -= 1
                clock = time.perf_counter()
                results[back] = fn(parts[back])
                if not pool.started:
                    pool.alone += time.perf_counter() - clock
                ready = [f for f in flying if f.done()]
            else:
                ready, _ = futures.wait(flying, return_when=futures.FIRST_COMPLETED)
            for f in ready:
                j = flying.pop(f)
                try:
                    results[j] = f.result()
                except futures.BrokenExecutor:
                    broken = True
                    results[j] = fn(parts[j])
    finally:
        sys.setswitchinterval(switch)
    pool.lost = pool.lost or broken
    return results


SWITCH = 2e-4  # seconds: how long this process's computing thread keeps the GIL from the executor's threads


def mapper(pool, parts_per_slot: int = 1):
    """A ``map(fn, items)`` for ``pool`` (None: the builtin): the items cut into about ``parts_per_slot``
    × ``pool.slots`` interleaved parts, run through :func:`share`, results in item order."""
    if pool is None or (pool.slots == 1 and pool.caller_works):  # a cluster of one thread is still used
        return map

    def map_fn(fn, items):
        items = list(items)
        n = min(len(items), parts_per_slot * pool.slots)
        if n < 2 and pool.caller_works:
            return [fn(item) for item in items]
        out: list = [None] * len(items)
        for j, res in enumerate(share(pool, functools.partial(each, fn), [items[j::n] for j in range(n)])):
            out[j::n] = res
        return out

    return map_fn


def each(fn, part) -> list:
    return [fn(item) for item in part]


OVERSUBSCRIBE = 4  # at most this many workers per core: all are forked at once, and a huge count is a fork bomb

THREADED = ("jax", "torch", "tensorflow")  # start native thread pools at use, invisible to ``threading``


def _threads() -> int:
    """Python threads, plus one when a library that runs native thread pools is loaded: a fork while
    those run may inherit a held lock (jax warns of a deadlock). Idle BLAS threads are fork-safe."""
    return threading.active_count() + any(name in sys.modules for name in THREADED)


def _probe(scheduler: str, timeout: float) -> None:
    """Refuse a ``tcp://host:port`` nobody listens on at once (the Dask client retries for ``timeout`` seconds
    before it gives up on a refused port); other schemes are left to the client."""
    scheme, sep, rest = scheduler.strip().partition("://")
    if not sep or scheme != "tcp":
        return
    host, colon, port = rest.rstrip("/").rpartition(":")
    host = host.strip("[]") if colon else rest
    try:
        number = int(port) if colon else 8786  # dask's default port
        if not host or not 0 < number < 65536:
            raise ValueError(f"{scheduler} is not a host:port")
        socket.create_connection((host, number), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        why = ("not a host:port address" if isinstance(exc, ValueError) else exc.strerror or exc.__class__.__name__)
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} ({why})") from None


def _worker_init(parent: int) -> None:
    """In each local worker: die with the process that started it (Linux ``PR_SET_PDEATHSIG``; a SIGKILL or
    SIGTERM of the main process otherwise leaves the workers blocked on their queue for ever), and leave
    interrupts to it (a Ctrl-C reaches the whole process group; the main process stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)  # not the CLI's handler, inherited through fork
    if sys.platform.startswith("linux"):
        import ctypes  # deferred: only a Linux worker needs it

        with contextlib.suppress(OSError, AttributeError):
            # 1 = PR_SET_PDEATHSIG; it fires when the *thread* that forked exits: a pool lives inside one
            # ``with executor(...)`` block of one thread, which outlives it
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:  # the main process died before the prctl: nobody will stop this one
        os._exit(1)


def _close(ex, exc_type, exc, tb) -> bool:
    """Shut the local pool down; after an exception (Ctrl-C, SIGTERM through the CLI, a failure) the running
    tasks are of no use: their workers are stopped instead of awaited."""
    if exc_type is not None:
        for process in list((getattr(ex, "_processes", None) or {}).values()):  # private, the only handle there is
            with contextlib.suppress(Exception):
                process.kill()
        ex.shutdown(wait=True, cancel_futures=True)
    else:
        ex.shutdown(wait=True)
    return False
