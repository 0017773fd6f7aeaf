r"""Matrix form: losses, gradients, Hessian-vector products and the dense Hessian.

With ``A1, A2 ∈ R^{n×d}``, ``B ∈ R^{n×n}``, ``X ∈ R^{d×d}``, ``S = A1 X A2ᵀ``, ``U = exp(S)``,
``α = U 1ₙ``, ``D = diag(α)``, ``F = D⁻¹U`` (docs/design.md §2; the ½ is ours, ``objective = 2·loss``):

* normalized  ``L_N(X) = ½ ||D(X)⁻¹ exp(A1 X A2ᵀ) − B||_F²``,
  ``∇L_N = A1ᵀ P A2`` with ``P = F∘C − rowsum(F∘C)·F``, ``C = F − B``;
* rescaled    ``L_R(X) = ½ ||exp(A1 X A2ᵀ) − D(X) B||_F²``,
  ``∇L_R = A1ᵀ P A2`` with ``P = U∘H − rowsum(H∘B)·U``, ``H = U − D B``.

Every function takes arrays of one library (numpy, torch, cupy, jax, array_api_strict) and one real
floating dtype, and returns arrays of that library on the same device. Rows are processed in blocks
of ``block_rows`` (memory O(block_rows·n)); ``A1 ⊗ A2`` is never formed.

>>> import numpy as np, attnreg
>>> rng = np.random.default_rng(0)
>>> A1, A2, X = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), np.zeros((2, 2))
>>> B = np.full((5, 5), 0.2)            # uniform rows: the softmax of S = 0 fits exactly
>>> float(attnreg.loss(A1, A2, B, X, version="normalized"))
0.0
"""
from __future__ import annotations


from array_api_compat import device, is_numpy_array

from . import _autograd, _rows, _threads
from ._fastsweep import sweep
from ._scale import halved, lift, lin, matmul, quiet, split
from ._sweep import Groups, Scaled, Sweep, plus_scales, combine, gradient, right, row_blocks, take_rows, unscale
from ._types import Array, Namespace
from ._validate import BLOCK_ELEMENTS, check_block_rows, check_max_entries, check_version, matrix_problem, readable


def _sweep(A1: Array, A2: Array, B: Array, X: Array, version: str, block_rows: int | None, V: Array | None = None,
           want_p: bool = True, threads: int | None = None) -> tuple[Namespace, Sweep]:
    version = check_version(version)
    threads = _threads.check_threads(threads)
    xp, n, _ = matrix_problem(A1, A2, X, B=B, V=V, finite=False)  # the sweep checks finiteness in O(1) passes
    block = (_threads.block_rows(n, xp.finfo(A1.dtype).bits // 8, arrays=1 if V is None else 2) if block_rows is None
             else check_block_rows(block_rows, n))
    return xp, sweep(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V, threads=threads,
                     checked=False)


def loss(A1: Array, A2: Array, B: Array, X: Array, *, version: str, block_rows: int | None = None,
         threads: int | None = None) -> Array:
    """The loss ``L(X)`` (with the ½) as a 0-D array; for ``rescaled`` it is ``inf`` only when the
    true value exceeds the dtype's range (use :func:`log_loss` there).

    Differentiable in ``X`` by torch autograd and ``jax.grad``, with attnreg's stable gradient as the
    derivative (see :mod:`attnreg._autograd`)."""
    kind = _autograd.route(dict(A1=A1, A2=A2, B=B), _sweep_input_check(A1, A2, B, X, version))
    if kind is not None:
        return _autograd.through(kind, lambda Z: loss_and_grad(A1, A2, B, Z, version=version,
                                                               block_rows=block_rows, threads=threads), X)
    xp, s = _sweep(A1, A2, B, X, version, block_rows, want_p=False, threads=threads)
    return unscale(s.loss_scaled, s.loss_M, xp=xp)


def _sweep_input_check(A1: Array, A2: Array, B: Array, X: Array, version: str) -> Array:
    check_version(version)
    matrix_problem(A1, A2, X, B=B, finite=False)
    return X


def log_loss(A1: Array, A2: Array, B: Array, X: Array, *, version: str, block_rows: int | None = None,
             threads: int | None = None) -> Array:
    """``log L(X)``, finite even where ``L`` itself over- or underflows (rescaled with large logits)."""
    xp, s = _sweep(A1, A2, B, X, version, block_rows, want_p=False, threads=threads)
    return xp.log(s.loss_scaled) if s.loss_M is None else s.loss_M + xp.log(s.loss_scaled)


def loss_and_grad(A1: Array, A2: Array, B: Array, X: Array, *, version: str, block_rows: int | None = None,
                  threads: int | None = None) -> tuple[Array, Array]:
    """``(L(X), ∇_X L(X))`` in one pass over the rows; the gradient is ``A1ᵀ P A2`` (d × d).

    ``threads``: CPU threads over row blocks (default: every core this process may use; NumPy and torch
    CPU tensors). The result is the same to the last bit from run to run for a given thread count."""
    xp, s = _sweep(A1, A2, B, X, version, block_rows, threads=threads)
    return unscale(s.loss_scaled, s.loss_M, xp=xp), gradient(s, A2, xp=xp)


def grad(A1: Array, A2: Array, B: Array, X: Array, *, version: str, block_rows: int | None = None,
         threads: int | None = None) -> Array:
    """``∇_X L(X) = A1ᵀ P A2`` (d × d); see the module docstring for ``P``."""
    return loss_and_grad(A1, A2, B, X, version=version, block_rows=block_rows, threads=threads)[1]


def hvp(A1: Array, A2: Array, B: Array, X: Array, V: Array, *, version: str, block_rows: int | None = None,
        threads: int | None = None) -> Array:
    """Hessian-vector product ``∇²L(X)[V] = A1ᵀ dP A2``, ``dP`` the derivative of ``P`` along
    ``dS = A1 V A2ᵀ`` (exact, no finite differences).

    The HVP is linear in ``V``. A ``V`` so small that its products could be subnormal is multiplied by ``e^m`` first
    and the result by ``e^{−m}`` (:func:`attnreg._scale.lift`). Where the first result is not finite because
    ``A1 V``, ``V A2ᵀ`` or ``A1 V A2ᵀ`` overflowed (one read), it is recomputed on the bands of
    :func:`attnreg._scale.split` and summed under their scales; neither under ``jax.jit``, where nothing can be
    read."""
    xp, _, _ = matrix_problem(A1, A2, X, B=B, V=V, finite=False)
    lifted, V = lift(V, A1, A2, xp=xp, read=is_numpy_array(V))  # a V whose products could be subnormal: H(V) =
    # e^{−m} H(V e^m)
    shift = None if lifted is None else -lifted
    with quiet():  # an overflowing dS is handled below
        xp, s = _sweep(A1, A2, B, X, version, block_rows, V=V, threads=threads)
        M, z = right(s, A2, xp=xp)
        out = unscale(z, plus_scales(M, shift), xp=xp)
    fin = xp.all(xp.isfinite(out))
    if not readable(fin) or bool(fin):
        return out
    # A1 V, V A2ᵀ or A1 V A2ᵀ may have overflowed: the HVP is linear in V = Σ_b V_b + V_lo (attnreg._scale.split)
    bands, V_lo = split(V, A1, A2, xp=xp)
    if not any(bool(m > 0) for m, _ in bands):
        return out  # no product could overflow: the non-finite result has another cause
    k = w = None
    with quiet():
        for m, Vb in [*bands, (None, V_lo)]:
            if not bool(xp.any(Vb != 0)):
                continue
            M, z = right(_sweep(A1, A2, B, X, version, block_rows, V=Vb, threads=threads)[1], A2, xp=xp)
            M = plus_scales(plus_scales(M, m), shift)
            M = xp.zeros_like(z) if M is None else M
            k, w = (M, z) if k is None else lin(k, w, M, z, xp=xp)
    return out if k is None else unscale(w, k, xp=xp)


def hessian(A1: Array, A2: Array, B: Array, X: Array, *, version: str, max_entries: int = 2**24) -> Array:
    r"""Dense Hessian in ``x = vec(X)`` (row-major), a ``d² × d²`` array.

    ``∇²L = Σ_j (a_j a_jᵀ) ⊗ (A2ᵀ K_j A2)`` with ``a_j = A1[j, :]`` and ``K_j`` the Hessian of row
    j's loss in its logits ``s_j``. ``K_j A2`` is the row's Hessian-vector product along the d columns
    of ``A2`` (the stable kernel of :func:`hvp`; ``K_j`` is never formed), so the cost is
    ``O(n²d²)`` for the ``A2ᵀ K_j A2`` and ``O(n d⁴)`` for the sum, not ``O(n³)``. Refuses when
    ``d⁴ > max_entries``; use :func:`hvp` then.
    """
    version = check_version(version)
    max_entries = check_max_entries(max_entries)
    xp, n, d = matrix_problem(A1, A2, X, B=B)
    if d**4 > max_entries:
        raise ValueError(f"the dense Hessian would have d^4 = {d**4} entries, above max_entries = "
                         f"{max_entries}; use attnreg.hvp for Hessian-vector products instead")
    block = max(1, BLOCK_ELEMENTS // (n * d))
    W = X @ A2.T
    groups = Groups(xp) if readable(X) else Scaled(xp)  # traced arrays cannot be read: one common scale
    directions = A2.T[None, :, :]
    for rows in row_blocks(n, block):
        Ab = A1[rows, :]
        k = Ab.shape[0]
        D = xp.broadcast_to(directions, (k, d, n))
        t, KA = _rows.row_hvps(Ab @ W, B[rows, :], D, version=version, xp=xp)  # K_j A2, as (k, d, n)
        kappa, Mj = matmul(KA, A2, xp=xp)  # A2ᵀ K_j A2 = e^κ Mj (symmetric): a plain product can overflow
        Mj = xp.reshape(Mj, (k, d * d))  # columns (k, k')
        t = xp.zeros((k,), dtype=Mj.dtype, device=device(Mj)) if t is None else t
        t = t if kappa is None else t + kappa
        As, t = halved(Ab, t, Mj, n, xp=xp, power=2)  # rows of A1 near the range: Q and its sums overflow
        Q = xp.reshape(xp.reshape(As, (k, d, 1)) * xp.reshape(As, (k, 1, d)), (k, d * d))  # rows (i, i')
        # each bin of scales under its own, combined entrywise (see attnreg._sweep); normalized rows have scale κ
        if isinstance(groups, Groups):
            groups.add(t, Mj, lambda Mw, i: take_rows(Q, i, xp=xp).T @ Mw)  # called at once
        else:
            groups.add(t, Mj, lambda Mw: Q.T @ Mw)
    if isinstance(groups, Scaled):
        acc, M = groups.total, groups.M
    else:
        out = combine(xp, groups.pairs())
        assert out is not None  # no lo: combine always answers
        acc, M = out
    H = xp.reshape(xp.permute_dims(xp.reshape(acc, (d, d, d, d)), (0, 2, 1, 3)), (d * d, d * d))
    if M is not None and M.ndim:
        M = xp.reshape(xp.permute_dims(xp.reshape(M, (d, d, d, d)), (0, 2, 1, 3)), (d * d, d * d))
    return unscale(H, M, xp=xp)
