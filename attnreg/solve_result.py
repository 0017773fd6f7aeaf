r"""What a solver run returns: the point, why the run stopped, and what kind of point it is.

Both solvers, :func:`attnreg.solve` (float64 / array API) and :func:`attnreg.reference.solve`
(mpmath), return a :class:`SolveResult` of the same shape; only the number types differ (arrays and
floats, resp. ``mpmath.matrix`` and ``mpf``). The rules that decide the stop and the kind of point
live in :mod:`attnreg.stopping`, shared by both solvers and by the matrix and vector forms.

``stop`` is a :class:`Stop` (why the iteration ended), ``point`` a :class:`Point` (what was found:
the classification of the last iterate), ``reason`` one sentence that begins with ``stop.value``
and gives the figures. ``converged`` is true exactly when ``stop is Stop.CONVERGED``: the gradient
met the tolerance, at the rounding floor, and no escape to infinity was detected.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Stop(enum.Enum):
    """Why the iteration ended."""

    CONVERGED = "converged"  # ||∇L|| ≤ tol and polished on to the rounding floor
    MAX_ITER = "max_iter"  # the iteration limit, ||∇L|| > tol
    LINE_SEARCH = "line search failed"  # no acceptable step, ||∇L|| > tol
    STALLED = "stalled"  # the reference ladder could not lower ||∇L|| further, ||∇L|| > tol
    UNBOUNDED = "unbounded"  # an escape to infinity (all rows, some rows, or an asymptote)
    NON_FINITE = "non-finite"  # the loss, its gradient or the problem's scale is not finite in this dtype


class Point(enum.Enum):
    """What kind of point the last iterate is (see :func:`attnreg.stopping.classify`)."""

    GLOBAL_MINIMUM = "global minimum"  # the loss is 0 to working precision: B is fitted (realisable data)
    LOCAL_MINIMUM = "local minimum"  # stationary, Hessian positive definite, loss > 0
    DEGENERATE = "degenerate stationary point"  # stationary, Hessian positive semidefinite and singular
    SADDLE = "saddle point"  # stationary, Hessian with a negative eigenvalue
    STATIONARY = "stationary point"  # stationary, loss > 0, Hessian too large to classify
    UNBOUNDED = "unbounded"  # the loss decreases towards its infimum only as ||X|| → ∞
    NOT_STATIONARY = "not a stationary point"  # the run stopped before ||∇L|| met the tolerance


@dataclass(frozen=True)
class SolveResult:
    """The outcome of a solver run.

    ``X`` the last iterate (``d × d``; length ``d`` for the vector form), ``loss`` and ``grad_norm``
    (``||∇L(X)||₂ = ||∇L||_F``) there, ``iterations`` (accepted steps, all stages), ``converged``
    (``stop is Stop.CONVERGED``), ``reason`` (one sentence: why it stopped and what was found),
    ``history`` (one ``(iteration, loss, grad_norm)`` triple per accepted iterate, the start included),
    ``method``, ``version``, ``info`` (tolerance, loss floor, Hessian eigenvalue range, stages, ...),
    ``stop`` (:class:`Stop`) and ``point`` (:class:`Point`).
    """

    X: object
    loss: object
    grad_norm: object
    iterations: int
    converged: bool
    reason: str
    history: list[tuple[Any, ...]] = field(repr=False)
    method: str = ""
    version: str = ""
    info: dict[str, Any] = field(default_factory=dict, repr=False)
    stop: Stop = Stop.MAX_ITER
    point: Point = Point.NOT_STATIONARY
