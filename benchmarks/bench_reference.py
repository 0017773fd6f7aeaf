"""Time the proven reference (ball arithmetic) against the mpmath route in the same run; print ratios.

Target (the reference must stay usable): a 50-digit gradient at n = 32, d = 8 within 2 s on one
core. Peer: the mpmath formulas of ``attnreg.reference.forms`` at the same precision (one run, no
proof). Usage: ``python benchmarks/bench_reference.py [--n 32] [--d 8] [--dps 50] [--repeat 3]``.
Timings are CPU seconds of one process (the minimum of ``--repeat`` runs).
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from attnreg import reference
from attnreg.reference import forms, make_context
from attnreg.reference._inputs import matrix_inputs


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--dps", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    A1, A2 = rng.standard_normal((a.n, a.d)), rng.standard_normal((a.n, a.d))
    B, X = rng.dirichlet(np.ones(a.n), size=a.n), 0.3 * rng.standard_normal((a.d, a.d))
    print(f"{platform.processor() or platform.machine()}, n={a.n}, d={a.d}, dps={a.dps}")
    for version in ("normalized", "rescaled"):
        proven = best(lambda: reference.grad(A1, A2, B, X, version=version, dps=a.dps), a.repeat)
        ctx = make_context(a.dps + 10)
        args = matrix_inputs(ctx, A1, A2, B, X)
        plain = best(lambda: forms.matrix_loss_and_grad(ctx, *args, version), a.repeat)
        print(f"{version:10s} proven grad {proven:.3f} s (target 2 s)   mpmath one run {plain:.3f} s   "
              f"ratio {proven / plain:.2f}")


if __name__ == "__main__":
    main()
