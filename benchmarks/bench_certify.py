"""Time the branch-and-bound of ``attnreg certify run`` with 1 and with N workers; print the ratio, the
CPU time behind it, and check that the certificates are identical (byte for byte).

Usage: ``python benchmarks/bench_certify.py [SPEC.toml ...] [--workers 2] [--repeat 5] [--refine-to R] [--warm]
[--contention]``
(default: the example specs in docs/examples, each as written and without its ``refine_to``).

Each timing is the median (and the minimum) over ``--repeat`` runs, 1 and N workers alternating, and
includes starting and stopping the worker processes (not Python's start-up or the imports). Next to
it, the CPU-time view, which load on the machine changes much less than the wall clock: the CPU
seconds of this process and of its worker processes (``cpu``: the work done), the work over the wall
time (``par``: ≤ N, how many CPUs the run kept busy), and the CPU-time critical path (``path``: this
process's CPU seconds outside the rounds, plus per round the most CPU seconds any one process spent
on it — what the wall time would be on idle cores), with the speed-up it gives; and the load averages.

``--contention`` measures what two processes cost each other on this machine: the 1-worker run's CPU
seconds alone, then while a forked copy of this process runs the same at the same time (no pool, no
communication). Their ratio, the *inflation*, caps any 2-worker speed-up at ``2 / inflation`` even for
perfectly parallel work (on a VM whose two vCPUs share a physical core it is well above 1).

``--warm`` times the branch-and-bound alone on a pool started beforehand (a long-lived pool, or a Dask
cluster, pays its start-up once): the parallel efficiency of the rounds without process start-up.
Worker CPU is not counted then (the workers are not reaped between runs).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import statistics
import time
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import executor

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime  # children: once reaped (pool shut down)


def once(s, workers, warm=None):
    """``(wall, cpu, critical, certificate text, body)``: ``critical`` is the CPU-time critical path, this
    process's CPU seconds outside the rounds plus, per round, the most any one process spent on it — the
    wall time on otherwise idle cores, process start-up in this process included."""
    me, cpu, start, rounds = time.process_time(), _cpu(), time.perf_counter(), []
    if warm is not None:
        body = bnb.run(s, warm[workers], cpu=rounds)
    else:
        with executor(workers) as pool:
            body = bnb.run(s, pool, cpu=rounds)
    wall, me = time.perf_counter() - start, time.process_time() - me
    critical = me - sum(r.get(os.getpid(), 0.0) for r in rounds) + sum(max(r.values()) for r in rounds)
    return wall, _cpu() - cpu, critical, certificate.dumps(certificate.build(body)), body


def variants(path, refine_to):
    s = spec.load(path)
    out = [(Path(path).name, s)]
    if s.refine_to is not None:
        out.append((f"{Path(path).name} without refine_to", dataclasses.replace(s, refine_to=None)))
    if refine_to is not None and s.refine_to is not None:  # a tighter sandwich where the spec asks for one
        out.append((f"{Path(path).name} refine_to = {refine_to}", dataclasses.replace(s, refine_to=refine_to)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", default=sorted(str(p) for p in EXAMPLES.glob("certify-*.toml")))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--refine-to", help="also time each spec that has a refine_to with this one instead (e.g. 1.01: a "
                    "tighter sandwich)")
    ap.add_argument("--warm", action="store_true", help="time on pools started beforehand (no process start-up)")
    ap.add_argument("--contention", action="store_true", help="measure how much slower one process runs while a "
                    "second runs the same work (the ceiling of any 2-worker speed-up here)")
    args = ap.parse_args()
    if args.contention:
        return _contention(args)
    if not args.warm:
        return _bench(args, None)
    with executor(1) as one, executor(args.workers) as many:
        return _bench(args, {1: one, args.workers: many})


def _bench(args, warm):
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; median of {args.repeat}; "
          f"load averages before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for path in args.specs:
        for name, s in variants(path, args.refine_to):
            runs = {1: [], args.workers: []}
            for _ in range(args.repeat):
                for w in runs:
                    runs[w].append(once(s, w, warm))
            wall = {w: statistics.median(r[0] for r in rs) for w, rs in runs.items()}
            fast = {w: min(r[0] for r in rs) for w, rs in runs.items()}
            cpu = {w: statistics.median(r[1] for r in rs) for w, rs in runs.items()}
            crit = {w: statistics.median(r[2] for r in rs) for w, rs in runs.items()}
            same = len({r[3] for rs in runs.values() for r in rs}) == 1
            body = runs[1][0][4]
            n = args.workers
            cpus = (f"cpu {cpu[1]:.3f} s", f"cpu {cpu[n]:.3f} s, par {cpu[n] / wall[n]:.2f}") if warm is None else \
                ("warm", "warm pool")
            cpus = (f"{cpus[0]}, path {crit[1]:.3f} s", f"{cpus[1]}, path {crit[n]:.3f} s")
            print(f"{name}: {body['status']}, bound {body['bound']} (lower {body['lower_bound']['value']}), "
                  f"{body['boxes_evaluated']} boxes; 1 worker {wall[1]:.3f} s ({cpus[0]}), {n} workers "
                  f"{wall[n]:.3f} s ({cpus[1]}): speed-up "
                  f"{wall[1] / wall[n]:.2f}x (fastest runs: {fast[1]:.3f} s / {fast[n]:.3f} s = "
                  f"{fast[1] / fast[n]:.2f}x; CPU critical path {crit[1] / crit[n]:.2f}x); "
                  f"same certificate: {same}; load {os.getloadavg()[0]:.2f}")


def _contention(args):
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; median of {args.repeat}; "
          f"load averages before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for path in args.specs:
        for name, s in variants(path, args.refine_to):
            def cpu_seconds():
                out = []
                for _ in range(args.repeat):
                    start = time.process_time()
                    bnb.run(s)
                    out.append(time.process_time() - start)
                return statistics.median(out)

            cpu_seconds()  # warm-up
            alone = cpu_seconds()
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the copy: the same runs at the same time, then its median through the pipe
                os.write(write, repr(cpu_seconds()).encode())
                os._exit(0)
            mine = cpu_seconds()
            os.waitpid(pid, 0)
            theirs = float(os.read(read, 64))
            os.close(read)
            os.close(write)
            inflation = (mine + theirs) / (2 * alone)
            print(f"{name}: CPU per run alone {alone:.3f} s, two at once {mine:.3f} s and {theirs:.3f} s: "
                  f"inflation {inflation:.2f}x, so 2 processes can give at most {2 / inflation:.2f}x; "
                  f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
