r"""When a solver stops, and what it found: the rules shared by every solver and both forms.

Used by :func:`attnreg.solve` (float64, any array library) and :func:`attnreg.reference.solve`
(mpmath), in matrix and vector form alike; the objectives hand over plain numbers.

**Tolerance** (:func:`tolerance`). ``tol = k·eps·scale`` with ``scale = ||A1||_F ||A2||_F κ``
(``||A||_F`` in vector form), ``κ = 1`` (normalized) or ``max_j α_j²`` (rescaled, row j weighs
``α_j²``): the size of the gradient's terms, so rounding leaves a gradient floor of about ``eps·scale``.
A scale that is not finite (data of size 1e200) makes the tolerance meaningless: the run stops with
:attr:`Stop.NON_FINITE` instead of "converging" against ``tol = inf``; so does a nonzero scale whose tolerance is
not a normal number (data of size 1e-170: ``tol`` was 0 and a gradient that underflowed to 0 "met" it). An explicit
``tol`` is met only when ``||∇L||`` plus the gradient's rounding error (:func:`rounding`, about ``16·eps·scale``) is
below it: a ``tol`` under that error cannot be verified in the dtype, and the run says so instead of converging.

**The rounding floor** (:class:`Floor`). Meeting ``tol`` is necessary, not sufficient: ``tol`` bounds
the floor from above and the largest row can dominate it, so a point with ``||∇L|| ≤ tol`` may still be
far from stationary in the other rows (seen: ``||∇L|| = 0.456 ≤ tol = 0.698`` with the loss still
falling). The iteration goes on until, over ``patience`` steps, ``||∇L||`` has not halved and the loss
has not fallen by more than ``√eps·|L|``: only then is it at the floor.

**Escapes** (rescaled, docs/design.md §2). Row j of the rescaled loss is ``α_j² ℓ^N_j`` (``h = α c``):
driving ``α_j → 0`` lowers ``L_R`` without fitting row j. :class:`Escape` watches all rows going
(``||X||`` grows, ``max_j α_j`` falls tenfold to below 1, ``L_N`` stays); :class:`Asymptote` any loss
levelling off as ``||X|| → ∞`` (steps of undiminished length, ``||∇L||`` falling tenfold, ``L`` flat);
:func:`partial_escape` some rows going: rows whose weight ``α_j²/max_k α_k²`` is below ``eps`` (they no
longer count in ``L_R`` at working precision) while their ``ℓ^N_j`` is above the loss floor.
Seen: a production solve "converged" at ``||X|| = 356`` (``||X*|| = 3.31``) with ``L_N = 2.99`` and
``min_j log α_j = −17.4``.

**Kind of point** (:func:`classify`). ``global minimum`` when ``L_N`` is 0 to working precision
(``L_N ≤ ½ n (10⁴ eps)²``: every row fitted to 10⁴ ulps; both losses vanish exactly where B is fitted);
otherwise, at a stationary point, the Hessian's extreme eigenvalues decide: ``local minimum``
(``λ_min > δ λ_max``), ``saddle`` (``λ_min < −δ λ_max``), ``degenerate`` (in between),
``δ = 10·m·eps`` (m variables: the backward error of a symmetric eigensolver).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .solve_result import Point, Stop

TOL_ULPS = 1e4  # tolerance: 10⁴ ulps of the gradient's scale above its rounding floor
ROUND_ULPS = 16  # a computed gradient's rounding error: about eps·scale, with a margin (an estimate)
LOSS_ULPS = 1e4  # global minimum: every row of F fitted to 10⁴ ulps
EIG_ULPS = 10  # Hessian eigenvalues within 10·m ulps of max|λ| count as 0 (an eigensolver's backward error)


def tolerance(scale: float, eps: float) -> float:
    """``TOL_ULPS·eps·scale``; inf or nan when the scale overflows (the caller stops with NON_FINITE)."""
    return TOL_ULPS * eps * scale


def rounding(scale: float, eps: float) -> float:
    """``ROUND_ULPS·eps·scale``: about the absolute rounding error of a computed gradient (an estimate of its floor,
    not a bound: the rows' rounding grows with the logits, and a bound on them, ``||A1||·||X||·||A2||``, made the
    estimate so loose that ``tol = 1e-14`` was refused where the 60-digit norm is 1.9e-16). An explicit ``tol`` is met
    only by ``||∇L|| + rounding ≤ tol``: a computed norm of 0 at a point whose 60-digit gradient is 1.67e-15 had been
    taken to meet ``tol = 1e-15`` (tests/test_cli_attack.py, defect 2)."""
    return ROUND_ULPS * eps * scale


def loss_floor(n: int, eps: float) -> float:
    """The normalized loss of a fit exact to ``LOSS_ULPS`` ulps per row: ``½ n (LOSS_ULPS·eps)²``."""
    return 0.5 * n * (LOSS_ULPS * eps) ** 2


@dataclass
class Floor:
    """Decide when polishing below ``tol`` has reached the rounding floor (module docstring)."""

    patience: int
    eps: float
    trace: list[tuple[float, float]] = field(default_factory=list)

    def reached(self, grad_norm: float, loss: float) -> bool:
        self.trace.append((float(grad_norm), float(loss)))
        if grad_norm == 0:
            return True
        if len(self.trace) <= self.patience:
            return False
        (g0, l0), window = self.trace[-self.patience - 1], self.trace[-self.patience:]
        halved = min(g for g, _ in window) <= g0 / 2
        fell = l0 - min(v for _, v in window) > math.sqrt(self.eps) * abs(l0)
        return not (halved or fell)


@dataclass
class Escape:
    """Watch ``(||X||, log max_j α_j, L_N)`` along the accepted iterates (rescaled version only)."""

    window: int = 5
    trace: list[tuple[float, float, float]] = field(default_factory=list)

    def update(self, x_norm: float, log_alpha_max: float, loss_normalized: float) -> str | None:
        """Record one iterate; return the message when the escape signature is present."""
        self.trace.append((float(x_norm), float(log_alpha_max), float(loss_normalized)))
        run = 1  # length of the trailing run with ||X|| growing and max α falling at every step
        while run < len(self.trace) and self.trace[-run - 1][0] < self.trace[-run][0] \
                and self.trace[-run - 1][1] > self.trace[-run][1]:
            run += 1
        (n0, a0, l0), (n1, a1, l1) = self.trace[-run], self.trace[-1]
        if not (run > self.window and a1 < 0 and a0 - a1 > math.log(10) and l1 > 0.5 * l0 and l1 > 0):
            return None
        return (f"the rescaled loss is being driven towards 0 by shrinking α (max_j α_j fell from "
                f"{math.exp(a0):.3g} to {math.exp(a1):.3g} over the last {run - 1} steps while ||X|| grew from "
                f"{n0:.3g} to {n1:.3g} and the normalized loss stayed at {l1:.3g}); the infimum is approached "
                f"only as ||X|| → ∞, so no minimiser is in reach")


@dataclass
class Asymptote:
    """Watch ``(||X||, ||Δx||, ||∇L||, L)`` along the accepted iterates (both versions)."""

    window: int = 8
    trace: list[tuple[float, ...]] = field(default_factory=list)

    def update(self, x_norm: float, step: float, grad_norm: float, loss: float) -> str | None:
        self.trace.append(tuple(float(v) for v in (x_norm, step, grad_norm, loss)))
        if len(self.trace) <= self.window:
            return None
        (n0, _, g0, l0), *_, (n1, _, g1, l1) = run = self.trace[-self.window - 1:]
        steps = [r[1] for r in run[1:]]
        outward = all(b[0] > a[0] for a, b in zip(run, run[1:])) and n1 - n0 >= sum(steps) / 2
        steady = 0 < max(steps) <= 4 * min(steps)
        if not (outward and steady and g1 <= g0 / 10 and abs(l0 - l1) <= 0.01 * abs(l1)):
            return None
        return (f"||X|| grew from {n0:.3g} to {n1:.3g} over the last {self.window} steps of undiminished "
                f"length ({min(steps):.3g} to {max(steps):.3g}) while ||∇L|| fell from {g0:.3g} to {g1:.3g} and the "
                f"loss levelled off at {l1:.6g}: the curvature along the path vanishes, so the loss approaches its "
                f"infimum only as ||X|| → ∞ and no minimiser is in reach")


def partial_escape(log_alpha: list[float], row_loss: list[float], eps: float) -> str | None:
    """Rows that have left the rescaled loss unfitted (module docstring), as a message, or None."""
    top = max(log_alpha)
    gone = [j for j, (a, ell) in enumerate(zip(log_alpha, row_loss))
            if 2 * (a - top) < math.log(eps) and ell > loss_floor(1, eps)]
    if not gone:
        return None
    worst = max(gone, key=lambda j: row_loss[j])
    return (f"partial escape: {len(gone)} of {len(log_alpha)} rows weigh less than eps relative to the largest "
            f"(min_j log α_j = {min(log_alpha[j] for j in gone):.3g} against max {top:.3g}) while still unfitted "
            f"(row {worst}: normalized loss {row_loss[worst]:.3g}): the rescaled loss no longer sees them at working "
            f"precision, and driving their α_j → 0 lowers it further, so this is no minimiser that fits B")


def classify(stop: Stop, *, loss_normalized: float, n: int, eps: float,
             eigenvalues: tuple[float, float] | None = None, size: int = 1) -> tuple[Point, str]:
    """``(Point, sentence)`` for the last iterate; ``eigenvalues = (λ_min, λ_max)`` of the ``size × size``
    Hessian, or None."""
    if stop is Stop.UNBOUNDED:
        return Point.UNBOUNDED, ""
    floor = loss_floor(n, eps)
    if stop is not Stop.CONVERGED:
        return Point.NOT_STATIONARY, ""
    if loss_normalized <= floor:
        return Point.GLOBAL_MINIMUM, (f"global minimum: the normalized loss {loss_normalized:.3g} is 0 to working "
                                      f"precision (≤ {floor:.3g}), B is fitted")
    hint = (f"the normalized loss is {loss_normalized:.3g} > 0 here, so B is not fitted: the global minimum if B is "
            f"not realisable, otherwise a local one (start from the normalized solution, the default for the "
            f"rescaled version, or use restarts)")
    if eigenvalues is None:
        return Point.STATIONARY, f"stationary point (Hessian not classified: too large); {hint}"
    lo, hi = (float(v) for v in eigenvalues)
    delta = EIG_ULPS * size * eps * max(abs(hi), abs(lo))
    eig = f"Hessian eigenvalues in [{lo:.3g}, {hi:.3g}]"
    if lo > delta:
        return Point.LOCAL_MINIMUM, f"local minimum ({eig}, positive definite); {hint}"
    if lo < -delta:
        return Point.SADDLE, f"saddle point ({eig}: a direction of negative curvature); {hint}"
    return Point.DEGENERATE, f"degenerate stationary point ({eig}: singular to working precision); {hint}"
