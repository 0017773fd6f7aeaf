r"""In-context learning as a bounded shift of the target (matrix form, both versions).

The in-context-learning theorems of 2307.02419 and its precursor 2304.13276 (docs/design.md §2) say: moving
the data ``(A1, A2) → (A1', A2')`` (what a prompt does) or the weights ``X → X'`` (a training step)
is the same as solving the *old* problem with a shifted target ``B̃``, and ``||B̃ − B||`` is at most a
factor times the move. With ``S = A1 X A2ᵀ``, ``S' = A1' X' A2'ᵀ``, ``U = exp(S)``, ``α = U 1``,
``D = diag(α)``, ``F = D⁻¹U`` (primes for the new problem):

* **normalized**, residual ``F(S) − B``:  ``F(S') − B = F(S) − B̃``  ⇔  ``B̃ = B + F(S) − F(S')``;
* **rescaled**, residual ``H(S; B) = U − D B``:  ``U' − D'B = U − D B̃``  ⇔  ``B̃ = D⁻¹(U − U' + D'B)``,
  row by row ``b̃_j = (u_j − u'_j + α'_j b_j) / α_j``, so ``B̃ − B = −D⁻¹(H(S'; B) − H(S; B))``.
  Computed as ``b̃_j = f(s_j) − h(s'_j; b_j)/α_j``: the difference ``α'_j b_j − u'_j`` is the new
  rescaled residual, evaluated without cancellation and at each entry's own scale
  (:func:`attnreg.blocks.residual_rows`), and ``α_j = e^{c_j} α̃_j`` is divided out in scaled form:
  finite and accurate whenever B̃ is representable (the textbook ``(u − u' + α'b)/α`` cancels to 0
  for ``X = −40 → 0``). B̃'s rows need not stay on the
  simplex or in the unit ball; only ``||B̃ − B||`` matters.

Bounds, stated for one step size ``δ`` shared with the paper-style factor: ``δ = ||X' − X||_F`` (weight
shift) or ``δ = ||A1'⊗A2' − A1⊗A2||`` (data shift; spectral norm by power iteration, never formed),
and ``R = max(||A1⊗A2||, ||A1'⊗A2'||, ||X||_F, ||X'||_F)``. Since ``||S' − S||_F ≤ R δ`` and every
``|S_ij| ≤ R²`` (derived):

* normalized: ``||B̃ − B||_F = ||F(S) − F(S')||_F ≤ ½||S' − S||_F ≤ (R/2)·δ`` (softmax is ½-Lipschitz);
* rescaled, with ``β = max_j ||b_j||`` (β ≤ 1 in the papers): ``dh_j = (diag(u_j) − b_j u_jᵀ) ds_j`` gives
  ``||H(S') − H(S)||_F ≤ (1 + β√n) e^{R²} ||S' − S||_F`` and ``α_j ≥ n e^{−R²}``, so
  ``||B̃ − B||_F ≤ ((1 + β√n)/n) e^{2R²} R · δ``;
* paper-style (2304.13276, provenance *recalled*): ``M δ`` with ``M = n^1.5 exp(10R²)``.

``shift`` returns the measurement and these bounds; :func:`attnreg.reference.icl.exactness` checks the
construction at high precision (new residual with B against old residual with B̃).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from array_api_compat import device

from ._norms import l2, power_iteration, spectral
from ._rows import _rescaled_parts, shift as _shift
from ._scale import times_exp
from ._types import Array, Namespace
from .blocks import f, softmax_rows
from ._validate import check_finite, check_int, check_move, check_shape, check_version, namespace

__all__ = ["shifted_target", "shift", "Shift"]


def _problem(A1: Array, A2: Array, B: Array, X: Array, A1_new: Array | None, A2_new: Array | None,
             X_new: Array | None) -> tuple[Namespace, int, tuple[Array, Array, Array], str]:
    kind = check_move(A1_new, A2_new, X_new)
    arrays = dict(A1=A1, A2=A2, B=B, X=X, A1_new=A1_new, A2_new=A2_new, X_new=X_new)
    arrays = {k: a for k, a in arrays.items() if a is not None}
    xp = namespace(**arrays)
    if A1.ndim != 2:
        raise ValueError(f"A1 must be a 2-D array of shape (n, d), got shape {tuple(A1.shape)}")
    n, d = A1.shape
    for name, a in arrays.items():
        want = (n, n) if name == "B" else (d, d) if name.startswith("X") else (n, d)
        check_shape(name, a, want, "(n, n)" if name == "B" else "(d, d)" if name.startswith("X") else "(n, d)")
    check_finite(xp, **arrays)
    new = (A1 if A1_new is None else A1_new, A2 if A2_new is None else A2_new, X if X_new is None else X_new)
    return xp, n, new, kind


def shifted_target(A1: Array, A2: Array, B: Array, X: Array, *, version: str, A1_new: Array | None = None,
                   A2_new: Array | None = None, X_new: Array | None = None) -> Array:
    """``B̃`` with residual(new problem, B) = residual(old problem, B̃) (module docstring)."""
    version = check_version(version)
    xp, _, (A1n, A2n, Xn), _ = _problem(A1, A2, B, X, A1_new, A2_new, X_new)
    if version == "normalized":
        return B + f(A1, A2, X) - f(A1n, A2n, Xn)
    S, Sn = A1 @ (X @ A2.T), A1n @ (Xn @ A2n.T)
    c, E = _shift(S, xp=xp, version="normalized")  # α = e^c·α̃
    q = _rescaled_parts(Sn, B, xp=xp, scale_b=False)  # h(S'; B) = e^k·hh entrywise
    return softmax_rows(S, xp=xp) - times_exp(q["hh"] / xp.sum(E, axis=1, keepdims=True), q["k"] - c, xp=xp)


@dataclass(frozen=True)
class Shift:
    version: str
    kind: str  # "data" | "weight"
    n: int
    measured: float  # ||B̃ − B||_F
    step: float  # δ: ||X' − X||_F or ||A1'⊗A2' − A1⊗A2||
    logit_step: float  # ||S' − S||_F
    logit_step_inf: float  # max |S' − S| (the precursor's step restriction asks < 0.01)
    R: float
    derived_constant: float  # R/2, or ((1 + β√n)/n) e^{2R²} R with β the largest row norm of B
    paper_constant: float  # n^1.5 exp(10R²) (inf when it overflows float64)

    @property
    def derived_bound(self) -> float:
        return self.derived_constant * self.step

    @property
    def paper_bound(self) -> float:
        return self.paper_constant * self.step

    def as_dict(self) -> dict[str, object]:
        return dict(asdict(self), derived_bound=self.derived_bound, paper_bound=self.paper_bound)


def shift(A1: Array, A2: Array, B: Array, X: Array, *, version: str, A1_new: Array | None = None,
          A2_new: Array | None = None, X_new: Array | None = None, iterations: int = 200) -> Shift:
    """Measure ``||B̃ − B||_F`` and the derived and paper-style bounds (module docstring)."""
    iterations = check_int("iterations", iterations, minimum=1)
    Bt = shifted_target(A1, A2, B, X, version=version, A1_new=A1_new, A2_new=A2_new, X_new=X_new)
    xp, n, (A1n, A2n, Xn), kind = _problem(A1, A2, B, X, A1_new, A2_new, X_new)

    dS = A1n @ (Xn @ A2n.T) - A1 @ (X @ A2.T)
    R = max(spectral(A1, xp=xp) * spectral(A2, xp=xp), spectral(A1n, xp=xp) * spectral(A2n, xp=xp),
            l2(X, xp=xp), l2(Xn, xp=xp))
    step = l2(Xn - X, xp=xp) if kind == "weight" else _kron_difference_norm(xp, A1, A2, A1n, A2n, iterations)
    if version == "normalized":
        derived = R / 2
    else:
        beta = _largest_row_norm(B, xp=xp)
        derived = (1 + beta * math.sqrt(n)) / n * _exp(2 * R * R) * R
    paper = n**1.5 * _exp(10 * R * R)
    return Shift(version, kind, n, l2(Bt - B, xp=xp), step, l2(dS, xp=xp), float(xp.max(xp.abs(dS))), R, derived,
                 paper)


def _largest_row_norm(B: Array, *, xp: Namespace) -> float:
    """``β = max_j ||b_j||₂`` (the derived bound's β, module docstring), scaled by ``max|B|`` as :func:`l2`: the
    unscaled ``sqrt(max_j Σ_k B_jk²)`` is the same number mathematically but its squares overflow to inf for
    entries above ~1e154 (and underflow to 0 below ~1e-154)."""
    top = float(xp.max(xp.abs(B)))
    if top == 0:
        return 0.0
    Z = B / top
    return top * math.sqrt(float(xp.max(xp.sum(Z * Z, axis=1))))


def _exp(x: float) -> float:
    return math.exp(x) if x < 709 else math.inf


EXACT_D = 32  # up to this d the normal operator (d² × d²) is built and its top eigenvalue taken exactly


def _kron_difference_norm(xp: Namespace, A1: Array, A2: Array, A1n: Array, A2n: Array, iterations: int) -> float:
    """``||A1'⊗A2' − A1⊗A2||₂``: the largest eigenvalue of the normal operator ``N = TᵀT`` of
    ``T: V ↦ A1' V A2'ᵀ − A1 V A2ᵀ``, built column by column (``d ≤ EXACT_D``); above that, power iteration
    on ``N`` from a fixed irregular start until the estimate settles to 1e-12 or after ``iterations`` steps —
    a lower estimate (a start orthogonal to the top singular vector settles below it)."""
    d = A1.shape[1]

    def normal(V: Array) -> Array:
        W = A1n @ V @ A2n.T - A1 @ V @ A2.T
        return A1n.T @ W @ A2n - A1.T @ W @ A2

    if d <= EXACT_D:
        eye = xp.eye(d * d, dtype=A1.dtype, device=device(A1))
        N = xp.stack([xp.reshape(normal(xp.reshape(eye[k, :], (d, d))), (d * d,)) for k in range(d * d)], axis=1)
        top = float(xp.max(xp.linalg.eigvalsh((N + N.T) / 2)))
        return math.sqrt(max(top, 0.0))
    k = xp.reshape(xp.arange(d * d, dtype=A1.dtype, device=device(A1)), (d, d))
    V = xp.cos(k * 2.399963229728653 + 0.5)  # golden-angle entries: no symmetry for a top vector to be orthogonal to
    V = V / l2(V, xp=xp)
    lam, _ = power_iteration(normal, V, xp=xp, iterations=iterations, rtol=2e-12)
    return math.sqrt(lam)
