r"""The number a statement measures at a point, or for a pair of points: one evaluator for the float64
production path (``ctx=None``) and for the reference at ``ctx.dps`` proven digits (``ctx`` an mpmath context).

The proofs' numeric route (``attnreg.proofs._sample``) and the claims checker (search in float64,
confirmation and replay at ≥ 50 digits) both measure a :class:`attnreg.statement.Statement` here.

A point is a dict of inputs by name: vector ``A`` (n × d), ``b`` (n), ``x`` (d); matrix ``A1``, ``A2``
(n × d), ``B`` (n × n), ``X`` (d × d); arrays or nested lists of numbers (mpf too, converted exactly). The
target may be left out where the quantity does not use it. What is measured (docs/design.md, the
building blocks; the ½):

* ``upper`` / ``lower``: :func:`size` of ``q(p)``: ``||q||`` (ℓ2 / Frobenius of the whole output, the
  matrix form's blocks stacked n × n); scalars (``loss``, vector ``alpha``) as they are; matrix ``alpha``:
  every row's ``α_j``, so the largest for ``upper`` and the smallest for ``lower``;
* ``lipschitz``: ``||q(p′) − q(p)||`` (:func:`gap`) against ``||p′ − p||`` of the ``wrt`` input in
  ``wrt_norm`` (:func:`step`; spectral: the largest singular value);
* ``loss_scale = "full"`` doubles ``loss`` and ``grad`` (``objective = 2·loss``; ours carries the ½).

:func:`ratio` turns the measured number and a constant into "how far the statement is used up":
``q/C`` (upper), ``C/q`` (lower), ``gap/(C·step)`` (lipschitz); above 1 the statement is violated there.
"""
from __future__ import annotations

import numpy as np

import attnreg
from attnreg import _norms
from attnreg import reference
from attnreg import vector as production_vector
from attnreg.statement import LOSSES

from . import vector as reference_vector
from .norms import l2, spectral

_ARGS = {"vector": ("A", "b", "x"), "matrix": ("A1", "A2", "B", "X")}


def value(s, p: dict, ctx=None):
    """``q(p)``: a float64 array (0-D for scalars), or with ``ctx`` a flat row-major list of ``ctx.mpf``
    correct to ``ctx.dps`` digits. Every block and loss is called the same way, ``(A1, A2, B, X)`` /
    ``(A, b, x)``; the blocks that do not use the target ignore it."""
    if ctx is None:
        lib = production_vector if s.form == "vector" else attnreg
    else:
        lib = reference_vector if s.form == "vector" else reference
    fn = getattr(lib, s.quantity)
    args = tuple(p.get(k) for k in _ARGS[s.form])
    kw = {"version": s.version} if s.quantity in LOSSES else {}
    if ctx is None:
        return np.asarray(fn(*args, **kw)) * s.scale
    out = fn(*args, **kw, dps=ctx.dps)
    flat = [out[i, j] for i in range(out.rows) for j in range(out.cols)] if hasattr(out, "rows") else [out]
    return [ctx.mpf(x) * s.scale for x in flat]


def size(s, q, ctx=None):
    """The number an upper / lower statement bounds, from :func:`value`'s ``q``."""
    if s.quantity == "alpha" and s.form == "matrix":
        if ctx is None:
            return float(np.max(q) if s.kind == "upper" else np.min(q))
        return max(q) if s.kind == "upper" else min(q)
    if s.scalar:
        return float(q) if ctx is None else q[0]
    return _norms.l2(np.asarray(q, dtype=float), xp=np) if ctx is None else l2(ctx, q)


def gap(q0, q1, ctx=None):
    """``||q1 − q0||`` (ℓ2 of all entries) of two :func:`value` results."""
    if ctx is None:
        return _norms.l2(np.ravel(q1) - np.ravel(q0), xp=np)
    return l2(ctx, [a - b for a, b in zip(q1, q0)])


def step(s, p: dict, p1: dict, ctx=None):
    """``||p1[wrt] − p[wrt]||`` in ``s.wrt_norm`` (differences of the exact inputs)."""
    w = s.wrt
    if ctx is None:
        delta = np.asarray(p1[w], dtype=float) - np.asarray(p[w], dtype=float)
        return _norms.spectral(delta, xp=np) if s.wrt_norm == "spectral" else _norms.l2(delta, xp=np)
    a0, a1 = np.asarray(p[w], dtype=object), np.asarray(p1[w], dtype=object)
    delta = [ctx.mpf(x1) - ctx.mpf(x0) for x0, x1 in zip(a0.ravel(), a1.ravel())]
    if s.wrt_norm == "spectral":
        cols = a0.shape[1]
        return spectral(ctx, [delta[i:i + cols] for i in range(0, len(delta), cols)])
    return l2(ctx, delta)


def measure(s, p: dict, p1: dict | None = None, ctx=None):
    """The measured number: :func:`size` of ``q(p)`` (upper / lower), ``||q(p1) − q(p)||`` (lipschitz)."""
    if s.kind != "lipschitz":
        return size(s, value(s, p, ctx), ctx)
    if p1 is None:
        raise ValueError("a lipschitz statement is measured on a pair of points: pass p1")
    return gap(value(s, p, ctx), value(s, p1, ctx), ctx)


def ratio(s, constant, p: dict, p1: dict | None = None, ctx=None):
    """How far the statement with this ``constant`` is used up at ``p`` (``p, p1``): above 1 it is violated."""
    lhs = measure(s, p, p1, ctx)
    num, den = ((lhs, constant) if s.kind == "upper" else (constant, lhs) if s.kind == "lower"
                else (lhs, constant * step(s, p, p1, ctx)))
    if ctx is None:  # a float64 number that underflowed to 0 (α at logits −800) gives inf, not ZeroDivisionError
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.divide(float(num), float(den)))
    return num / den
