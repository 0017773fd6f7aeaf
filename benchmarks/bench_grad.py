"""Time attnreg.loss_and_grad against peers measured in the same run; print ratios (DESIGN §8).

Peers: a straightforward NumPy analytic gradient (verify.naive) and torch autograd of the same loss
(when torch is installed). Usage: ``python benchmarks/bench_grad.py [--n 2048] [--d 128] [--repeat 5]``.
Timings are the minimum of ``--repeat`` runs after one warm-up; the machine is named in the output.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import attnreg
from attnreg.verify import naive


def best(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def torch_autograd(A1, A2, B, X, version):
    import torch

    T1, T2, TB = (torch.asarray(a) for a in (A1, A2, B))

    def run():
        Xt = torch.asarray(X).requires_grad_(True)
        S = T1 @ Xt @ T2.T
        if version == "normalized":
            loss = 0.5 * ((torch.softmax(S, dim=1) - TB) ** 2).sum()
        else:
            U = torch.exp(S)
            loss = 0.5 * ((U - U.sum(1, keepdim=True) * TB) ** 2).sum()
        loss.backward()
        return Xt.grad

    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    n, d = args.n, args.d
    A1, A2 = rng.standard_normal((n, d)) / d**0.5, rng.standard_normal((n, d)) / d**0.5
    X, B = rng.standard_normal((d, d)) / d**0.5, rng.dirichlet(np.ones(n), size=n)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}; n={n}, d={d}, float64")
    for version in attnreg.VERSIONS:
        ours = best(lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version), args.repeat)
        line = f"{version:10s} attnreg {ours * 1e3:8.1f} ms"
        base = best(lambda: naive.matrix_loss_and_grad(A1, A2, B, X, version), args.repeat)
        line += f" | naive numpy {base * 1e3:8.1f} ms (ratio {base / ours:.2f}x)"
        try:
            peer = best(torch_autograd(A1, A2, B, X, version), args.repeat)
            line += f" | torch autograd {peer * 1e3:8.1f} ms (ratio {peer / ours:.2f}x)"
        except ImportError:
            line += " | torch not installed"
        print(line)


if __name__ == "__main__":
    main()
