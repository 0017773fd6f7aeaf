r"""Enclosures over a box of the matrix whose spectral norm is a Lipschitz constant (the ``run`` side).

The problem is a stack of softmax rows sharing the variable ``x ∈ R^p``: row ``j`` has a matrix
``A_j ∈ R^{n×p}`` and a target ``b_j``. The vector form is one row (``A_1 = A``, ``p = d``); the matrix
form has ``n`` rows ``A_j = A1[j,:] ⊗ A2`` (``p = d²``, ``x = vec(X)`` row-major), since row ``j`` of
``A1 X A2ᵀ`` is ``(A1[j,:] ⊗ A2) vec(X)``. For convex boxes, ``Lip = sup_box ||M(x)||₂`` with

* ``quantity = "f"``: ``M = J_f`` stacked over rows, ``J_j = diag(f)(A_j − 1 āᵀ)``, ``ā = A_jᵀ f``
  (this is ``(diag f − f fᵀ) A_j`` with the softmax mean subtracted first: fewer repeated terms);
* ``quantity = "grad"``, normalized: ``H = Σ_j Σ_i f_i (2 f_i − b_i − γ) ã_i ã_iᵀ``, ``ã_i = a_i − ā``,
  ``γ = ⟨f, f − b⟩`` — the Hessian ``Aᵀ K A`` of ``½||f − b||²`` rewritten through
  ``diag f − f fᵀ = (I − f 1ᵀ) diag(f) (I − 1 fᵀ)``;
* ``quantity = "grad"``, rescaled: ``H = Σ_j A_jᵀ K_j A_j``,
  ``K = diag(u∘(h + u − ⟨h,b⟩)) − (u∘b)uᵀ − u(u∘b)ᵀ + ||b||² u uᵀ``, ``u = exp(s)``, ``h = u − αb``.

Against the dependency problem: the softmax is evaluated as ``f_i = 1/(1 + Σ_{k≠i} exp(t_ik))`` with
the logit gaps ``t_ik = (a_k − a_i)·x`` taken straight from the box (each gap's range is then exact),
and every entry is enclosed by the mean-value form (:mod:`.jet`) intersected with its direct
enclosure; the width shrinks like the square of the box width instead of linearly.
"""
from __future__ import annotations

import flint

from .jet import Jet, exp


def linear(c, x):
    """``Σ_m c_m x_m`` for constants ``c``; on jets, without forming the intermediate jets."""
    if not isinstance(x[0], Jet):
        return sum((cm * xm for cm, xm in zip(c, x)), flint.arb(0))
    zero = flint.arb(0)
    return Jet(sum((cm * xm.v for cm, xm in zip(c, x)), zero),
               tuple(sum((cm * xm.g[k] for cm, xm in zip(c, x)), zero) for k in range(len(x[0].g))))


def softmax(A, x):
    """``f`` of one row through the logit gaps (see the module docstring)."""
    n, p = len(A), len(x)
    f = []
    for i in range(n):
        denom = 1
        for k in range(n):
            if k != i:
                denom = exp(linear([A[k][m] - A[i][m] for m in range(p)], x)) + denom
        f.append(flint.arb(1) if isinstance(denom, int) else _reciprocal_of_at_least_one(denom))  # n = 1: f = 1
    return f


def _reciprocal_of_at_least_one(d):
    """``1/d`` for ``d = 1 + Σ exp(·) ≥ 1``, from the endpoints. On a wide box the ball of ``d`` reaches below
    1, even below 0 (``[e^−44, e^44]`` is stored as a midpoint and a 30-bit radius), and ``1/d`` would be
    nan; clamping its lower end at 1 uses what is known, ``d ≥ 1``. ``d(1/d) = −(1/d)² dd``."""
    v = d.v if isinstance(d, Jet) else d
    lo = v.lower() if v.lower() >= 1 else flint.arb(1)
    q = (1 / v.upper()).union(1 / lo)
    return Jet(q, tuple(-q * q * a for a in d.g)) if isinstance(d, Jet) else q


def _centred(A, f):
    p = len(A[0])
    abar = [sum((f[i] * A[i][m] for i in range(len(A))), 0) for m in range(p)]
    return [[A[i][m] - abar[m] for m in range(p)] for i in range(len(A))]


def jacobian_f(rows, x):
    """``J_f`` (``n·rows × p``) of the stacked softmax rows."""
    M = []
    for A, _ in rows:
        if len(A) == 1:  # one logit: f ≡ 1, an exact zero row (in balls, A − ā would only be 0 ± rounding)
            M.append([flint.arb(0)] * len(x))
            continue
        f = softmax(A, x)
        At = _centred(A, f)
        M.extend([[f[i] * a for a in At[i]] for i in range(len(A))])
    return M


def hessian_normalized(rows, x):
    p = len(x)
    H = [[0] * p for _ in range(p)]
    for A, b in rows:
        if len(A) == 1:  # f ≡ 1: the row's loss ½(1 − b)² is constant
            continue
        f = softmax(A, x)
        At = _centred(A, f)
        gamma = sum((f[i] * (f[i] - b[i]) for i in range(len(A))), 0)
        for i in range(len(A)):
            w = f[i] * (2 * f[i] - b[i] - gamma)
            for k in range(p):
                for m in range(k, p):
                    H[k][m] = H[k][m] + w * At[i][k] * At[i][m]
    return _symmetrize(H)


def hessian_rescaled(rows, x):
    p = len(x)
    H = [[0] * p for _ in range(p)]
    for A, b in rows:
        n = len(A)
        u = [exp(linear(A[i], x)) for i in range(n)]
        alpha = sum(u, 0)
        h = [u[i] - alpha * b[i] for i in range(n)]
        beta = sum((h[i] * b[i] for i in range(n)), 0)
        bb = sum((bi * bi for bi in b), 0)
        ub = [u[i] * b[i] for i in range(n)]
        # K A, row by row, then Aᵀ (K A)
        ua = [sum((u[i] * A[i][m] for i in range(n)), 0) for m in range(p)]
        uba = [sum((ub[i] * A[i][m] for i in range(n)), 0) for m in range(p)]
        for k in range(p):
            for m in range(k, p):
                diag = sum((u[i] * (h[i] + u[i] - beta) * A[i][k] * A[i][m] for i in range(n)), 0)
                H[k][m] = H[k][m] + diag - uba[k] * ua[m] - ua[k] * uba[m] + bb * ua[k] * ua[m]
    return _symmetrize(H)


def _symmetrize(H):
    for k in range(len(H)):
        for m in range(k):
            H[k][m] = H[m][k]
    return H


FORMULAS = {("f", None): jacobian_f, ("grad", "normalized"): hessian_normalized,
            ("grad", "rescaled"): hessian_rescaled}


def formula(quantity, version):
    return FORMULAS[(quantity, None if quantity == "f" else version)]


def point(fn, rows, x):
    """``M`` at the ball point ``x`` (a tight enclosure when ``x`` is thin)."""
    return [[flint.arb(e) if isinstance(e, int) else e for e in row] for row in fn(rows, x)]


def on_box(fn, rows, xc, X, spread=None):
    """Enclosure of ``{M(x) : x ∈ X}``: mean-value form about ``xc ∈ X``, intersected with the direct one.

    ``spread`` (a list of p zeros), if given, receives ``Σ_entries |∂_k M| · rad(X_k)`` per coordinate: how much
    of the entries' spread each side of the box is responsible for (where bisecting helps most)."""
    p = len(X)
    Mc = fn(rows, xc)
    MJ = fn(rows, [Jet.variable(X[k], k, p) for k in range(p)])
    D = [X[k] - xc[k] for k in range(p)]
    out = []
    for rc, rj in zip(Mc, MJ):
        row = []
        for c, j in zip(rc, rj):
            if not isinstance(j, Jet):  # a structural zero / constant entry
                row.append(flint.arb(j) if isinstance(j, int) else j)
                continue
            mv = c + sum((gk * dk for gk, dk in zip(j.g, D)), flint.arb(0))
            if spread is not None:
                for k in range(p):
                    w = float((j.g[k].abs_upper() * D[k].abs_upper()).upper())
                    spread[k] += w if w == w else float("inf")  # nan (an unbounded ball) counts as infinite
            row.append(meet(mv, j.v))
        out.append(row)
    return out


class Disjoint(ArithmeticError):
    """Two enclosures of the same quantity that do not overlap: one of them is wrong (a bug here or in arb)."""


def meet(a, b):
    """``a ∩ b`` for two enclosures of the same value. Both contain it, so they overlap; if they do not, an
    enclosure is false and no bound from it may be used: raise :class:`Disjoint` (never drop one quietly)."""
    if not a.overlaps(b):
        raise Disjoint(f"the mean-value enclosure {a.str(5)} and the direct one {b.str(5)} of an entry do not overlap")
    return a.intersection(b)
