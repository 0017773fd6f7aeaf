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
        "the production path's acceptance rule; FlashAttention's tests use the same shape of rule with a factor "
        "2-3 against a same-dtype baseline. Applied to the distribution, not case by case: per case "
        "either float64 algorithm can be lucky by 10-20x (verify/checks/accuracy.py)"),
    "reference.digits": Tol(
        5.0, "digits below dps: agreement to 10^-(dps-5) relative to the size of the terms",
        "ctx.diff and the analytic formula are evaluated at dps + 10 digits; the terms of a sum can "
        "cancel by a few digits before the comparison is made"),
    "reference.proven": Tol(
        1.0, "10^-dps relative to the value: the reference's proven error against an independent evaluation",
        "the balls prove |value − true| ≤ 10^-dps·|true| (or |true| ≤ the bound of an unresolved zero); the mpmath "
        "side runs at dps + 60 digits plus the case's cancellation, so its own error is below 10^-(dps+10) and "
        "no slack is needed"),
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
        16.0, "(κ + n)·u: the relative condition number of verify.errormodel.condition (componentwise relative "
        "perturbations of the logits, targets exact, ∞-norm) plus the row length n, times the dtype's unit roundoff",
        "a backward-stable evaluation has an error of at most κ times its backward error; the stable row kernels "
        "round each input-sized quantity a few times (logit differences, exp, one leave-one-out sum, a product), "
        "so a backward error of a few u; n·u is the rounding of the final n-term sums, which no perturbation of the "
        "logits "
        "accounts for; 16 covers the first-order constants with a factor ~2 spare"),
    # Solvers (verify/checks/solvers.py): the solvers' targets, with what the solvers actually reach.
    "solve.ref.grad": Tol(
        1e-40, "||∇L||_F at the reference solution (dps = 50)",
        "the solvers' target: the gradient at the level 50 digits allow; the precision ladder reaches ~1e-55"),
    "solve.ref.X": Tol(
        1e-35, "relative Frobenius error of the reference solution against X*",
        "the solvers' target: X* to 35 digits; the minimiser is nondegenerate (n > d, no A2 w = 1ₙ family)"),
    "solve.prod.X": Tol(
        1e-8, "relative Frobenius error of the production solution against X*",
        "the solvers' target: X* to 1e-8; Newton-CG reaches ~1e-15 on these problems"),
    "solve.prod.loss_ulps": Tol(
        64, "ulps between the production loss and the reference minimum",
        "a sum of n² squares after the row shift costs ≲ log2(n²) + a few ulps (measured: ≤ 2)"),
    "solve.recover.X": Tol(
        1e-6, "relative Frobenius distance of a solution to X* that counts as having reached X* (recovery rates)",
        "separates X* from the spurious minima (measured at relative distance ≥ 0.1) while allowing the float64 "
        "floor of ill-conditioned realisable problems (Hessian condition numbers up to 1e10: ~cond·eps)"),
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
    # Certified bounds (verify/certify, verify/claims/certified.py).
    "certify.claim_margin": Tol(
        1e-12, "relative margin by which a certified bound must lie below a claim's constant (and a datum below "
        "an assumption's bound) when these are evaluated in float64",
        "the constant is an expression of a few dozen float64 operations (relative error far below 1e-13); the "
        "margin makes the float comparison err on the side of not certifying"),
    "certify.point_vs_reference": Tol(
        1e-30, "the 1-norm of the matrix, for an entry of M at a point (128-bit balls) against the 40-digit "
        "mpmath reference",
        "both sides carry ≥ 38 correct digits; 1e-30 leaves 8 digits for the reference's rounding and still "
        "catches any formula error"),
    "certify.fd_derivative": Tol(
        1e-20, "the 1-norm of the derivative matrix, for a derivative enclosure against a central difference with "
        "step 1e-15 at 40 digits",
        "the difference's truncation error is O(h²) ≈ 1e-30 and its rounding error ≈ 1e-40/h = 1e-25; a wrong "
        "term changes entries by O(1)"),
}


# The statement evaluator (reference/measure.py): its float64 and proven-digits routes mean the same number.
TOLERANCES["measure.float64"] = Tol(
    1e-12, "the size of the measured number (relative difference, float64 against proven digits or a direct formula)",
    "at the small, well-scaled points of the test (|logits| ≤ 3, n ≤ 4, far Lipschitz pairs) every block and loss "
    "is accurate to a few u = 1.1e-16 per entry and a norm of ≤ 16 entries adds ≤ 16 u, so agreement is ~1e-15; "
    "1e-12 leaves that margin while a difference in meaning (another norm, a missing factor 2, max for min, "
    "the wrong input moved) changes the number by O(1)")


def tol(name: str) -> Tol:
    return TOLERANCES[name]

# Conformance of other implementations (attnreg check-impl, attnreg audit, attnreg.testing).
TOLERANCES.update({
    "conformance.ratio": Tol(
        4.0, "the geometric mean, over the well-conditioned cases of a run, of (candidate error + floor) / "
        "(error of a straightforward same-dtype implementation, verify/conformance/baseline.py, + floor)",
        "the ratio rule of FlashAttention's and PyTorch SDPA's tests (factor 2-4 against a same-dtype baseline) "
        "with a high-precision gold; on the distribution because per case either "
        "algorithm can be lucky by 10-20x (verify/checks/accuracy.py). Geometric, not arithmetic: with the "
        "arithmetic mean one case dominated (attnreg's own rescaled loss at max|S| = 10: 8x the baseline, whose "
        "logits of dyadic inputs happened to round exactly) while every other case had a ratio near 1"),
    "conformance.ratio.case": Tol(
        32.0, "one case's baseline error (or the round-off floor, whichever is larger)",
        "per case two correct algorithms differ by up to 10-20x through lucky rounding; 32 leaves room for that "
        "and still fails a function that loses a digit and a half more than the baseline on one case"),
    "conformance.floor": Tol(
        8.0, "u of the dtype (relative error): the round-off floor added to the ratio rule",
        "a baseline can be exact by luck (dyadic inputs, n = 1); rounding the result and the last sum costs "
        "a few u even for a perfect algorithm (FlashAttention uses two roundings of the gold's dtype)"),
    "conformance.well_conditioned": Tol(
        0.5, "the exponent of u: a case enters the distribution rule when the baseline's error is below u^0.5",
        "where the baseline already loses half the digits (cancellation of 1 - F at a saturated row, a loss "
        "near 0 at a realisable point) the errors compared are rounding noise that would dominate the means"),
    "conformance.grad_scale": Tol(
        1e-3, "the a-priori size of the gradient (½‖A1‖‖A2‖‖C‖ normalized; the rescaled analogue in "
        "verify/conformance/runner.py): the gradient's relative error is taken against max(‖∇L‖, this)",
        "a gradient that cancels to far below its terms (exactly 0 by shift invariance at a one-hot saturated "
        "row) has no relative digits to keep; every algorithm's rounding is relative to the terms, and 1e-3 "
        "leaves ordinary gradients (‖∇L‖ within a few factors of σ) measured against their own norm"),
    "conformance.fd": Tol(
        1e-6, "relative agreement of an order-8 central difference of the candidate's own float64 loss with its "
        "gradient along a direction V (scaled so max|A1 V A2ᵀ| = 1, step 2^-6)",
        "truncation h^8·f^(9) and rounding u·L/h are both below 1e-10 relative at logits of a few units; a "
        "gradient that is not the derivative of the loss misses by O(1)"),
})
