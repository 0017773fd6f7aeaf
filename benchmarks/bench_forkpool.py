"""Gate experiment (tried, not kept): a lean fork-and-pipe ``concurrent.futures.Executor`` for the local pool,
against the ``ProcessPoolExecutor`` that ``attnreg.verify.executor`` uses, on the certify examples.

Usage: ``python benchmarks/bench_forkpool.py [SPEC.toml ...] [--repeat 15] [--warm]``
(default: docs/examples/certify-f.toml).

:class:`LeanPool` forks each worker with a pipe for its tasks and one for its results (length-prefixed
pickles), queued in the pipe; one reader thread completes the futures: no ``multiprocessing`` process
object, no manager thread, no queue feeder thread. A killed worker breaks the pool (its futures fail
with ``BrokenExecutor``, like the standard pool's), shut-down closes the task pipes and reaps every
worker by pid. It gave the same certificates as 1 worker in every run, but did not reach the 1.6x that
it was built for (docs/certify.md, "Scaling out", "Tried and not kept"), so it is not the pool.

Per spec, interleaved (1 worker, the current pool, the lean pool, in turn; medians of ``--repeat``): wall
time, CPU seconds of all processes, the CPU-time critical path (as ``bench_certify.py``: this process's
CPU outside the rounds plus per round the most CPU any one process spent) and this process's CPU outside
the rounds, where a start-up shows. ``--warm``: 1 worker against a lean pool forked before the runs
(``warm``: shared from the first round; ``deferred``: shared once this process has done
``START_AFTER`` of work alone, as a fresh pool is): what the rounds give with no start-up at all, the
ceiling of any executor. (Separate, because a pool's reader thread forbids forking the others.)
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import pickle
import select
import signal
import statistics
import struct
import threading
import time
from concurrent import futures

from bench_certify import EXAMPLES, _cpu

from attnreg.verify import executor as E
from attnreg.verify.certify import bnb, certificate, spec

_HEAD = struct.Struct("<QQ")  # a task's or result's id, and the length of the pickle that follows


class Worker:
    """One forked worker: its pid, the pipe its tasks go down, the pipe its results come up, and the futures
    it owes, in submission order."""

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.owed: dict[int, futures.Future] = {}
        self.buffer = bytearray()
        self.sending = threading.Lock()  # one task written at a time (a long write must not interleave)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class LeanPool(futures.Executor):
    """``workers`` processes forked now, each running ``initializer(*initargs)`` first; tasks go to the worker
    that owes the fewest results. ``_processes`` maps pid to :class:`Worker` (the name the standard pool
    uses, which the shut-down on error and the tests rely on)."""

    def __init__(self, workers: int, initializer=None, initargs=()):
        if threading.active_count() != 1:
            raise RuntimeError("LeanPool forks: it must be made while this process has no other thread")
        self._processes: dict[int, Worker] = {}
        self._lock = threading.Lock()
        self._next = 0
        self._broken: str | None = None
        self._shut = False
        try:
            for _ in range(workers):
                task_r, task_w = os.pipe()
                result_r, result_w = os.pipe()
                pid = os.fork()
                if pid == 0:  # the worker: never returns
                    try:
                        os.close(task_w)
                        os.close(result_r)
                        for w in self._processes.values():  # the other workers' ends: theirs to close
                            os.close(w.tasks)
                            os.close(w.results)
                        if initializer is not None:
                            initializer(*initargs)
                        _serve(task_r, result_w)
                    except BaseException:  # noqa: BLE001 - a worker that cannot start: its pipe closes
                        os._exit(1)
                    os._exit(0)
                os.close(task_r)
                os.close(result_w)
                self._processes[pid] = Worker(pid, task_w, result_r)
        except BaseException:
            self._stop(kill=True)
            raise
        self._reader = threading.Thread(target=self._read, name="forkpool-reader", daemon=True)
        self._reader.start()

    def submit(self, fn, /, *args, **kwargs) -> futures.Future:
        data = pickle.dumps((fn, args, kwargs), pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._broken is not None:
                raise futures.BrokenExecutor(self._broken)
            if self._shut:
                raise RuntimeError("cannot schedule new futures after shutdown")
            worker = min(self._processes.values(), key=lambda w: len(w.owed))
            future: futures.Future = futures.Future()
            future.set_running_or_notify_cancel()
            key, self._next = self._next, self._next + 1
            worker.owed[key] = future
        try:  # outside the pool's lock: a full pipe waits for the worker, whose results the reader must take
            with worker.sending:
                _write(worker.tasks, _HEAD.pack(key, len(data)) + data)
        except OSError:  # the worker is gone: the reader breaks the pool when it sees its result pipe close
            pass
        return future

    def _read(self) -> None:
        """The reader thread: results into futures, until every worker's result pipe has closed."""
        poller = select.poll()
        by_fd = {}
        for w in self._processes.values():
            poller.register(w.results, select.POLLIN)
            by_fd[w.results] = w
        while by_fd:
            for fd, _ in poller.poll():
                w = by_fd[fd]
                chunk = os.read(fd, 1 << 20)
                if not chunk:  # the worker exited (shut-down) or died
                    poller.unregister(fd)
                    del by_fd[fd]
                    with self._lock:
                        if w.owed:
                            self._break(f"a worker process (pid {w.pid}) died with tasks to run")
                    continue
                w.buffer += chunk
                while len(w.buffer) >= _HEAD.size:
                    key, size = _HEAD.unpack_from(w.buffer)
                    if len(w.buffer) < _HEAD.size + size:
                        break
                    data = bytes(w.buffer[_HEAD.size:_HEAD.size + size])
                    del w.buffer[:_HEAD.size + size]
                    ok, value = pickle.loads(data)
                    with self._lock:
                        future = w.owed.pop(key, None)
                    if future is not None:  # None: the pool broke meanwhile and failed it already
                        (future.set_result if ok else future.set_exception)(value)

    def _break(self, why: str) -> None:
        """Fail every pending future and refuse new ones (with the lock held); stop the other workers."""
        self._broken = why
        for w in self._processes.values():
            for future in w.owed.values():
                future.set_exception(futures.BrokenExecutor(why))
            w.owed.clear()
            w.kill()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Close the task pipes: each worker finishes what it was sent and exits. ``wait``: until every result
        is in and every worker is reaped. ``cancel_futures``: stop the workers now instead, failing what they
        owe (a task sent to a process cannot be taken back)."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
            if cancel_futures and any(w.owed for w in self._processes.values()):
                self._break("the pool was shut down with cancel_futures")
        self._stop(kill=False, wait=wait)

    def _stop(self, kill: bool, wait: bool = True) -> None:
        for w in self._processes.values():
            if kill:
                w.kill()
            with contextlib.suppress(OSError):
                os.close(w.tasks)
        if not wait:
            return
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.join()
        for w in self._processes.values():
            with contextlib.suppress(OSError):
                os.close(w.results)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(w.pid, 0)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _serve(tasks: int, results: int) -> None:
    """The worker's loop: run each task it is sent, send back ``(ok, result or exception)`` under the task's id;
    return when the task pipe closes."""
    while True:
        head = _read_exactly(tasks, _HEAD.size)
        if head is None:
            return
        key, size = _HEAD.unpack(head)
        data = _read_exactly(tasks, size)
        if data is None:
            return
        try:
            fn, args, kwargs = pickle.loads(data)
            reply = pickle.dumps((True, fn(*args, **kwargs)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is the task's result
            try:
                reply = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
                reply = pickle.dumps((False, RuntimeError(repr(exc))), pickle.HIGHEST_PROTOCOL)
        _write(results, _HEAD.pack(key, len(reply)) + reply)


@contextlib.contextmanager
def lean(workers: int):
    """As :func:`attnreg.verify.executor.executor` for ``workers > 1`` and fork, on a :class:`LeanPool`."""
    with contextlib.ExitStack() as stack:
        def start():
            ex = LeanPool(workers - 1, initializer=E._worker_init, initargs=(os.getpid(),))
            stack.push(functools.partial(E._close, ex))
            return ex, f"{workers} workers (lean)"

        yield E.Pool(None, workers, "", caller_works=True, start=start, start_after=E.START_AFTER)


def once(s, kind, warm):
    """``(wall, cpu, critical path, certificate text, this process's CPU outside the rounds)``."""
    me, cpu, start, rounds = time.process_time(), _cpu(), time.perf_counter(), []
    if kind == "warm":
        cm = contextlib.nullcontext(E.Pool(warm, 2, "warm", caller_works=True))
    elif kind == "deferred":
        cm = contextlib.nullcontext(E.Pool(None, 2, "", caller_works=True, start=lambda: (warm, "warm"),
                                           start_after=E.START_AFTER))
    else:
        cm = {"1": E.executor(1), "current": E.executor(2), "lean": lean(2)}[kind]
    with cm as pool:
        body = bnb.run(s, pool, cpu=rounds)
    wall, me = time.perf_counter() - start, time.process_time() - me
    outside = me - sum(r.get(os.getpid(), 0.0) for r in rounds)
    critical = outside + sum(max(r.values()) for r in rounds)
    return wall, _cpu() - cpu, critical, certificate.dumps(certificate.build(body)), outside


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", default=[str(EXAMPLES / "certify-f.toml")])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--refine-to", help="replace each spec's refine_to")
    ap.add_argument("--warm", action="store_true", help="1 worker against a lean pool forked beforehand")
    args = ap.parse_args()
    warm = LeanPool(1, initializer=E._worker_init, initargs=(os.getpid(),)) if args.warm else None
    kinds = ["1", "warm", "deferred"] if args.warm else ["1", "current", "lean"]
    print(f"# {os.cpu_count()} cores; median of {args.repeat}; load averages before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    try:
        for path in args.specs:
            s = spec.load(path)
            if args.refine_to is not None:
                s = dataclasses.replace(s, refine_to=args.refine_to)
            for k in kinds:
                once(s, k, warm)  # warm-up
            runs: dict[str, list] = {k: [] for k in kinds}
            for _ in range(args.repeat):
                for k in kinds:
                    runs[k].append(once(s, k, warm))
            med = {k: [statistics.median(r[i] for r in runs[k]) for i in (0, 1, 2, 4)] for k in kinds}
            same = len({r[3] for rs in runs.values() for r in rs}) == 1
            print(f"{path}{'' if args.refine_to is None else ' refine_to = ' + args.refine_to}: "
                  f"same certificate: {same}")
            for k, (wall, cpu, path_, outside) in med.items():
                print(f"  {k:8s} wall {wall * 1e3:6.1f} ms, cpu {cpu * 1e3:6.1f} ms, path {path_ * 1e3:6.1f} ms, "
                      f"outside the rounds {outside * 1e3:5.1f} ms; speed-up wall {med['1'][0] / wall:.2f}x, "
                      f"path {med['1'][2] / path_:.2f}x")
            print(f"  load {os.getloadavg()[0]:.2f}")
    finally:
        if warm is not None:
            warm.shutdown()


if __name__ == "__main__":
    main()
