"""Time ``attnreg claims check`` (decision, search, confirmation) with 1 and with N workers; print the ratio
and check that the claims JSON is identical (byte for byte).

Usage: ``python benchmarks/bench_claims.py CLAIMS.toml [--workers 2] [--repeat 3] [--budget 2] [--seed 0]``

Each timing is the median (and the minimum) over ``--repeat`` runs, 1 and N workers alternating, and
includes starting and stopping the worker processes (not Python's start-up or the imports); the
symbolic decision (``prove``, sympy) is cached after the first run, and a first unmeasured run warms it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from attnreg.verify import claims
from attnreg.verify.executor import executor, mapper

PARTS_PER_SLOT = 2  # as attnreg claims check


def once(chosen, workers, budget, seed, out_dir):
    start = time.perf_counter()
    with executor(workers) as pool:
        outcomes = [claims.check_claim(c, budget=budget, seed=seed, out_dir=out_dir,
                                       map_fn=mapper(pool, PARTS_PER_SLOT)) for c in chosen]
        kind = pool.kind
    return time.perf_counter() - start, claims.to_json(outcomes), kind


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    chosen = claims.load(args.files)
    with tempfile.TemporaryDirectory() as out_dir:
        once(chosen, 1, args.budget, args.seed, out_dir)  # warm: imports, sympy's caches
        print(f"# {os.cpu_count()} cores; {len(chosen)} claims, budget {args.budget:g} s each; median of "
              f"{args.repeat}; load averages before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        runs = {1: [], args.workers: []}
        for _ in range(args.repeat):
            for w in runs:
                runs[w].append(once(chosen, w, args.budget, args.seed, out_dir))
    wall = {w: statistics.median(r[0] for r in rs) for w, rs in runs.items()}
    fast = {w: min(r[0] for r in rs) for w, rs in runs.items()}
    same = len({r[1] for rs in runs.values() for r in rs}) == 1
    n = args.workers
    print(f"1 worker {wall[1]:.2f} s, {n} workers {wall[n]:.2f} s ({runs[n][-1][2]}): "
          f"speed-up {wall[1] / wall[n]:.2f}x "
          f"(fastest runs {fast[1]:.2f} s / {fast[n]:.2f} s = {fast[1] / fast[n]:.2f}x); same JSON: {same}; "
          f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
