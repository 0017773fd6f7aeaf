r"""The checker's own enclosures: ``M`` and its partial derivatives from hand-derived matrix formulas.

Independent of :mod:`.enclose` (which differentiates other formulas automatically): here every
derivative is written out by hand. For one row with
logits ``s = A x``, ``S = diag(f) − f fᵀ`` and a direction ``v = A e_k`` (so ``ds = v``):

* ``f_i = 1/Σ_j exp((a_j − a_i)·x)`` (no logit appears twice in a gap);
* ``M = S A`` (Jacobian of ``f``), evaluated as ``(SA)_ik = Σ_{j≠i} S_ij (A_jk − A_ik)`` (rows of ``S``
  sum to 0); ``∂_k M = dS A`` with ``q = S v``, ``dS = diag(q) − q fᵀ − f qᵀ``;
* normalized Hessian ``H = Aᵀ K A``, ``K_kl = S_kl (w_k − ⟨f,c⟩) − f_k f_l (w_l − ⟨f,w⟩)``,
  ``c = f − b``, ``w = f + c``; with ``df = q``, ``dw = 2q``,
  ``d⟨f,c⟩ = ⟨q, c⟩ + ⟨f, q⟩``, ``d⟨f,w⟩ = ⟨q, w⟩ + 2⟨f, q⟩``:
  ``dK_kl = dS_kl (w_k − ⟨f,c⟩) + S_kl (dw_k − d⟨f,c⟩) − (q_k f_l + f_k q_l)(w_l − ⟨f,w⟩)
  − f_k f_l (dw_l − d⟨f,w⟩)``;
* rescaled ``K_kl = δ_kl u_l (h_l + u_l − β) − u_k u_l (b_k + b_l − ||b||²)``, ``u = exp(s)``,
  ``h = u − αb``, ``β = ⟨h, b⟩``; with ``du = u∘v``, ``dα = Σ du``, ``dh = du − dα b``, ``dβ = ⟨dh, b⟩``:
  ``dK_kl = δ_kl (du_l (h_l + u_l − β) + u_l (dh_l + du_l − dβ)) − (du_k u_l + u_k du_l)(b_k + b_l − ||b||²)``.

The matrix form stacks the rows' Jacobians, and sums their Hessians. The normalized ``K`` has
``K1 = 0`` (``Σ_k S_kl = 0`` and ``Σ_k f_k = 1``), so ``H = ÃᵀKÃ`` with ``Ã = A − 1a_jᵀ`` for the
dominant row ``j``: no cancelling ``O(f ||A||²)`` terms at saturated rows. ``enclosure`` combines them in
the mean-value form ``M(X) ⊆ M(c) + Σ_k ∂_k M(X) (X_k − c_k)``.
"""
from __future__ import annotations

import flint

ZERO = flint.arb(0)


class Disjoint(ArithmeticError):
    """The checker's two enclosures of one entry do not overlap: one is false (a bug here or in arb)."""


def _exp(t):
    """exp of a ball by its endpoints (exp increases): contains ``[e^lower, e^upper]``, but as a midpoint and
    a 30-bit radius, so a wide ball's lower end may fall to 0 or below (``_inverse`` clamps the sums ≥ 1)."""
    return t.lower().exp().union(t.upper().exp())


def _inverse(t):
    """1/t for a sum t ≥ 1 (its j = i term is exp(0)); the lower end of a wide ball may dip below 1."""
    lo = t.lower() if t.lower() >= 1 else flint.arb(1)
    return (1 / lo).union(1 / t.upper())


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), ZERO)


def _mm(P, Q):
    cols = list(zip(*Q))
    return [[_dot(r, c) for c in cols] for r in P]


def _t(P):
    return [list(c) for c in zip(*P)]


def _row(A, b, x, version, need):
    """``(K or S, [dK_k or dS_k for each k])`` of one row: the middle factor and its derivatives."""
    n, p = len(A), len(x)
    if n == 1 and version != "rescaled":  # f ≡ 1: S = 0 and K = 0 exactly
        return [[ZERO]], [[[ZERO]] for _ in range(p)]
    s = [_dot(a, x) for a in A]
    V = [[A[i][k] for i in range(n)] for k in range(p)]  # v_k = A e_k
    if version == "rescaled":
        u = [_exp(e) for e in s]
        alpha = sum(u, ZERO)
        h = [u[i] - alpha * b[i] for i in range(n)]
        beta, bb = _dot(h, b), _dot(b, b)
        K = [[(u[l] * (h[l] + u[l] - beta) if k == l else ZERO) - u[k] * u[l] * (b[k] + b[l] - bb)
              for l in range(n)] for k in range(n)]
        dKs = []
        for v in V:
            du = [u[i] * v[i] for i in range(n)]
            dalpha = sum(du, ZERO)
            dh = [du[i] - dalpha * b[i] for i in range(n)]
            dbeta = _dot(dh, b)
            dKs.append([[(du[l] * (h[l] + u[l] - beta) + u[l] * (dh[l] + du[l] - dbeta) if k == l else ZERO)
                         - (du[k] * u[l] + u[k] * du[l]) * (b[k] + b[l] - bb) for l in range(n)] for k in range(n)])
        return K, dKs
    # f_i = 1 / Σ_j exp(s_j − s_i), each gap taken from x directly: its range over a box is then exact
    f = [_inverse(sum((_exp(_dot([aj - ai for aj, ai in zip(A[j], A[i])], x)) for j in range(n)), ZERO))
         for i in range(n)]
    S = [[(f[k] if k == l else ZERO) - f[k] * f[l] for l in range(n)] for k in range(n)]
    dSs, qs = [], []
    for v in V:
        q = [_dot(S[i], v) for i in range(n)]
        qs.append(q)
        dSs.append([[(q[k] if k == l else ZERO) - q[k] * f[l] - f[k] * q[l] for l in range(n)] for k in range(n)])
    if version is None:
        return S, dSs
    c = [f[i] - b[i] for i in range(n)]
    w = [f[i] + c[i] for i in range(n)]
    fc, fw = _dot(f, c), _dot(f, w)
    K = [[S[k][l] * (w[k] - fc) - f[k] * f[l] * (w[l] - fw) for l in range(n)] for k in range(n)]
    dKs = []
    for q, dS in zip(qs, dSs):
        dw = [2 * t for t in q]
        dfc, dfw = _dot(q, c) + _dot(f, q), _dot(q, w) + 2 * _dot(f, q)
        dKs.append([[dS[k][l] * (w[k] - fc) + S[k][l] * (dw[k] - dfc) - (q[k] * f[l] + f[k] * q[l]) * (w[l] - fw)
                     - f[k] * f[l] * (dw[l] - dfw) for l in range(n)] for k in range(n)])
    return K, dKs


def matrix_and_derivatives(rows, x, quantity, version):
    """``(M(x), [∂_k M(x)])`` with arb entries; ``x`` may be a box (then both are enclosures over it)."""
    p = len(x)
    ver = None if quantity == "f" else version
    M, dM = [], [[] for _ in range(p)]
    if quantity != "f":
        M = [[ZERO] * p for _ in range(p)]
        dM = [[[ZERO] * p for _ in range(p)] for _ in range(p)]
    for A, b in rows:
        mid, dmids = _row(A, b, x, ver, True)
        if quantity == "f":
            # rows of S sum to 0, so (SA)_ik = Σ_{j≠i} S_ij (A_jk − A_ik): no diagonal term, no cancellation
            n = len(A)
            M.extend([[sum((mid[i][j] * (A[j][k] - A[i][k]) for j in range(n) if j != i), ZERO)
                       for k in range(p)] for i in range(n)])
            for k in range(p):
                dM[k].extend(_mm(dmids[k], A))
        else:
            if version != "rescaled":
                A = _shifted(A, x)
            At = _t(A)
            M = _add(M, _mm(At, _mm(mid, A)))
            for k in range(p):
                dM[k] = _add(dM[k], _mm(At, _mm(dmids[k], A)))
    return M, dM


def _shifted(A, x):
    """``Ã = A − 1 a_jᵀ``, ``j`` the largest logit at the box's midpoint. The normalized ``K`` (and each ``dK``)
    has rows and columns summing to 0, so ``AᵀKA = ÃᵀKÃ`` exactly for the true ``K``; with ``ã_j = 0`` the terms
    of a nearly saturated row j, each ``O(f_min ||A||²)`` and cancelling to ``O(f_min²)``, are never formed.
    Any ``j`` is sound (the data are exact); the dominant one keeps the enclosure tight."""
    s = [sum(float(a.mid()) * float(t.mid()) for a, t in zip(row, x)) for row in A]
    j = max(range(len(A)), key=lambda i: (s[i], -i))
    return [[a - aj for a, aj in zip(row, A[j])] for row in A]


def _add(P, Q):
    return [[a + b for a, b in zip(r, s)] for r, s in zip(P, Q)]


def enclosure(rows, xc, X, quantity, version):
    """Enclosure of ``{M(x) : x ∈ X}``: the mean-value form about ``xc ∈ X``, met with the direct one."""
    Mc, _ = matrix_and_derivatives(rows, xc, quantity, version)
    MX, dM = matrix_and_derivatives(rows, X, quantity, version)
    D = [X[k] - xc[k] for k in range(len(X))]
    out = []
    for i in range(len(Mc)):
        row = []
        for j in range(len(Mc[0])):
            mv = Mc[i][j] + sum((dM[k][i][j] * D[k] for k in range(len(D))), ZERO)
            if not mv.overlaps(MX[i][j]):  # both contain M_ij: one of them is false, nothing may be verified
                raise Disjoint(f"entry ({i}, {j}): the mean-value enclosure {mv.str(5)} and the direct one "
                               f"{MX[i][j].str(5)} do not overlap")
            row.append(mv.intersection(MX[i][j]))
        out.append(row)
    return out
