"""Call a candidate on every case and measure its relative errors, and the baseline's, against the gold.

The relative error of a value ``v`` against the gold ``g`` is ``‖v − g‖ / max(‖g‖, tiny)`` (Frobenius
for gradients; ``tiny`` the dtype's smallest normal, so a true value that underflows is not an error).
A gradient can be far smaller than its terms (it is exactly 0 at a saturated one-hot row, by shift
invariance): it is measured against ``max(‖g‖, c·σ)``, ``σ`` its a-priori size — ``½‖A1‖₂‖A2‖₂‖C‖_F``
for the normalized loss (the softmax Jacobian has norm ≤ ½) and ``‖A1‖₂‖A2‖₂ √(2L) √n max_j e^{m_j}(1 + ‖b_j‖)``
for the rescaled one (``m_j`` the row max; in the log domain), ``c`` from ``conformance.grad_scale``,
with ``g`` held as ``hi + lo`` so float64 errors are resolved. ``scale="full"`` doubles the gold (the
papers' objective without ½). A value is *representable* when its gold is below the dtype's max.
"""
from __future__ import annotations

import contextlib
import io
import math
import time
import traceback
from dataclasses import dataclass

import numpy as np

from attnreg._norms import l2

from .. import errormodel
from ..tolerances import tol
from . import baseline, cases, contain, dtypes, target
from .timelimit import CallTimeout, limit


@dataclass
class Measured:
    case: cases.Case
    status: str  # "ok" | "raised" | "shape" | "unreadable" | "mutated" | "timeout"
    message: str = ""
    loss: float | None = None
    grad: np.ndarray | None = None
    err: dict | None = None  # "loss"/"grad" -> candidate relative error (inf when not finite)
    base_err: dict | None = None
    representable: dict | None = None  # "loss"/"grad" -> bool
    gold_q: dict | None = None  # "loss"/"grad" -> (hi, lo) of the (scaled) gold
    grad_floor: float = 0.0  # the gradient error's denominator is max(‖g‖, grad_floor)
    scale: str = "half"
    printed: str = ""  # what the function wrote to stdout/stderr: kept out of the printed report, in the JSON's
    # "printed" of each case (first 500 characters)


def norm(a) -> float:
    """Frobenius norm of a scalar or array without overflow of the squares (values near 1e300 occur in the
    rescaled loss): :func:`attnreg._norms.l2` of its float64 values."""
    return l2(np.asarray(a, dtype=np.float64), xp=np)


def rel_err(v, hi, lo, tiny: float) -> float:
    v = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        return math.inf
    with np.errstate(all="ignore"):
        diff = (v - hi) - lo
        return norm(diff) / max(norm(hi), tiny)


def grad_size(case, version, loss: float) -> float:
    """The a-priori size ``σ`` of the gradient (see the module docstring); 0 when the loss is 0."""
    if not loss > 0 or not math.isfinite(loss):
        return 0.0
    if case.form == "matrix":
        A1, A2, B, X = case.args
        S, norms = A1 @ X @ A2.T, np.linalg.norm(A1, 2) * np.linalg.norm(A2, 2)
    else:
        A, b, x = case.args
        S, B, norms = (A @ x)[None, :], b[None, :], np.linalg.norm(A, 2)
    if version == "normalized":
        return float(0.5 * norms * math.sqrt(2 * loss))
    n = S.shape[1]
    top = float(np.max(S.max(axis=1) + np.log1p(np.linalg.norm(B, axis=1))))
    with np.errstate(all="ignore"):
        return float(np.exp(math.log(max(norms, 1e-300)) + 0.5 * math.log(2 * loss) + 0.5 * math.log(n) + top))


def apriori(m, version: str, dtype: str) -> dict:
    """The first-order a-priori relative error bound (attnreg.verify.errormodel, times its ``vs_reference``
    factor) of loss and gradient for a computation in ``dtype``; inf where it cannot be evaluated."""
    (Lh, _), (Gh, _) = m.gold_q["loss"], m.gold_q["grad"]
    f = 2.0 if m.scale == "full" else 1.0
    try:
        make = errormodel.matrix_bounds if m.case.form == "matrix" else errormodel.vector_bounds
        with np.errstate(all="ignore"):
            b = make(*m.case.args, version, dtype=dtypes.numpy_dtype(dtype))
        k = tol("vs_reference").factor * f
        return {"loss": k * float(b.loss) / max(abs(Lh), dtypes.unit(dtype).tiny),
                "grad": k * norm(b.grad) / max(norm(Gh), m.grad_floor)}
    except (ArithmeticError, ValueError):
        return {"loss": math.inf, "grad": math.inf}


def gold_scaled(case, version, scale):
    g = cases.ensure_gold(case, version)
    f = 2.0 if scale == "full" else 1.0
    return (g.loss[0] * f, g.loss[1] * f), (g.grad[0] * f, g.grad[1] * f)


def measure(fn, case, *, form, version, dtype, backend="numpy", device=None, scale="half", convert=None,
            timeout: float | None = None, skip: str = "") -> Measured:
    """Call ``fn`` on ``case`` (at most ``timeout`` seconds; see :mod:`.timelimit`) and measure its errors;
    a non-empty ``skip`` does not call it and records status ``timeout`` with that message.

    The call runs inside :func:`.contain.contained` (its fd-level output kept out of ours, ``os._exit``
    a failed case). A call that returns after more than ``timeout`` seconds — one that caught the
    interruption, or sat in a C routine that does not check for signals — is a ``timeout`` too: the
    limit is on the time taken, not on whether the signal got through. A return value that cannot be
    read as float64 (``object()``, ``10**400``, a generator) is status ``unreadable``, a failed case."""
    unit = dtypes.unit(dtype)
    (Lh, Ll), (Gh, Gl) = gold_scaled(case, version, scale)
    grad_shape = (case.d, case.d) if form == "matrix" else (case.d,)
    convert = convert or target.converter(backend, dtype, device)
    rep = {"loss": bool(np.isfinite(Lh) and abs(Lh) <= unit.max),
           "grad": bool(np.all(np.isfinite(Gh)) and np.abs(Gh).max(initial=0) <= unit.max)}
    bL, bG = baseline.loss_and_grad(case.args, form, version, dtype)
    gq = {"loss": (Lh, Ll), "grad": (Gh, Gl)}
    f = 2.0 if scale == "full" else 1.0
    gfloor = max(unit.tiny, tol("conformance.grad_scale").factor * grad_size(case, version, Lh / f) * f)
    base = {"loss": rel_err(bL * f, Lh, Ll, unit.tiny), "grad": rel_err(bG * f, Gh, Gl, gfloor)}
    if skip:
        return Measured(case, "timeout", skip, base_err=base, representable=rep, gold_q=gq, grad_floor=gfloor,
                        scale=scale)
    inputs = [convert(a) for a in case.args]
    before = [target.to_float64(a) for a in inputs]
    said = io.StringIO()
    kept = dict(base_err=base, representable=rep, gold_q=gq, grad_floor=gfloor, scale=scale)

    def done(status, message="", **got):  # every outcome of a call keeps what the function printed
        return Measured(case, status, message, printed=said.getvalue()[:500], **got, **kept)

    start = time.monotonic()
    try:
        with contain.contained(said) as stream, np.errstate(all="ignore"), limit(timeout), \
                contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            out = fn(*inputs)
            read = _read(out, grad_shape)  # held as the call is: a __float__ may print, sleep or call os._exit
    except CallTimeout as exc:
        return done("timeout", f"the function {exc}")
    except (Exception, SystemExit) as exc:  # sys.exit() inside the function is a failed case, not our exit
        tb = traceback.extract_tb(exc.__traceback__)
        if isinstance(exc, contain.TargetExit):  # named at the function's line, not at our stand-in
            where = tb[-2] if len(tb) > 1 else tb[-1]
            return done("raised", f"{exc} (at {where.filename}:{where.lineno})")
        where = tb[-1]
        return done("raised", f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})")
    took = time.monotonic() - start
    if timeout and took > timeout:  # it caught the interruption (or was not interrupted) and returned late
        return done("timeout", f"the function did not return within the time limit of {timeout:g} s "
                               f"(it returned after {took:.1f} s)")
    try:
        changed = [name for name, a, b in zip(("A1", "A2", "B", "X") if form == "matrix" else ("A", "b", "x"),
                                              inputs, before)
                   if not np.array_equal(target.to_float64(a), b, equal_nan=True)]
    except Exception as exc:  # an input replaced by something unreadable (its dtype or class reassigned)
        changed = [f"(unreadable afterwards: {type(exc).__name__})"]
    if changed:
        return done("mutated", f"the function modified its input{'s' if len(changed) > 1 else ''} "
                               f"{', '.join(changed)} in place")
    status, got = read
    if status != "ok":
        return done(status, got)
    L, G = got
    err = {"loss": rel_err(L, Lh, Ll, unit.tiny)}
    if G is not None:
        err["grad"] = rel_err(G, Gh, Gl, gfloor)
    return done("ok", loss=L, grad=G, err=err)


def _read(out, grad_shape):
    """``("ok", (L, G))`` from what the function returned, or ``("shape" | "unreadable", message)``."""
    try:
        return "ok", target.split(out, grad_shape)
    except target.TargetError as exc:
        return "shape", str(exc)
    except Exception as exc:  # object(), 10**400, a generator, a set: no float64 value to read
        return "unreadable", f"cannot read what the function returned ({type(exc).__name__}: {_line(exc)})"


def _line(exc) -> str:
    """The first line of an exception's message, at most 200 characters."""
    text = str(exc).splitlines()
    return text[0][:200] if text else ""
