r"""The vector form's numerics (one softmax row); the public module is :mod:`attnreg.vector`.

Losses, gradient, Hessian-vector product, Hessian, building blocks.

With ``A ∈ R^{n×d}``, ``b ∈ R^n``, ``x ∈ R^d`` and the paper's letters (docs/design.md §2)
``u(x) = exp(Ax)``, ``α(x) = ⟨u(x), 1ₙ⟩``, ``f(x) = α(x)⁻¹ u(x)``, ``c(x) = f(x) − b``,
``h(x) = u(x) − α(x) b``:

* normalized  ``L_N(x) = ½ ||⟨exp(Ax), 1ₙ⟩⁻¹ exp(Ax) − b||² = ½||c||²``,
  ``∇L_N = Aᵀ (diag(f) − f fᵀ) c``;
* rescaled    ``L_R(x) = ½ ||exp(Ax) − ⟨exp(Ax), 1ₙ⟩ b||² = ½||h||²``,
  ``∇L_R = Aᵀ (u∘h − ⟨h, b⟩ u)``.

``h = α c``, so ``L_R = α² L_N``. The matrix form of :mod:`attnreg.matrix` is ``n`` such rows sharing
``x = vec(X)`` with data ``A_[j] = A1[j, :] ⊗ A2``.

>>> import numpy as np
>>> from attnreg import vector
>>> A, b, x = np.eye(4), np.full(4, 0.25), np.zeros(4)
>>> float(vector.loss(A, b, x, version="normalized"))
0.0
>>> float(vector.loss(A, b, x, version="rescaled"))      # u = 1, α = 4, h = 1 − 4·(1/4) = 0
0.0
"""
from __future__ import annotations

from typing import Any

from array_api_compat import is_numpy_array

from . import _autograd, _rows
from ._scale import lift, lin, matmul, quiet, split
from ._sweep import plus_scales, unscale
from ._types import Array, Namespace
from ._validate import check_max_entries, check_version, omitted_b, readable, target_optional, vector_problem
from .blocks import residual_rows, row_sums, softmax_rows


def _row(A: Array, x: Array, b: Array, *, xp: Namespace) -> tuple[Array, Array]:
    n = A.shape[0]
    return xp.reshape(A @ x, (1, n)), xp.reshape(b, (1, n))


def _loss_parts(A: Array, b: Array, x: Array, version: str, xp: Namespace,
                with_p: bool) -> tuple[Array, Array | None, Array | None, Array | None]:
    """``(ℓ̃, P̃, t, μ)``: ``L = e^t ℓ̃`` and ``p = e^μ P̃[0]`` (``t`` None for normalized). The normalized ``p`` is the
    plain one where it is finite (``μ = 0``), else the one whose ``c`` is formed with ``b`` scaled
    (:func:`attnreg._rows.normalized_p_scaled`, ``μ`` its scale: ``b`` at ±1.7e308 overflowed ``r∘c − loo(f∘c)``);
    chosen by ``where``, no read (the row kernel is O(n) beside ``Aᵀp``'s O(nd)). Not the scaled one always: one scale
    for the row flushed its ordinary entries (tests/test_target_attack.py)."""
    S, Bv = _row(A, x, b, xp=xp)
    if version == "normalized":
        with quiet():  # ½Σc² overflows where the loss is truly inf (b past ~1e154): as quiet as the matrix form
            rows, P = _rows.normalized(S, Bv, xp=xp, with_p=with_p)
            if P is None:
                return rows[0], None, None, None
            beta, Ps = _rows.normalized_p_scaled(S, Bv, xp=xp)
        fine = xp.all(xp.isfinite(P))
        return rows[0], xp.where(fine, P, Ps), None, xp.where(fine, xp.zeros_like(beta[0]), beta[0])
    t, rows, mu, P = _rows.rescaled(S, Bv, xp=xp, with_p=with_p)
    return rows[0], P, t[0], None if mu is None else mu[0]


def loss(A: Array, b: Array, x: Array, *, version: str) -> Array:
    """The loss (with the ½) as a 0-D array; differentiable in ``x`` by torch autograd and ``jax.grad`` with
    attnreg's stable gradient as the derivative (see :mod:`attnreg._autograd`)."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    kind = _autograd.route(dict(A=A, b=b), x)
    if kind is not None:
        return _autograd.through(kind, lambda z: loss_and_grad(A, b, z, version=version), x)
    value, _, t, _ = _loss_parts(A, b, x, version, xp, with_p=False)
    return unscale(value, t, xp=xp)


def log_loss(A: Array, b: Array, x: Array, *, version: str) -> Array:
    """``log L(x)``, finite where ``L`` over- or underflows (rescaled with large logits)."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    value, _, t, _ = _loss_parts(A, b, x, version, xp, with_p=False)
    return xp.log(value) if t is None else t + xp.log(value)


def loss_and_grad(A: Array, b: Array, x: Array, *, version: str) -> tuple[Array, Array]:
    """``(L(x), ∇L(x))`` with ``∇L = Aᵀ p``; ``p`` as in the module docstring."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    value, P, t, mu = _loss_parts(A, b, x, version, xp, with_p=True)
    assert P is not None  # asked for with with_p=True
    return unscale(value, t, xp=xp), _times_a(P, A, mu, xp=xp)[0, :]


def grad(A: Array, b: Array, x: Array, *, version: str) -> Array:
    """``∇L(x)`` (length d)."""
    return loss_and_grad(A, b, x, version=version)[1]


def hvp(A: Array, b: Array, x: Array, v: Array, *, version: str) -> Array:
    """``∇²L(x) v = Aᵀ K A v``, ``K`` the Hessian of the loss in the logits ``s = Ax``."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b, v=v)
    S, Bv = _row(A, x, b, xp=xp)
    # a v so small that its products could be subnormal: H(v) = e^{−m} H(v e^m). Judged by v alone: max|A| is a third
    # pass over A, as long as the HVP's own two (vector.hvp 2.2 → 3.5 ms at N = 16384, D = 64); a normal v whose
    # products with tiny entries of A are subnormal is not lifted (the matrix form looks at max|A1|, max|A2|: O(nd))
    lifted, v = lift(v, None, None, xp=xp, read=is_numpy_array(v))
    shift = None if lifted is None else -lifted
    # A v could overflow: the HVP is linear in v = Σ_b v_b + v_lo, the bands scaled (attnreg._scale.split). Where v
    # can be read: the plain HVP first (one read: is it finite?, as the matrix form); normalized, then with ds and b
    # near the range scaled (dF∘G overflowed: nan for ~1e294; not on the first pass, where one scale for the row
    # flushed its ordinary entries, tests/test_target_attack.py); then the bands, empty ones skipped. Traced arrays
    # (jax.jit) cannot be read: every band is computed, 0 where empty, ds and b unscaled
    redo = readable(v)
    if redo:
        for scale_ds in (False, True) if version == "normalized" else (False,):
            with quiet():
                out = _hvp(A, S, Bv, v, version=version, xp=xp, scale_ds=scale_ds, shift=shift)
            if bool(xp.all(xp.isfinite(out))):
                return out
    bands, v_lo = split(v, A, None, xp=xp)
    if redo:
        bands = [(m, vb) for m, vb in bands if bool(xp.any(vb != 0))]
        if not bands:
            return out
    # each part kept as e^κ z until the end: two parts past the range of opposite signs (±inf each once unscaled)
    # added to nan where the HVP is ±inf (tests/test_dtype_attack.py D4)
    k, w = _hvp(A, S, Bv, v_lo, version=version, xp=xp, scale_ds=redo, shift=shift, scaled=True)
    for m, vb in bands:
        kb, zb = _hvp(A, S, Bv, vb, version=version, xp=xp, scale_ds=redo, shift=shift, scaled=True)
        k, w = lin(k, w, kb + m, zb, xp=xp)
    return unscale(w, k, xp=xp)


def _hvp(A: Array, S: Array, Bv: Array, v: Array, *, version: str, xp: Namespace, scale_ds: bool = False,
         shift: Array | None = None, scaled: bool = False) -> Any:
    """``e^{shift}·∇²L v`` from the logits ``S`` (1 × n); ``scale_ds``: normalized, ``ds`` and ``b`` near the range
    scaled first (:func:`attnreg._rows.normalized_hvp_scaled`). ``scaled``: as ``(κ, z)`` with the result ``e^κ z``
    (``κ`` a 0-D array), not unscaled."""
    dS = xp.reshape(A @ v, S.shape)
    if version == "rescaled":
        t, dP = _rows.rescaled_hvp(S, Bv, dS, xp=xp)
    elif scale_ds:
        t, dP = _rows.normalized_hvp_scaled(S, Bv, dS, xp=xp)
    else:
        t, dP = None, _rows.normalized_hvp(S, Bv, dS, xp=xp)
    k, z = _times_a(dP, A, plus_scales(None if t is None else t[0], shift), xp=xp, scaled=True)
    if scaled:
        return (xp.zeros_like(z[0, 0]) if k is None else k), z[0, :]
    return unscale(z, k, xp=xp)[0, :]


def hessian(A: Array, b: Array, x: Array, *, version: str, max_entries: int = 2**24) -> Array:
    """Dense Hessian ``Aᵀ K A`` (d × d), ``K A`` as d Hessian-vector products in the logits (``K`` is
    never formed); refuses when ``n·d > max_entries`` or ``d² > max_entries``."""
    version = check_version(version)
    max_entries = check_max_entries(max_entries)
    xp, n, d = vector_problem(A, x, b=b)
    if max(n * d, d * d) > max_entries:
        raise ValueError(f"the dense Hessian needs an array of {max(n * d, d * d)} entries, above max_entries = "
                         f"{max_entries}; use attnreg.vector.hvp instead")
    S, Bv = _row(A, x, b, xp=xp)
    t, KA = _rows.row_hvps(S, Bv, A.T[None, :, :], version=version, xp=xp)
    return _times_a(KA[0, :, :], A, None if t is None else t[0], xp=xp)


def _times_a(M: Array, A: Array, t: Array | None, *, xp: Namespace, scaled: bool = False) -> Any:
    """``e^t·(M A)`` (t None for 0), the product by :func:`attnreg._scale.matmul`: a plain ``Aᵀp`` overflowed in its
    partial sums where ``e^t`` brings the result back into the range (``A`` ~ 1.6e308, ``n`` = 64, logits −300: ``inf``
    for a rescaled gradient of 2.4e51). ``scaled``: the pair ``(κ, z)`` (``κ`` None for 0), not unscaled."""
    k, z = matmul(M, A, xp=xp, read=is_numpy_array(A))  # a read is a device sync elsewhere
    return (plus_scales(t, k), z) if scaled else unscale(z, plus_scales(t, k), xp=xp)


@target_optional(1, "b", "x")
def u(A: Array, b: Array | None = None, x: Array | None = None) -> Array:
    """``u(x) = exp(Ax)`` (overflows to inf exactly where the true entry exceeds the dtype's range). Like every
    block, called ``(A, b, x)``; ``u``, ``alpha``, ``f`` do not use ``b`` and may be called ``(A, x)``."""
    b, x = omitted_b(b, x, "x")
    xp, _, _ = vector_problem(A, x, b=b, uses_b=False)
    return xp.exp(A @ x)


@target_optional(1, "b", "x")
def alpha(A: Array, b: Array | None = None, x: Array | None = None) -> Array:
    """``α(x) = ⟨exp(Ax), 1ₙ⟩``, as ``e^c ⟨exp(Ax − c), 1ₙ⟩`` (``c`` the maximum where the entries could
    over- or underflow)."""
    b, x = omitted_b(b, x, "x")
    xp, _, _ = vector_problem(A, x, b=b, uses_b=False)
    return row_sums(xp.reshape(A @ x, (1, -1)), xp=xp)[0]


@target_optional(1, "b", "x")
def f(A: Array, b: Array | None = None, x: Array | None = None) -> Array:
    """``f(x) = α(x)⁻¹ exp(Ax)`` (the softmax of ``Ax``; shifted by its maximum where it could overflow)."""
    b, x = omitted_b(b, x, "x")
    xp, _, _ = vector_problem(A, x, b=b, uses_b=False)
    return softmax_rows(xp.reshape(A @ x, (1, -1)), xp=xp)[0, :]


def c(A: Array, b: Array, x: Array) -> Array:
    """``c(x) = f(x) − b``, the normalized residual, as ``(u∘(1 − b) − b∘(α − u))/α`` entrywise (no
    cancellation where ``f_k ≈ b_k = 1``)."""
    xp, n, _ = vector_problem(A, x, b=b)
    return residual_rows(xp.reshape(A @ x, (1, -1)), xp.reshape(b, (1, n)), version="normalized", xp=xp)[0, :]


def h(A: Array, b: Array, x: Array) -> Array:
    """``h(x) = u(x) − α(x) b = α(x) c(x)``, the rescaled residual, entrywise as ``u_i(1 − b_i) − b_i Σ_{j≠i}u_j``
    with each term carried at its own scale: finite and accurate wherever the true entry is representable
    (``h`` of logits ``[800, 0]`` and ``b = [1, 0]`` is ``[−1, 1]``)."""
    xp, n, _ = vector_problem(A, x, b=b)
    return residual_rows(xp.reshape(A @ x, (1, -1)), xp.reshape(b, (1, n)), version="rescaled", xp=xp)[0, :]
