"""Checks of the claims checker: the built-in claims at a small search budget (the in-context-learning checks
are in :mod:`.icl`)."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from ..claims import builtin, check_claim
from ..registry import Result, Status, check

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
