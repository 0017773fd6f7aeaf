"""The tolerance table: every tolerance is a multiple of a stated quantity, with its reason.

No tolerance is derived from the code under test or scaled silently by size; where a bound grows
with n or d, the growth is written in :mod:`.errormodel`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tol:
    factor: float
    of: str  # what the factor multiplies
    reason: str


TOLERANCES: dict[str, Tol] = {
    "vs_reference": Tol(
        2.0, "the first-order forward-error bound of verify.errormodel (componentwise for gradients)",
        "the bound drops products of two rounding errors outside the loss's quadratic term; with "
        "u·(n + d·max|S|) far below 1 they are smaller than the first-order terms, so a factor 2 covers them"),
    "vs_naive": Tol(
        4.0, "the mean and the max, over a seeded sample of cases, of the error of the straightforward float64 "
        "implementation (verify.naive) against a 60-digit oracle, in units of the size of the terms",
        "issue 2's acceptance rule; FlashAttention's tests use the same shape of rule with a factor 2-3 against a "
        "same-dtype baseline (research/anchors.md §4). Applied to the distribution, not case by case: per case "
        "either float64 algorithm can be lucky by 10-20x (verify/checks/accuracy.py)"),
    "reference.digits": Tol(
        5.0, "digits below dps: agreement to 10^-(dps-5) relative to the size of the terms",
        "ctx.diff and the analytic formula are evaluated at dps + 10 digits; the terms of a sum can "
        "cancel by a few digits before the comparison is made"),
    "identity.float64": Tol(
        2.0, "u·(k + 1)·(the magnitude of the terms), k the longest chain of sums (d1 + d2 for A1 X A2ᵀ)",
        "a sum of k products is within k·u of the sum of the magnitudes of its terms (Higham, Accuracy "
        "and Stability, §3.1); 2 covers the products of rounding errors dropped by that first-order bound"),
    "vs_naive.well_conditioned": Tol(
        1e-8, "the a-priori relative error bound of verify.errormodel below which a value enters the ratio rule",
        "above it every float64 algorithm loses 8 or more digits and the two errors compared are rounding "
        "noise that dominates both means (verify/checks/accuracy.py)"),
    "icl.float64": Tol(
        64.0, "eps·max(1, max|B̃|) for the float64 B̃ against the 50-digit reference",
        "B̃ = B + F(S) − F(S') (or its rescaled analogue) sums a few O(1) terms per entry, each a few ulps off; "
        "64 ulps is far above that and far below any formula error"),
    "vs_condition": Tol(
        16.0, "κ·u: the relative condition number of verify.errormodel.condition (componentwise relative "
        "perturbations of the logits and targets, ∞-norm) times the dtype's unit roundoff",
        "a backward-stable evaluation has an error of at most κ times its backward error; the stable row kernels "
        "round each input-sized quantity a few times (logit differences, exp, one leave-one-out sum, a product), "
        "so a backward error of a few u, and 16 covers the first-order constant with a factor ~2 spare"),
    # Solvers (verify/checks/solvers.py): targets of issue 4, with what the solvers actually reach.
    "solve.ref.grad": Tol(
        1e-40, "||∇L||_F at the reference solution (dps = 50)",
        "issue 4: the gradient at the level 50 digits allow; the precision ladder reaches ~1e-55"),
    "solve.ref.X": Tol(
        1e-35, "relative Frobenius error of the reference solution against X*",
        "issue 4: X* to 35 digits; the minimiser is nondegenerate (n > d, no A2 w = 1ₙ family)"),
    "solve.prod.X": Tol(
        1e-8, "relative Frobenius error of the production solution against X*",
        "issue 4: X* to 1e-8; Newton-CG reaches ~1e-15 on these problems"),
    "solve.prod.loss_ulps": Tol(
        64, "ulps between the production loss and the reference minimum",
        "a sum of n² squares after the row shift costs ≲ log2(n²) + a few ulps (measured: ≤ 2)"),
    "solve.agree.X": Tol(
        1e-8, "relative distance between the production and the reference solutions (non-realisable)",
        "two solutions of one nondegenerate minimum agree as well as each meets X* (solve.prod.X)"),
    # Benchmarks (benchmarks/_arbiter.py): the arbiter that measures the contenders' gradient errors.
    "bench.arbiter": Tol(
        1e-2, "float64's unit roundoff 2^-53, for the arbiter's relative Frobenius gradient error against the "
        "50-digit reference",
        "the arbiter judges float64 gradients whose errors are at least about u; 100x below u tells them apart. "
        "Extended precision (u_ext = 2^-64) with exact products gives about u_ext·n (measured 5e-20 at n = 12)"),
    "bench.gpu_vs_cpu": Tol(
        1e-10, "relative Frobenius difference between a float64 gradient on the device and attnreg's on the CPU",
        "both are float64 evaluations whose errors the arbiter measures at 1e-16 to 1e-14 on the benchmark data; "
        "1e-10 allows other summation orders at n = 16384 and still catches a float32 or TF32 slip (>= 1e-7)"),
}


def tol(name: str) -> Tol:
    return TOLERANCES[name]
