r"""The claimed quantities, in float64 (production path) for the search and at ≥ 50 digits
(``attnreg.reference``) for confirmation.

Variables are a dict: vector form ``A`` (n × d), ``x`` (d), ``b`` (n); matrix form ``A1``, ``A2``
(n × d), ``X`` (d × d), ``B`` (n × n). The measured size of a quantity q (docs/design.md §2):

* ``lipschitz`` compares ``||q(p) − q(p')||`` (ℓ2 / Frobenius of the whole output);
* ``upper`` / ``lower`` use ``||q||``, except that scalars (``alpha`` in vector form, ``loss``) are
  used as they are and ``alpha`` in matrix form means every row's ``α_j``: the largest for ``upper``,
  the smallest for ``lower``.

``loss_scale = "full"`` doubles ``loss`` and ``grad`` (``objective = 2·loss``; ours carries the ½).
"""
from __future__ import annotations

import numpy as np

import attnreg
from attnreg import reference, vector
from attnreg.reference import norms

_VECTOR = dict(u=lambda v: vector.u(v["A"], v["x"]), alpha=lambda v: vector.alpha(v["A"], v["x"]),
               f=lambda v: vector.f(v["A"], v["x"]), c=lambda v: vector.c(v["A"], v["b"], v["x"]),
               h=lambda v: vector.h(v["A"], v["b"], v["x"]))
_MATRIX = dict(u=lambda v: attnreg.u(v["A1"], v["A2"], v["X"]), alpha=lambda v: attnreg.alpha(v["A1"], v["A2"], v["X"]),
               f=lambda v: attnreg.f(v["A1"], v["A2"], v["X"]), c=lambda v: attnreg.c(v["A1"], v["A2"], v["B"], v["X"]),
               h=lambda v: attnreg.h(v["A1"], v["A2"], v["B"], v["X"]))


def scale(claim) -> float:
    """2 for ``loss``/``grad`` claims stated for ``objective = 2·loss``, else 1."""
    return 2.0 if claim.loss_scale == "full" and claim.quantity in ("loss", "grad") else 1.0


def value(claim, v) -> np.ndarray:
    """q at the variables ``v`` in float64 (an array; a 0-D array for scalars)."""
    q = claim.quantity
    if q in ("loss", "grad"):
        fn = getattr(vector if claim.form == "vector" else attnreg, q)
        args = (v["A"], v["b"], v["x"]) if claim.form == "vector" else (v["A1"], v["A2"], v["B"], v["X"])
        return np.asarray(fn(*args, version=claim.version)) * scale(claim)
    return np.asarray((_VECTOR if claim.form == "vector" else _MATRIX)[q](v))


def size(claim, q) -> float:
    """The number an upper/lower claim bounds (see the module docstring)."""
    q = np.asarray(q)
    if claim.quantity == "alpha" and claim.form == "matrix":
        return float(q.max() if claim.kind == "upper" else q.min())
    return float(q) if q.ndim == 0 else float(np.linalg.norm(q))


# ---- high precision ----------------------------------------------------------------------------

def reference_value(claim, v, dps: int) -> list:
    """q at ``v`` correct to ``dps`` digits, flattened to a list of mpf (row-major)."""
    q = claim.quantity
    if claim.form == "vector":
        A, x, b = v["A"], v["x"], v.get("b")
        if q in ("loss", "grad"):
            out = getattr(reference.vector, q)(A, b, x, version=claim.version, dps=dps)
        else:
            out = getattr(reference.vector, q)(A, x, dps=dps) if q in ("u", "alpha", "f") else \
                getattr(reference.vector, q)(A, b, x, dps=dps)
    else:
        A1, A2, X, B = v["A1"], v["A2"], v["X"], v.get("B")
        if q in ("loss", "grad"):
            out = getattr(reference, q)(A1, A2, B, X, version=claim.version, dps=dps)
        else:
            out = getattr(reference, q)(A1, A2, X, dps=dps) if q in ("u", "alpha", "f") else \
                getattr(reference, q)(A1, A2, B, X, dps=dps)
    flat = [out[i, j] for i in range(out.rows) for j in range(out.cols)] if hasattr(out, "rows") else [out]
    return [x * 2 for x in flat] if scale(claim) == 2.0 else flat


def reference_size(claim, ctx, flat) -> object:
    """:func:`size` at high precision from :func:`reference_value`'s list."""
    if claim.quantity == "alpha" and claim.form == "matrix":
        return max(flat) if claim.kind == "upper" else min(flat)
    if claim.quantity in ("alpha", "loss"):
        return ctx.mpf(flat[0])
    return l2(ctx, flat)


l2 = norms.l2  # ctx-first ℓ2 and spectral norms: one home, reference/norms.py
spectral = norms.spectral
