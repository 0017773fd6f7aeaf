r"""Jacobians of the claimed quantities in the ``wrt`` variable, and their operator norms (float64).

The sup of ``||q(p) − q(p')|| / ||p − p'||`` over a convex set is the sup of the operator norm of the
Jacobian ``J = ∂q/∂p`` over it (mean-value inequality), so the search maximises ``||J||_op``.

Every quantity but ``grad`` is a function of the logits: row j of the output depends on
``s_j = L_j p`` only (vector form: one row, ``s = Ax``), with logit Jacobians (paper letters,
``J_f = diag(f) − f fᵀ``)

* ``u``: ``diag(u)``;  ``f``, ``c``: ``J_f``;  ``h = u − αb``: ``diag(u) − b uᵀ``;  ``α``: ``uᵀ``;
* ``loss``: ``Σ_j p_jᵀ L_j`` with ``p_j = ∂ℓ_j/∂s_j`` (the production row kernels).

The linear maps ``L_j`` (row-major ``vec``): vector ``wrt x``: ``A``; ``wrt A``: ``I_n ⊗ xᵀ``; matrix
``wrt X``: ``A1[j, :] ⊗ A2``; ``wrt A1``: ``A2 Xᵀ`` in the columns of row j of A1; ``wrt A2``:
``I_n ⊗ (A1 X)[j, :]``. For ``grad = Aᵀ p(Ax)`` (vector) or ``A1ᵀ P A2`` (matrix) the Jacobian in x / X
is the Hessian (production ``hessian``); in the data, with ``K_j = ∂²ℓ_j/∂s_j²``:

* vector ``wrt A``: ``J[:, (i, k)] = p_i e_k + x_k (AᵀK)[:, i]``;
* matrix ``wrt A1``: ``J[(a, b), (j, i)] = δ_ai (P A2)[j, b] + A1[j, a] (M_j Xᵀ)[b, i]``, ``M_j = A2ᵀ K_j A2``;
* matrix ``wrt A2``: ``J[(a, b), (k, l)] = Σ_j A1[j, a] (A1 X)[j, l] (A2ᵀ K_j)[b, k] + (A1ᵀ P)[a, k] δ_bl``.

tests/test_claims_jacobian.py checks each against central differences of the production values.
"""
from __future__ import annotations

import numpy as np

import attnreg
from attnreg import _rows, vector
from attnreg._norms import l2, power_iteration



def logits(claim, v):
    """``S`` (rows × n) and ``B`` (rows × n) for the row kernels."""
    if claim.form == "vector":
        b = v.get("b")
        return (v["A"] @ v["x"])[None, :], None if b is None else b[None, :]
    return v["A1"] @ v["X"] @ v["A2"].T, v.get("B")


def maps(claim, v) -> np.ndarray:
    """The stacked ``L_j`` (rows × n × k), ``k`` the size of the ``wrt`` variable."""
    if claim.form == "vector":
        A, x = v["A"], v["x"]
        n = A.shape[0]
        return A[None] if claim.wrt == "x" else np.kron(np.eye(n), x[None, :])[None]
    A1, A2, X = v["A1"], v["A2"], v["X"]
    n, d = A1.shape
    if claim.wrt == "X":
        return np.einsum("ji,kl->jkil", A1, A2).reshape(n, n, d * d)
    if claim.wrt == "A1":
        L = np.zeros((n, n, n, d))
        L[np.arange(n), :, np.arange(n), :] = A2 @ X.T
        return L.reshape(n, n, n * d)
    return np.einsum("kK,jl->jkKl", np.eye(n), A1 @ X).reshape(n, n, n * d)


def _p(claim, S, B):
    """``p_j = ∂ℓ_j/∂s_j`` per row, unscaled (the rescaled kernel returns ``e^{−μ_j} p_j``)."""
    if claim.version == "normalized":
        return _rows.normalized(S, B, xp=np)[1]
    _, _, mu, P = _rows.rescaled(S, B, xp=np)
    return P * np.exp(mu)[:, None]


def _row_terms(claim, S, B):
    """``(p, K)`` per row, unscaled."""
    m, K = _rows.row_hessians(S, B, version=claim.version, xp=np)
    return _p(claim, S, B), K if m is None else K * np.exp(m)[:, None, None]


def jacobian(claim, v, L=None) -> np.ndarray:
    """Dense ``∂q/∂p`` (output size × k), row-major flattening on both sides; with ``L`` given
    (rows × n × k) the chain runs through it instead of :func:`maps` (``L = I`` gives ``∂q/∂s``)."""
    q = claim.quantity
    if q == "grad":
        return _grad_jacobian(claim, v) * claim.scale
    S, B = logits(claim, v)
    L = maps(claim, v) if L is None else L
    if q == "loss":
        return np.einsum("jn,jnk->k", _p(claim, S, B), L)[None, :] * claim.scale
    if claim.form == "vector":
        U = vector.u(v["A"], v["x"])[None, :] if q in ("u", "h", "alpha") else None
        F = vector.f(v["A"], v["x"])[None, :] if q in ("f", "c") else None
    else:
        U = attnreg.u(v["A1"], v["A2"], v["X"]) if q in ("u", "h", "alpha") else None
        F = attnreg.f(v["A1"], v["A2"], v["X"]) if q in ("f", "c") else None
    if q == "alpha":
        return np.einsum("jn,jnk->jk", U, L)
    if q == "u":
        G = U[:, :, None] * L
    elif q in ("f", "c"):
        G = F[:, :, None] * L - F[:, :, None] * np.einsum("jn,jnk->jk", F, L)[:, None, :]
    else:  # h: (diag(u) − b uᵀ) L
        G = U[:, :, None] * L - B[:, :, None] * np.einsum("jn,jnk->jk", U, L)[:, None, :]
    return G.reshape(-1, L.shape[2])


def _grad_jacobian(claim, v):
    if claim.form == "vector":
        A, x, b = v["A"], v["x"], v["b"]
        if claim.wrt == "x":
            return vector.hessian(A, b, x, version=claim.version)
        P, K = _row_terms(claim, *logits(claim, v))
        d = A.shape[1]
        return np.kron(P[0][None, :], np.eye(d)) + np.kron(A.T @ K[0], x[None, :])
    A1, A2, X, B = v["A1"], v["A2"], v["X"], v["B"]
    n, d = A1.shape
    if claim.wrt == "X":
        return attnreg.hessian(A1, A2, B, X, version=claim.version)
    P, K = _row_terms(claim, A1 @ X @ A2.T, B)
    if claim.wrt == "A1":
        M = np.einsum("nb,jnm,mc->jbc", A2, K, A2)  # M_j = A2ᵀ K_j A2
        J = np.einsum("ai,jb->abji", np.eye(d), P @ A2) + np.einsum("ja,jbi->abji", A1, M @ X.T)
        return J.reshape(d * d, n * d)
    N = np.einsum("nb,jnk->jbk", A2, K)  # N_j = A2ᵀ K_j
    J = np.einsum("ja,jl,jbk->abkl", A1, A1 @ X, N) + np.einsum("ak,bl->abkl", A1.T @ P, np.eye(d))
    return J.reshape(d * d, n * d)


def vector_data_opnorm(claim, v):
    """Vector form, ``wrt A``, every quantity but ``grad``: ``J vec(V) = G V x`` with ``G = ∂q/∂s``, so
    the operator norm is ``||G||₂ ||x||`` for the Frobenius and the spectral norm on V alike (the
    maximiser ``V = g xᵀ/||x||`` is rank one), g the top right singular vector of G."""
    n = v["A"].shape[0]
    G = jacobian(claim, v, L=np.eye(n)[None])
    if not np.all(np.isfinite(G)):
        return float("nan"), None
    sigma, g = top_singular(G)
    x = v["x"]
    nx = float(np.linalg.norm(x))
    unit = x / nx if nx > 0 else np.eye(x.size)[0]
    return sigma * nx, np.outer(g, unit).ravel()


# ---- operator norms ----------------------------------------------------------------------------

def top_singular(J: np.ndarray, iterations: int = 60):
    """``(σ₁, v₁)``: the largest singular value of J and a right singular vector. Small Gram
    matrices go to ``eigh``; larger ones to power iteration on ``JᵀJ`` from two starts (LAPACK's
    multithreaded SVD/eigh is slow at n ≈ 64 on a shared 2-core machine). ``||J v||`` with ``||v|| = 1``
    is a lower bound on σ₁ in any case, and the power iteration's error in σ₁ is small exactly when
    its vector is ill-determined (close top singular values)."""
    m, k = J.shape
    if m == 1:
        s = l2(J, xp=np)
        return s, (J[0] / s if s > 0 else np.eye(k)[0])
    if min(m, k) <= 24:
        if k <= m:
            w, V = np.linalg.eigh(J.T @ J)
            return float(np.sqrt(max(w[-1], 0.0))), V[:, -1]
        w, U = np.linalg.eigh(J @ J.T)
        s = float(np.sqrt(max(w[-1], 0.0)))
        return s, (J.T @ U[:, -1] / s if s > 0 else np.eye(k)[0])
    best = (-1.0, None)
    for v in (np.full(k, 1 / np.sqrt(k)), np.eye(k)[int(np.argmax(np.sum(J * J, axis=0)))]):
        _, v = power_iteration(lambda v: J.T @ (J @ v), v, xp=np, iterations=iterations)
        s = l2(J @ v, xp=np)
        if s > best[0]:
            best = (s, v)
    return best


def polar(G: np.ndarray) -> np.ndarray:
    """The maximiser of ``⟨G, V⟩`` over ``||V||_2 ≤ 1``: ``U Vᵀ`` from the thin SVD of ``G``."""
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


def opnorm(J: np.ndarray, shape=None, *, rng=None, iterations: int = 30, starts: int = 2):
    """``(sup ||J v||, v)`` over ``||v|| ≤ 1``: ℓ2 when ``shape`` is None (largest singular value),
    else ``v = vec(V)`` with ``||V||_2 ≤ 1`` for ``V`` of that shape (spectral norm on the input).

    The spectral case maximises a convex function over the spectral-norm ball, whose extreme points
    are the matrices with all singular values 1: generalised power iteration
    ``V ← polar(unvec(Jᵀ J vec V))`` never decreases ``||J vec V||`` (a lower bound, like any V).
    """
    if not np.all(np.isfinite(J)):
        return float("nan"), None
    s0, v0 = top_singular(J)
    if shape is None:
        return s0, v0
    rng = rng or np.random.default_rng(0)
    best, best_v = -1.0, None
    for k in range(starts):
        V = polar(v0.reshape(shape) if k == 0 else rng.standard_normal(shape))
        val = float(np.linalg.norm(J @ V.ravel()))
        for _ in range(iterations):
            W = polar((J.T @ (J @ V.ravel())).reshape(shape))
            new = float(np.linalg.norm(J @ W.ravel()))
            if new <= val * (1 + 1e-12):
                break
            V, val = W, new
        if val > best:
            best, best_v = val, V.ravel()
    return best, best_v
