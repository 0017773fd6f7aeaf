r"""What a solver run returns, and how it tells a minimiser from an escape to infinity.

Both solvers, :func:`attnreg.solve` (float64 / array API) and :func:`attnreg.reference.solve`
(mpmath), return a :class:`SolveResult` of the same shape; only the number types differ (arrays and
floats, resp. ``mpmath.matrix`` and ``mpf``).

**The rescaled escape** (DESIGN §2, paper-notes §5.7). Row j of the rescaled loss is
``ℓ^R_j = ½||u_j − α_j b_j||² = α_j² ℓ^N_j`` (``h = α c``), so ``L_R = Σ_j α_j² ℓ^N_j``: driving every
``α_j → 0`` (all logits → −∞) sends ``L_R → 0`` without fitting ``B`` at all. When ``B`` is not
realisable the infimum 0 is then approached only as ``||X|| → ∞`` and no minimiser is in reach; a
gradient test alone would eventually "converge", since ``∇L_R`` shrinks like ``L_R``. :class:`Escape`
watches the accepted iterates for the signature of that ray: for at least ``window`` consecutive steps
``||X||`` grows and ``max_j α_j`` falls at every step, over that run ``max_j α_j`` falls by at least a
factor 10 and to below 1 (then every logit is negative), while the normalized loss
``L_N = Σ_j ℓ^N_j`` (the fit itself) falls by less than half. Near a genuine minimiser ``||X||`` and
``α`` settle and ``L_N`` falls with ``L_R``.

**Asymptotes** (any version). Part of the rows can escape too (their ``α_j → 0`` while others keep
theirs), and a softmax can saturate: then ``L`` decreases towards a positive limit as ``||X|| → ∞``.
Newton-type steps then keep a constant length while ``||∇L||`` falls geometrically (on ``e^{−t}``
a Newton step is ``Δt = 1``): the curvature along the path, about ``||∇L|| / ||Δx||``, vanishes. Near a
finite minimiser the steps shrink instead (quadratically when it is nondegenerate, by a constant factor
such as ⅔ when it is degenerate). :class:`Asymptote` reports a run of ``window`` steps in which
``||X||`` grows at every step and in all by at least half the summed step lengths (the steps point
outwards), the longest step is at most 4 times the shortest, ``||∇L||`` falls tenfold and the loss
changes by less than 1%. Seen on a
non-realisable rescaled problem (n = 10, d = 3): Newton went out to ``||X|| ≈ 2000`` with ``||∇L||``
halving per step and ``L → 0.35207…``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SolveResult:
    """The outcome of a solver run.

    ``X`` the last iterate (``d × d``; length ``d`` for the vector form), ``loss`` and ``grad_norm``
    (``||∇L(X)||₂ = ||∇L||_F``) there, ``iterations`` (accepted steps), ``converged`` (whether
    ``grad_norm ≤ tol``), ``reason`` (one sentence: why it stopped), ``history`` (one
    ``(iteration, loss, grad_norm)`` triple per accepted iterate, the start included), ``method``,
    ``version``, and ``info`` (solver-specific figures: tolerance, precision ladder, ...).
    """

    X: object
    loss: object
    grad_norm: object
    iterations: int
    converged: bool
    reason: str
    history: list = field(repr=False)
    method: str = ""
    version: str = ""
    info: dict = field(default_factory=dict, repr=False)


@dataclass
class Escape:
    """Watch ``(||X||, log max_j α_j, L_N)`` along the accepted iterates (rescaled version only)."""

    window: int = 5
    trace: list = field(default_factory=list)

    def update(self, x_norm, log_alpha_max, loss_normalized) -> str | None:
        """Record one iterate; return the stop reason when the escape signature is present."""
        self.trace.append((float(x_norm), float(log_alpha_max), float(loss_normalized)))
        run = 1  # length of the trailing run with ||X|| growing and max α falling at every step
        while run < len(self.trace) and self.trace[-run - 1][0] < self.trace[-run][0] \
                and self.trace[-run - 1][1] > self.trace[-run][1]:
            run += 1
        (n0, a0, l0), (n1, a1, l1) = self.trace[-run], self.trace[-1]
        if not (run > self.window and a1 < 0 and a0 - a1 > math.log(10) and l1 > 0.5 * l0 and l1 > 0):
            return None
        return (f"unbounded: the rescaled loss is being driven towards 0 by shrinking α (max_j α_j fell from "
                f"{math.exp(a0):.3g} to {math.exp(a1):.3g} over the last {run - 1} steps while ||X|| grew from "
                f"{n0:.3g} to {n1:.3g} and the normalized loss stayed at {l1:.3g}); the infimum is approached "
                f"only as ||X|| → ∞, so no minimiser is in reach (DESIGN §2, paper-notes §5.7)")


@dataclass
class Asymptote:
    """Watch ``(||X||, ||Δx||, ||∇L||, L)`` along the accepted iterates (both versions)."""

    window: int = 8
    trace: list = field(default_factory=list)

    def update(self, x_norm, step, grad_norm, loss) -> str | None:
        self.trace.append(tuple(float(v) for v in (x_norm, step, grad_norm, loss)))
        if len(self.trace) <= self.window:
            return None
        (n0, _, g0, l0), *_, (n1, _, g1, l1) = run = self.trace[-self.window - 1:]
        steps = [r[1] for r in run[1:]]
        outward = all(b[0] > a[0] for a, b in zip(run, run[1:])) and n1 - n0 >= sum(steps) / 2
        steady = 0 < max(steps) <= 4 * min(steps)
        if not (outward and steady and g1 <= g0 / 10 and abs(l0 - l1) <= 0.01 * abs(l1)):
            return None
        return (f"unbounded: ||X|| grew from {n0:.3g} to {n1:.3g} over the last {self.window} steps of undiminished "
                f"length ({min(steps):.3g} to {max(steps):.3g}) while ||∇L|| fell from {g0:.3g} to {g1:.3g} and the "
                f"loss levelled off at {l1:.6g}: the curvature along the path vanishes, so the loss approaches its "
                f"infimum only as ||X|| → ∞ and no minimiser is in reach")
