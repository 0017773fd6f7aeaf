r"""Audit: sweep the logit scale, n and the dtype; measure errors against the gold and overflow onsets.

For each version, ``n`` and ``max|S|`` in 1, 2, 4, … 2048 (past every dtype's ``exp`` overflow: float16 at
11.09, float32/bfloat16 at 88.72, float64 at 709.78) a seeded problem with dyadic inputs (exact in every
dtype) is evaluated in every dtype. Reported per point: relative error of loss and gradient against the
gold (:mod:`.runner`), digits lost (``log10(error/u)``), the state (finite, inf, NaN, 0 where the true value
is a normal number), and the a-priori first-order bound of :mod:`attnreg.verify.errormodel` times its
``vs_reference`` factor. For the softmax step alone (the production path's ``attnreg.f`` on given logits,
``A1 = A2 = I``, so the logits are exact) the measured ``max_k |ĝ_k − g_k| / max_k g_k`` is put beside the
leading-order bound ``(n + 2 + 2·(max s − min s))·u`` of the shifted softmax with division (Blanchard,
D. J. Higham and N. J. Higham, IMA J. Numer. Anal. 41(4), 2021).
"""
from __future__ import annotations

import math

import numpy as np

import attnreg
from attnreg import reference

from .. import errormodel
from ..tolerances import tol
from . import cases, dtypes, runner, target

SCALES = tuple(2.0**k for k in range(12))  # 1 … 2048
SIZES = (8, 32)
D = 4


def problem(n: int, scale: float, seed: int = 0):
    """Dyadic ``A1, A2, X`` (``k/16``), a dyadic simplex ``B``; ``X`` scaled by a power of two to ``max|S| ≈ scale``."""
    rng = np.random.default_rng([n, int(scale), seed])
    A1, A2, X = (rng.integers(-16, 17, size=s) / 16 for s in ((n, D), (n, D), (D, D)))
    X = X * 2.0 ** round(np.log2(scale / np.abs(A1 @ X @ A2.T).max()))
    W = rng.integers(1, 17, size=(n, n)).astype(float)
    B = np.floor(W / W.sum(axis=1, keepdims=True) * 256) / 256
    B[:, 0] += 1 - B.sum(axis=1)
    S = A1 @ X @ A2.T
    return cases.Case(f"n={n} max|S|≈{scale:g}", "matrix", n, D, float(S.max()), (A1, A2, B, X), "audit")


def production(version, dtype):
    """attnreg's own path, on NumPy (float64/float32) or torch (float16/bfloat16, where installed)."""
    return lambda A1, A2, B, X: attnreg.loss_and_grad(A1, A2, B, X, version=version)


def backend_for(dtype, requested, production=True):
    """Our own path runs float16/bfloat16 in torch where installed; a user's target gets what was asked."""
    if not production or requested != "numpy" or dtype in ("float64", "float32") or dtypes.provider(dtype) != "torch":
        return requested
    return "torch"


def _state(value, gold_hi, unit):
    v = np.asarray(value, dtype=float)
    if np.any(np.isnan(v)):
        return "NaN"
    if np.any(np.isinf(v)):
        return "inf"
    if np.all(v == 0) and np.abs(gold_hi).max(initial=0) >= unit.tiny:
        return "underflow"
    return "finite"


def softmax_point(n, scale, dtype):
    rng = np.random.default_rng([n, int(scale), 7])
    S = rng.integers(-64, 65, size=(n, n)) / 64 * scale  # dyadic: exact in every dtype up to 2048
    conv = target.converter(backend_for(dtype, "numpy"), dtype)
    eye = np.eye(n)
    try:  # A1 = A2 = I, X = S: the logits I·S·I are exact, so only the softmax step rounds
        F = target.to_float64(attnreg.f(conv(eye), conv(eye), conv(S)))
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    ctx = reference.make_context(40 + int(2 * scale / math.log(10)))
    worst, spread = 0.0, 0.0
    for j in range(n):
        g = reference.rows.softmax(ctx, [ctx.mpf(float(v)) for v in S[j]])
        worst = max(worst, float(max(abs(ctx.mpf(float(F[j, k])) - g[k]) for k in range(n)) / max(g)))
        spread = max(spread, float(S[j].max() - S[j].min()))
    u = dtypes.unit(dtype).u
    return {"error": None, "measured": worst if np.all(np.isfinite(F)) else math.inf,
            "bound": (n + 2 + 2 * spread) * u}


def sweep(fn_for, version, dtype_names, backend="numpy", device=None, progress=None, sizes=None, scales=None,
          production=True, timeout: float | None = 60.0):
    """Measure every (n, logit scale, dtype) point; after a call that runs past ``timeout`` seconds the
    later points are not called (status ``timeout``, saying so)."""
    points, late = [], ""
    for n in sizes or SIZES:
        for scale in scales or SCALES:
            case = problem(n, scale)
            for dt in dtype_names:
                unit = dtypes.unit(dt)
                be = backend_for(dt, backend, production)
                m = runner.measure(fn_for(version, dt), case, form="matrix", version=version, dtype=dt, backend=be,
                                   device=device, timeout=None if late else timeout, skip=late)
                if m.status == "timeout" and not late:
                    late = f"not called: an earlier call (n = {n}, max|S| = {scale:g}, {dt}) {m.message[13:]}"
                (Lh, _), (Gh, _) = m.gold_q["loss"], m.gold_q["grad"]
                try:
                    bnd = errormodel.matrix_bounds(*case.args, version, dtype=dtypes.numpy_dtype(dt))
                    with np.errstate(all="ignore"):
                        bl = tol("vs_reference").factor * bnd.loss / max(abs(Lh), unit.tiny)
                        bg = tol("vs_reference").factor * runner.norm(bnd.grad) / max(m.grad_floor, runner.norm(Gh))
                except (OverflowError, ValueError, FloatingPointError):
                    bl = bg = math.inf
                p = {"version": version, "n": n, "scale": scale, "max_logit": case.max_logit, "dtype": dt,
                     "backend": be, "status": m.status, "message": m.message, "representable": m.representable,
                     "bound": {"loss": bl, "grad": bg}}
                if m.status == "ok":
                    p["error"] = m.err
                    p["state"] = {"loss": _state(m.loss, Lh, unit),
                                  "grad": _state(m.grad, Gh, unit) if m.grad is not None else None}
                    p["digits_lost"] = {q: (math.log10(max(e, unit.u) / unit.u) if math.isfinite(e) else None)
                                        for q, e in m.err.items()}
                    p["within_bound"] = {q: math.isfinite(e) and e <= p["bound"][q] if m.representable[q] else None
                                         for q, e in m.err.items()}
                points.append(p)
                if progress:
                    progress(p)
    return points
