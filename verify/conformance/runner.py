"""Call a candidate on every case and measure its relative errors, and the baseline's, against the gold.

The relative error of a value ``v`` against the gold ``g`` is ``‖v − g‖ / max(‖g‖, tiny)`` (Frobenius
for gradients; ``tiny`` the dtype's smallest normal, so a true value that underflows is not an error),
with ``g`` held as ``hi + lo`` so float64 errors are resolved. ``scale="full"`` doubles the gold (the
papers' objective without ½). A value is *representable* when its gold is below the dtype's max.
"""
from __future__ import annotations

import math
import traceback
from dataclasses import dataclass

import numpy as np

from . import baseline, cases, dtypes, target


@dataclass
class Measured:
    case: cases.Case
    status: str  # "ok" | "raised" | "shape"
    message: str = ""
    loss: float | None = None
    grad: np.ndarray | None = None
    err: dict | None = None  # "loss"/"grad" -> candidate relative error (inf when not finite)
    base_err: dict | None = None
    representable: dict | None = None  # "loss"/"grad" -> bool
    gold_q: dict | None = None  # "loss"/"grad" -> (hi, lo) of the (scaled) gold


def rel_err(v, hi, lo, tiny: float) -> float:
    v = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        return math.inf
    with np.errstate(all="ignore"):
        diff = (v - hi) - lo
        return float(np.linalg.norm(np.ravel(diff)) / max(float(np.linalg.norm(np.ravel(hi))), tiny))


def gold_scaled(case, version, scale):
    g = cases.ensure_gold(case, version)
    f = 2.0 if scale == "full" else 1.0
    return (g.loss[0] * f, g.loss[1] * f), (g.grad[0] * f, g.grad[1] * f)


def measure(fn, case, *, form, version, dtype, backend="numpy", device=None, scale="half", convert=None) -> Measured:
    unit = dtypes.unit(dtype)
    (Lh, Ll), (Gh, Gl) = gold_scaled(case, version, scale)
    grad_shape = (case.d, case.d) if form == "matrix" else (case.d,)
    convert = convert or target.converter(backend, dtype, device)
    rep = {"loss": bool(np.isfinite(Lh) and abs(Lh) <= unit.max),
           "grad": bool(np.all(np.isfinite(Gh)) and np.abs(Gh).max(initial=0) <= unit.max)}
    bL, bG = baseline.loss_and_grad(case.args, form, version, dtype)
    gq = {"loss": (Lh, Ll), "grad": (Gh, Gl)}
    f = 2.0 if scale == "full" else 1.0
    base = {"loss": rel_err(bL * f, Lh, Ll, unit.tiny), "grad": rel_err(bG * f, Gh, Gl, unit.tiny)}
    try:
        with np.errstate(all="ignore"):
            out = fn(*(convert(a) for a in case.args))
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Measured(case, "raised", f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})",
                        base_err=base, representable=rep, gold_q=gq)
    try:
        L, G = target.split(out, grad_shape)
    except target.TargetError as exc:
        return Measured(case, "shape", str(exc), base_err=base, representable=rep, gold_q=gq)
    err = {"loss": rel_err(L, Lh, Ll, unit.tiny)}
    if G is not None:
        err["grad"] = rel_err(G, Gh, Gl, unit.tiny)
    return Measured(case, "ok", loss=L, grad=G, err=err, base_err=base, representable=rep, gold_q=gq)
