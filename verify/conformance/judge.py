r"""The ratio rule: a candidate is as accurate as a straightforward same-dtype implementation.

Per case and quantity (loss, gradient), with ``e`` the candidate's relative error against the gold and
``b`` the baseline's (:mod:`.baseline`), ``φ = 8u`` the round-off floor:

* a value whose true size is representable in the dtype must be finite;
* ``e ≤ 32·max(b, φ)`` (per case: either algorithm can be lucky), or ``e ≤ β``, the first-order a-priori
  bound of :mod:`attnreg.verify.errormodel` (times its ``vs_reference`` factor): the baseline can be exact
  by luck, e.g. with logits that happen to round exactly, where another correct algorithm pays the logits'
  rounding ``u·|S|`` (``exp(S − logsumexp(S))`` at ``|S| ≈ 1000`` loses three digits against the shifted
  softmax and is still within ``β``);

and over the *distribution* of the well-conditioned cases (``b ≤ √u``), the geometric mean

    exp(mean log((e + φ)/(b + φ))) ≤ 4

(a geometric mean, so that one ill-conditioned case cannot dominate, while a function that is
systematically worse than the baseline fails).

The factors are rows of :mod:`attnreg.verify.tolerances` with their reasons. A case on which the
function raises or returns the wrong shape fails with that reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..tolerances import tol
from . import dtypes, runner

QUANTITIES = ("loss", "grad")


@dataclass
class CaseVerdict:
    ok: bool
    reasons: list = field(default_factory=list)


@dataclass
class Judgement:
    ok: bool
    cases: list  # CaseVerdict per measured case
    rule: dict  # quantity -> {"mean": (e, b), "max": (e, b), "count": k, "ok": bool}
    reasons: list


def floor(dtype: str) -> float:
    return tol("conformance.floor").factor * dtypes.unit(dtype).u


def case_verdict(m, dtype: str, version: str) -> CaseVerdict:
    if m.status != "ok":
        return CaseVerdict(False, [m.message])
    phi, k = floor(dtype), tol("conformance.ratio.case").factor
    reasons, beta = [], None
    for q, e in m.err.items():
        name = "gradient" if q == "grad" else "loss"
        b = m.base_err[q]
        if not m.representable[q]:
            continue
        if not math.isfinite(e):
            reasons.append(f"{name} is NaN/inf where the true value is finite")
        elif math.isfinite(b) and e > k * max(b, phi):
            beta = beta or runner.apriori(m, version, dtype)  # only where needed: it costs a 40-digit pass
            if not e <= beta[q]:
                reasons.append(f"{name} error {e:.1e} > {k:g} × baseline {max(b, phi):.1e}")
    return CaseVerdict(not reasons, reasons)


def judge(measured, dtype: str, version: str) -> Judgement:
    verdicts = [case_verdict(m, dtype, version) for m in measured]
    phi, k = floor(dtype), tol("conformance.ratio").factor
    cut = dtypes.unit(dtype).u ** tol("conformance.well_conditioned").factor
    rule, reasons = {}, []
    for q in QUANTITIES:
        pairs = [(m.err[q], m.base_err[q]) for m in measured
                 if m.status == "ok" and q in m.err and m.representable[q] and math.isfinite(m.err[q])
                 and math.isfinite(m.base_err[q]) and m.base_err[q] <= cut]
        if not pairs:
            continue
        es, bs = [p[0] for p in pairs], [p[1] for p in pairs]
        geo = math.exp(sum(math.log((e + phi) / (b + phi)) for e, b in pairs) / len(pairs))
        ok = geo <= k
        rule[q] = {"geomean_ratio": geo, "mean": [sum(es) / len(es), sum(bs) / len(bs)], "max": [max(es), max(bs)],
                   "count": len(pairs), "ok": ok}
        if not ok:
            name = "gradient" if q == "grad" else "loss"
            reasons.append(f"{name}: geometric mean of (error + φ)/(baseline + φ) is {geo:.3g} > {k:g} over "
                           f"{len(pairs)} cases (mean error {rule[q]['mean'][0]:.2e} vs baseline "
                           f"{rule[q]['mean'][1]:.2e})")
    bad = sum(not v.ok for v in verdicts)
    if bad:
        reasons.insert(0, f"{bad} of {len(verdicts)} cases fail")
    return Judgement(not reasons, verdicts, rule, reasons)
