"""Checks of the claims checker: the built-in claims at a small search budget, and the in-context-learning
construction (``attnreg.icl``) at 50 digits and against its derived bound."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from attnreg import icl, reference

from ..claims import builtin, check_claim, icl_report
from ..registry import Result, Status, check
from ..tolerances import tol

QUICK_BUDGET, SLOW_BUDGET = 0.25, 5.0


@functools.cache
def _outdir() -> Path:
    """A private folder per process for counterexamples found by `attnreg verify` (named in the detail)."""
    return Path(tempfile.mkdtemp(prefix="attnreg-counterexamples-"))


def _claim_check(claim, budget):
    def run(*, seed):
        o = check_claim(claim, budget=budget, seed=seed, out_dir=_outdir())
        ratio = None if o.worst is None or o.worst["slack"] is None else 1 / o.worst["slack"]
        if o.status == "error":
            return Result(Status.ERROR, detail=o.evidence)
        evidence = {"proved": "proved", "refuted": "refuted"}.get(o.status)
        return Result.of(o.status in ("proved", "survived"), measured=ratio, bound=1.0, detail=o.evidence,
                         evidence=evidence)
    return run


for _claim in builtin():
    for _tier, _budget in (("quick", QUICK_BUDGET), ("slow", SLOW_BUDGET)):
        check(f"claims.builtin.{_claim.id}" + ("" if _tier == "quick" else ".deep"),
              claim=f"built-in claim ({_claim.provenance}) not refuted: {_claim.statement()}",
              evidence="survived", tier=_tier)(_claim_check(_claim, _budget))


def _icl_instance(seed, version, kind, n=5, d=3):
    rng = np.random.default_rng([seed, n, d])
    A1, A2, B, X = icl_report.instance(n, d, 1.5, rng)
    return (A1, A2, B, X), icl_report.move(kind, version, A1, A2, B, X, rng, logit_step=0.05)


def _icl_exact(version, kind):
    def run(*, seed):
        args, kw = _icl_instance(seed, version, kind)
        err = float(reference.icl.exactness(*args, version=version, dps=50, **kw))
        bound = 10.0 ** -(50 - tol("reference.digits").factor)
        return Result.of(err <= bound, measured=err, bound=bound,
                         detail="max |residual_new(B) − residual_old(B̃)| / max |residual| at 50 digits, "
                                f"B̃ from attnreg.reference.icl, n=5, d=3, {kind} move")
    return run


def _icl_bound(version, kind):
    def run(*, seed):
        args, kw = _icl_instance(seed, version, kind)
        s = icl.shift(*args, version=version, **kw)
        Bt = icl.shifted_target(*args, version=version, **kw)
        ref = reference.icl.shifted_target(*args, version=version, dps=50, **kw)
        ctx = reference.make_context(50)
        err = max(abs(ctx.mpf(float(Bt[i, j])) - ref[i, j]) for i in range(Bt.shape[0]) for j in range(Bt.shape[1]))
        allowed = tol("icl.float64").factor * np.finfo(float).eps * max(1.0, float(np.abs(Bt).max()))
        ok = s.measured <= s.derived_bound and float(err) <= allowed
        return Result.of(ok, measured=s.measured, bound=s.derived_bound,
                         detail=f"||B̃ − B||_F = {s.measured:.3g} ≤ derived {s.derived_bound:.3g} (paper-style "
                                f"{s.paper_bound:.3g}); production B̃ vs reference: {float(err):.2g} ≤ {allowed:.2g}")
    return run


for _version in ("normalized", "rescaled"):
    for _kind in ("weight", "data"):
        check(f"icl.exact.{_version}.{_kind}", evidence="confirmed",
              claim=f"{_version} {_kind} move: the shifted target B̃ turns the old residual into the new one exactly")(
            _icl_exact(_version, _kind))
        check(f"icl.bound.{_version}.{_kind}", evidence="confirmed",
              claim=f"{_version} {_kind} move: ||B̃ − B||_F is within our derived bound, and the production B̃ "
                    "matches the reference")(_icl_bound(_version, _kind))
