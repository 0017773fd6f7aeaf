"""Time the branch-and-bound of ``attnreg certify run`` with 1 and with N workers; print the ratio, the
CPU time behind it, and check that the certificates are identical (byte for byte).

Usage: ``python benchmarks/bench_certify.py [SPEC.toml ...] [--workers 2] [--repeat 5] [--refine-to R]``
(default: the example specs in docs/examples, each as written and without its ``refine_to``).

Each timing is the median (and the minimum) over ``--repeat`` runs, 1 and N workers alternating, and
includes starting and stopping the worker processes (not Python's start-up or the imports). Next to it: the CPU seconds
of this process and of its worker processes (``cpu``) — the work done, which load on the machine does
not change much — the work over the wall time (``par``: ≤ N, how many CPUs the run kept busy), and the
load averages, since other jobs on the machine change the wall-clock ratio.
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


def once(s, workers):
    cpu, start = _cpu(), time.perf_counter()
    with executor(workers) as pool:
        body = bnb.run(s, pool)
    return time.perf_counter() - start, _cpu() - cpu, certificate.dumps(certificate.build(body)), body


def variants(path, refine_to):
    s = spec.load(path)
    out = [(Path(path).name, s)]
    if s.refine_to is not None:
        out.append((f"{Path(path).name} without refine_to", dataclasses.replace(s, refine_to=None)))
    if refine_to is not None:
        out.append((f"{Path(path).name} refine_to = {refine_to}", dataclasses.replace(s, refine_to=refine_to)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", default=sorted(str(p) for p in EXAMPLES.glob("certify-*.toml")))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--refine-to", help="also time each spec with this refine_to (e.g. 1.01: a tighter sandwich)")
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; median of {args.repeat}; "
          f"load averages before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for path in args.specs:
        for name, s in variants(path, args.refine_to):
            runs = {1: [], args.workers: []}
            for _ in range(args.repeat):
                for w in runs:
                    runs[w].append(once(s, w))
            wall = {w: statistics.median(r[0] for r in rs) for w, rs in runs.items()}
            fast = {w: min(r[0] for r in rs) for w, rs in runs.items()}
            cpu = {w: statistics.median(r[1] for r in rs) for w, rs in runs.items()}
            same = len({r[2] for rs in runs.values() for r in rs}) == 1
            body = runs[1][0][3]
            n = args.workers
            print(f"{name}: {body['status']}, bound {body['bound']} (lower {body['lower_bound']['value']}), "
                  f"{body['boxes_evaluated']} boxes; 1 worker {wall[1]:.3f} s (cpu {cpu[1]:.3f} s), {n} workers "
                  f"{wall[n]:.3f} s (cpu {cpu[n]:.3f} s, par {cpu[n] / wall[n]:.2f}): speed-up "
                  f"{wall[1] / wall[n]:.2f}x (fastest runs: {fast[1]:.3f} s / {fast[n]:.3f} s = "
                  f"{fast[1] / fast[n]:.2f}x); "
                  f"same certificate: {same}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
