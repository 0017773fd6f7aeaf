"""How often the solvers reach X* on realisable problems, from their default start.

Problems: ``verify/checks/solver_problems.recovery`` (``A1, A2, X* ~ N(0, 1)``, ``B = F(X*)``) for
n in {6, 8, 16, 40}, d in {2, 3, 4}, ``--seeds`` problems per (n, d). Solvers: production Newton
(``attnreg.solve``, default method) and the reference (``attnreg.reference.solve``, ``--dps``),
both versions, default start (rescaled: the normalized problem first). Prints, per solver and version,
the rate of runs that reach X* (relative distance ≤ ``solve.recover.X``) and what the others report
(their stop reason and kind of point), so a miss is never silent.

    python benchmarks/solver_recovery.py --seeds 6 --ref-seeds 3
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings

import numpy as np

import attnreg
from attnreg import reference
from attnreg.verify.checks import solver_problems as sp


def run(solver, version, seeds, dps=30, ns=sp.RECOVERY_N, ds=sp.RECOVERY_D):
    """``(reached, total, misses)``; a miss is ``((n, d, k), stop, point, normalized loss, distance)``."""
    hits, total, misses = 0, 0, []
    for n in ns:
        for d in ds:
            for k in range(seeds):
                p = sp.recovery(n, d, k)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    r = (attnreg.solve(p.A1, p.A2, p.B, version=version) if solver == "production" else
                         reference.solve(p.A1, p.A2, p.B, version=version, dps=dps))
                total += 1
                if sp.reached(r.X, p.X_star):
                    hits += 1
                    continue
                X = np.asarray(r.X.tolist(), dtype=float) if solver == "reference" else np.asarray(r.X)
                dist = np.linalg.norm(X - p.X_star) / np.linalg.norm(p.X_star)
                misses.append(((n, d, k), r.stop.value, r.point.value, r.info.get("loss_normalized"), dist))
    return hits, total, misses


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6, help="problems per (n, d) for the production solver")
    ap.add_argument("--ref-seeds", type=int, default=3, help="problems per (n, d) for the reference solver")
    ap.add_argument("--dps", type=int, default=30, help="digits of the reference solver")
    args = ap.parse_args(argv)
    print(f"realisable problems, X* ~ N(0,1), n in {sp.RECOVERY_N}, d in {sp.RECOVERY_D}; reached: "
          f"relative distance to X* within the 'solve.recover.X' tolerance")
    ok = True
    for solver, seeds in (("production", args.seeds), ("reference", args.ref_seeds)):
        for version in ("normalized", "rescaled"):
            t = time.perf_counter()
            hits, total, misses = run(solver, version, seeds, args.dps)
            rate = hits / total
            ok &= rate >= 0.95
            print(f"{solver:10s} {version:10s} reached X*: {hits:3d}/{total:3d} = {100 * rate:5.1f}%   "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)
            kinds = collections.Counter((stop, point) for _, stop, point, _, _ in misses)
            for (stop, point), count in sorted(kinds.items()):
                print(f"    {count} stopped '{stop}' at a {point}")
            for case, stop, point, loss_n, dist in misses:
                print(f"      (n, d, k) = {case}: {point}, normalized loss {loss_n:.3g}, distance {dist:.3g}")
    print("target >= 95% everywhere:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
