r"""Say in words which known bug the numbers fit (never from the code).

Tests against the gold ``g`` (per case, the rule of :mod:`.judge`: within ``32·max(b, φ)``):

* the ½ convention: loss or gradient equal to ``2g`` (or ``g/2``) on every case, the other one right;
* the transposed gradient ``gᵀ`` (column-major ``vec`` / ``A2 ⊗ A1``); the wrong sign ``−g``;
* NaN/inf where the true value is finite: an unshifted softmax (with the logit where it starts, beside
  ``ln(max)`` of the dtype) or, for the rescaled loss, ``exp(S)`` overflowing while ``exp(S) − D B`` is small;
* agreement to only the digits of a lower precision (float32 arithmetic inside a float64 function);
* a gradient inconsistent with the function's own loss: an order-8 central difference of its loss along a
  direction ``V`` against ``⟨∇, V⟩`` (its float64 loss; ``conformance.fd`` in the tolerance table).

A passing run gets no diagnosis.
"""
from __future__ import annotations

import contextlib
import io
import math
import statistics
import time

import numpy as np

from ..tolerances import tol
from . import contain, dtypes, judge, runner
from .target import converter, to_float64
from .timelimit import CallTimeout, limit

STENCIL = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))  # order-8 central first derivative
DIGITS = {"float32": 7.2, "float16": 3.3, "bfloat16": 2.4}  # -log10(u) of the lower precisions


def _fits(measured, q, transform, dtype, transposes=False):
    """True when every measurable case fits ``transform(gold)`` and at least one misses the plain gold."""
    k, phi = tol("conformance.ratio.case").factor, judge.floor(dtype)
    unit, fit, missed, count = dtypes.unit(dtype), True, False, 0
    cut = unit.u ** tol("conformance.well_conditioned").factor
    for m in measured:
        if m.status != "ok" or q not in m.err or not m.representable[q] or not math.isfinite(m.err[q]) \
                or not m.base_err[q] <= cut:  # an ill-conditioned value cannot tell one convention from another
            continue
        hi, lo = m.gold_q[q]
        if runner.norm(hi) <= unit.tiny:
            continue
        th, tl = transform(hi), transform(lo)
        if transposes and runner.norm(hi - hi.T) <= 1e-2 * runner.norm(hi):
            continue  # a (nearly) symmetric gradient cannot tell a transpose
        value = m.loss if q == "loss" else m.grad
        bound = k * max(m.base_err[q], phi)
        count += 1
        fit &= runner.rel_err(value, th, tl, m.grad_floor if q == "grad" else unit.tiny) <= bound
        missed |= m.err[q] > bound
    return fit and missed and count >= 2


LOSS_T = {2.0: lambda a: 2 * a, 0.5: lambda a: a / 2, -1.0: lambda a: -a}
GRAD_T = {"2": lambda a: 2 * a, "½": lambda a: a / 2, "−": lambda a: -a, "ᵀ": lambda a: np.swapaxes(a, -1, -2),
          "−ᵀ": lambda a: -np.swapaxes(a, -1, -2), "2ᵀ": lambda a: 2 * np.swapaxes(a, -1, -2)}


def _conventions(measured, form, dtype):
    out = []
    loss_t = next((f for f, t in LOSS_T.items() if _fits(measured, "loss", t, dtype)), None)
    grad_t = next((name for name, t in GRAD_T.items() if (form == "matrix" or "ᵀ" not in name)
                   and _fits(measured, "grad", t, dtype, "ᵀ" in name)), None)
    has_grad = any(m.grad is not None for m in measured)
    if loss_t in (2.0, 0.5) or grad_t in ("2", "½", "2ᵀ"):
        which = [w for w, t in (("loss", loss_t in (2.0, 0.5)), ("gradient", grad_t in ("2", "½", "2ᵀ"))) if t]
        factor = "2×" if 2.0 == loss_t or grad_t in ("2", "2ᵀ") else "½×"
        only = "" if len(which) == 2 or not has_grad else f" (only the {which[0]}; the other one is right)"
        out.append(f"the {' and the '.join(which)} {'are' if len(which) == 2 else 'is'} exactly {factor} the true "
                   f"value on every case{only}: the ½ convention. attnreg's loss carries ½ "
                   "(objective = 2·loss); use --scale full for the papers' objective without ½, or fix the factor")
    if grad_t in ("ᵀ", "−ᵀ", "2ᵀ"):
        out.append("the gradient is the transpose of the true one on every case: the column-major vec / A2 ⊗ A1 "
                   "convention (x[i + k·d] = X[i, k]); with row-major vec(X) the tensor trick needs A1 ⊗ A2")
    if loss_t == -1.0 or grad_t in ("−", "−ᵀ"):
        which = "loss" if loss_t == -1.0 and grad_t not in ("−", "−ᵀ") else "gradient"
        out.append(f"the {which} has the wrong sign on every case (it is minus the true value)")
    return out, loss_t, grad_t


def _nonfinite(measured, version, dtype):
    unit = dtypes.unit(dtype)
    bad = [m for m in measured if m.status == "ok"
           and any(m.representable[q] and not math.isfinite(e) for q, e in m.err.items())]
    if not bad:
        return []
    good = [m for m in measured if m.status == "ok" and all(math.isfinite(e) for e in m.err.values())]
    # exp(S) overflows past ln(max) (the rescaled residual's square past ln(max)/2); very negative rows
    # underflow; NaN/inf at moderate logits is something else (log 0, 0/0 of a vanishing residual, ...)
    high = [m.case.max_logit for m in bad if m.case.max_logit > unit.ln_max / 2]
    low = [m.case.max_logit for m in bad if m.case.max_logit < -unit.ln_max / 2]
    mid = [m for m in bad if -unit.ln_max / 2 <= m.case.max_logit <= unit.ln_max / 2]
    out = []
    if mid:  # NaN/inf at moderate logits too: the large-logit ones may well have the same cause
        m = mid[0]
        return [f"NaN/inf where the true value is finite on {len(bad)} case(s), {len(mid)} of them at moderate logits "
                f"(e.g. {m.case.id}, max logit {m.case.max_logit:.4g}: {m.case.note}): not an exp overflow; look "
                "for log(0), 0/0 or a division by a vanishing residual"]
    if high:
        onset = min(high)
        below = [m.case.max_logit for m in good if m.case.max_logit < onset]
        span = f"from max logit ≈ {onset:.4g}" + (f" (finite up to {max(below):.4g})" if below else "")
        if version == "normalized":
            out.append(f"NaN/inf where the true value is finite, {span}: {dtype} exp overflows past "
                       f"ln(max) = {unit.ln_max:.4g}, so the softmax is computed without shifting each row by its max")
        else:
            out.append(f"the rescaled loss or gradient overflows (NaN/inf) where the true value is representable, "
                       f"{span}: exp(S) overflows past ln(max) = {unit.ln_max:.4g} in {dtype} while "
                       "exp(S) − D(X)B stays small; carry each row's scale e^max separately (log domain)")
    if low:
        out.append(f"NaN/inf where every logit of a row is very negative (max logit ≈ {max(low):.4g}): exp underflows "
                   "to 0 and 0/0 = NaN without the row shift")
    return out


def _factor(measured, dtype):
    """``{quantity: c}`` where the value is ``c × gold`` on every well-conditioned case (``c`` ≠ 1, the same
    to within the per-case rule): a constant factor, not rounding (rounding errors vary from case to case)."""
    k, phi = tol("conformance.ratio.case").factor, judge.floor(dtype)
    unit = dtypes.unit(dtype)
    cut = unit.u ** tol("conformance.well_conditioned").factor
    out = {}
    for q in ("loss", "grad"):
        ratios, bounds = [], []
        for m in measured:
            if m.status != "ok" or q not in m.err or not m.representable[q] or not math.isfinite(m.err[q]) \
                    or not m.base_err[q] <= cut:
                continue
            hi = np.ravel(np.asarray(m.gold_q[q][0], dtype=np.float64))
            v = np.ravel(np.asarray(m.loss if q == "loss" else m.grad, dtype=np.float64))
            if runner.norm(hi) <= (m.grad_floor if q == "grad" else unit.tiny):
                continue  # a gradient that cancels below its terms' size has no relative digits to compare
            ratios.append(float(np.dot(v, hi) / np.dot(hi, hi)))
            bounds.append(k * max(m.base_err[q], phi))
        if len(ratios) < 4:
            continue
        c = statistics.median(ratios)
        if abs(c - 1) > 4 * max(bounds) and all(abs(r - c) <= b * abs(c) for r, b in zip(ratios, bounds)):
            out[q] = c
    return out


def _precision(measured, jd, dtype):
    """Most well-conditioned values agree to the digits of a lower precision, and no better."""
    cut = dtypes.unit(dtype).u ** tol("conformance.well_conditioned").factor
    errs = [m.err[q] for m in measured if m.status == "ok" for q in m.err
            if math.isfinite(m.err[q]) and m.representable[q] and m.base_err[q] <= cut]
    if len(errs) < 4 or dtype not in ("float64", "float32"):
        return []
    digits = statistics.median(-math.log10(max(e, 1e-300)) for e in errs)
    own = -math.log10(dtypes.unit(dtype).u)
    for name, dig in DIGITS.items():
        if dig < own - 2 and abs(digits - dig) <= 1.5:
            base = statistics.median(-math.log10(max(m.base_err[q], 1e-300)) for m in measured
                                     if m.status == "ok" for q in m.err if math.isfinite(m.base_err[q]))
            return [f"agrees to only ~{digits:.0f} digits at {dtype} (the baseline: ~{min(base, own):.0f}), which is "
                    f"what {name} arithmetic gives: the function computes in {name} inside (a cast, a {name} "
                    "constant or default dtype) or returns " f"{name} values"]
    return []


def fd_check(fn, convert, case, version, seed=0, timeout: float | None = None):
    """``(finite difference of fn's loss along V, ⟨fn's gradient, V⟩)`` at float64, or None. Each of the
    nine calls is held as :func:`.runner.measure` holds one (``timeout`` seconds, a late return counted as
    past it; output and ``os._exit`` contained): None when one raises or cannot be read; one that runs past
    the limit raises :class:`.timelimit.CallTimeout` (no more calls of a function that hung)."""
    rng = np.random.default_rng(seed)
    args = list(case.args)
    xi = 3 if case.form == "matrix" else 2
    V = rng.standard_normal(args[xi].shape)
    S = args[0] @ V @ args[1].T if case.form == "matrix" else args[0] @ V
    V = V / max(float(np.abs(S).max()), 1e-300)
    h = 2.0 ** -6

    def call(t):
        a = list(args)
        a[xi] = args[xi] + t * V
        inputs, said, start = [convert(x) for x in a], io.StringIO(), time.monotonic()
        with contain.contained(said) as stream, np.errstate(all="ignore"), limit(timeout), \
                contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            out = fn(*inputs)
            got = float(to_float64(out[0])), to_float64(out[1])  # read as the call is held (runner.measure)
        if timeout and time.monotonic() - start > timeout:
            raise CallTimeout("returned late")
        return got

    try:
        L0, G = call(0.0)
        dot = float(np.sum(G * V))
        fd = sum(c * (call(j * h)[0] - call(-j * h)[0]) for j, c in STENCIL) / h
    except (Exception, SystemExit):
        return None
    return fd, dot


def _where(measured, jd) -> str:
    """A shared trait of the failing cases that the passing ones lack (n = 1, d = 1), or ""."""
    bad = [m.case for m, v in zip(measured, jd.cases) if not v.ok]
    good = [m.case for m, v in zip(measured, jd.cases) if v.ok]
    for name, of in (("n = 1", lambda c: c.n == 1), ("d = 1", lambda c: c.d == 1)):
        if bad and all(of(c) for c in bad) and not all(of(c) for c in good):
            return f"; every failing case has {name} (the others pass): look at that special case"
    return ""


def diagnose(measured, jd, *, form, version, dtype, fn=None, backend="numpy", device=None,
             timeout: float | None = None) -> list[str]:
    if jd.ok:
        return []
    out = []
    raised = [m for m in measured if m.status == "raised"]
    if raised:
        out.append(f"the function raised on {len(raised)} case(s); first: {raised[0].message}")
    shape = [m for m in measured if m.status == "shape"]
    if shape:
        out.append(f"wrong return shape on {len(shape)} case(s): {shape[0].message}")
    unreadable = [m for m in measured if m.status == "unreadable"]
    if unreadable:
        out.append(f"{unreadable[0].message} on {len(unreadable)} case(s): return the loss or (loss, grad) as "
                   "numbers or arrays")
    mutated = [m for m in measured if m.status == "mutated"]
    if mutated:
        out.append(f"{mutated[0].message} on {len(mutated)} case(s): the caller's arrays are changed")
    out += _nonfinite(measured, version, dtype)
    conv, loss_t, grad_t = _conventions(measured, form, dtype)
    out += conv
    factors = {} if conv else _factor(measured, dtype)
    for q, c in factors.items():
        out.append(f"the {'gradient' if q == 'grad' else 'loss'} is {c:.6g} × the true value on every case: a constant "
                   "factor, not rounding (rounding errors vary from case to case); look for a wrong constant")
    if not conv and not factors:
        out += _precision(measured, jd, dtype)
    grad_bad = any("gradient" in r for v in jd.cases for r in v.reasons) or not jd.rule.get("grad", {}).get("ok", True)
    loss_bad = any(r.startswith("loss") for v in jd.cases for r in v.reasons) \
        or not jd.rule.get("loss", {}).get("ok", True)
    if fn is not None and grad_bad and grad_t is None and not out:
        convert = converter(backend, "float64", device)
        # finite differences on failing cases only: a claim about the objective rests on a case where it is wrong
        small = [(m.case, v) for m, v in zip(measured, jd.cases) if not v.ok and m.status == "ok"
                 and m.grad is not None and abs(m.case.max_logit) <= 8 and m.case.n >= 2][:3]
        for case, verdict in small:
            try:
                r = fd_check(fn, convert, case, version, timeout=timeout)
            except CallTimeout:
                break
            if r is None:
                continue
            fd, dot = r
            agree = abs(fd - dot) <= tol("conformance.fd").factor * max(abs(fd), abs(dot), 1e-300)
            if not agree and not loss_bad:
                out.append(f"the gradient is inconsistent with the function's own loss: along a direction V, an "
                           f"order-8 central difference of its loss gives {fd:.10g} and its gradient gives "
                           f"⟨∇, V⟩ = {dot:.10g} (case {case.id}); the loss is right, the gradient formula is not")
                break
            if agree and any(r.startswith("loss") for r in verdict.reasons):
                out.append(f"loss and gradient agree with each other (finite differences match, case {case.id}) but "
                           "not with the true objective: the function computes a different objective")
                break
    if not out:
        out.append("the errors exceed the ratio rule without matching a known bug: " + "; ".join(jd.reasons)
                   + _where(measured, jd))
    return out
