r"""The verdict on each claim: the proved decision, the adversarial search, confirmation, and the JSON result.

For each claim: **proved** when a derived lemma covers it (:mod:`.prove`); in any case an
adversarial search (:mod:`.search`) for the largest ratio; **refuted** only when a violation is
confirmed at ≥ 50 digits (:mod:`.confirm`), the counterexample written atomically to
``counterexample-<id>.json`` (re-checked by ``attnreg claims replay``); otherwise **survived** with
the worst ratio found and where. JSON::

    {"claims": [{"id", "status", "worst": {"params": {"n", "d", "R"}, "observed", "constant", "slack"},
                 "counterexample", "evidence"}]}

``observed`` is the largest ratio (lipschitz) or value (upper) found — the smallest for ``lower`` —
``constant`` the claimed constant at the same parameters, and ``slack = constant / observed``
(``observed / constant`` for ``lower``), so ``slack < 1`` always means a violation: a float64 ratio just
above 1 that the ≥ 50-digit confirmation does not reproduce is rounding at a tight bound, and its slack
is reported as 1 (the evidence says so). The JSON holds no timings, so the same file, seed and budget
give the same bytes on any machine load.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from attnreg._io import atomic_write_text
from attnreg.evidence import Evidence

from ..text import number
from . import confirm, prove, search
from .domain import DomainError
from .expr import ExprError

MAX_CONFIRM = 4  # grid points whose float64 violation is sent to high precision


@dataclass
class Outcome:
    claim: object
    status: Evidence | str  # an evidence word, or "error"
    evidence: str
    worst: dict | None = None
    counterexample: str | None = None
    decision: prove.Decision | None = None
    slack_by_R: list = field(default_factory=list)  # [(R, smallest slack over n, d)] for the plot
    record: dict | None = None

    def as_dict(self) -> dict:
        return dict(id=self.claim.id, status=self.status, worst=self.worst, counterexample=self.counterexample,
                    evidence=self.evidence)


def slack(kind, K, obs):
    """``1 / ratio``: 0 when the constant is violated outright (``K ≤ 0``), None where undefined."""
    r = search.ratio(kind, K, obs)
    if r == math.inf:
        return 0.0
    return None if not math.isfinite(r) or r == 0 else 1.0 / r


def check_claim(claim, *, budget: float, seed: int = 0, out_dir=".", progress=None, available=None,
                map_fn=map, pool=None) -> Outcome:
    """Decide, search, confirm; exceptions from a claim become an ``error`` outcome. ``map_fn`` runs the
    search's rounds of work items (e.g. an executor's ``map``; the result does not depend on it), ``pool``
    (a :class:`attnreg.verify.executor.Pool` or None) the boxes of the claim's certificate, if it names one."""
    try:
        outcome = _check(claim, budget, seed, Path(out_dir), progress, available, map_fn)
        if claim.certificate:
            from .certified import apply  # deferred: arb certificates load only for claims that name one

            outcome = apply(claim, outcome, Outcome, pool)
        return outcome
    except (DomainError, ExprError, ValueError, ArithmeticError) as exc:
        return Outcome(claim, "error", f"error: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug here must not hide the other claims' results
        return Outcome(claim, "error", f"error: internal failure while checking ({type(exc).__name__}: {exc})")


STOP_RATIO = 1.02  # a float64 violation this clear ends the search early, to be confirmed


def _check(claim, budget, seed, out_dir, progress, available, map_fn):
    decision = prove.decide(claim, available)
    result = search.search(claim, budget=budget, seed=seed, progress=progress, stop_ratio=STOP_RATIO, map_fn=map_fn)
    outcome = _conclude(claim, budget, seed, out_dir, decision, result)
    if outcome.status != Evidence.REFUTED and result.stopped_early:
        # the early violation did not confirm: spend the whole budget and try again
        result = search.search(claim, budget=budget, seed=seed, progress=progress, map_fn=map_fn)
        outcome = _conclude(claim, budget, seed, out_dir, decision, result)
    return outcome


def _conclude(claim, budget, seed, out_dir, decision, result):
    ranked = result.ranked(claim)
    if not ranked:
        return Outcome(claim, "error", "error: no grid point gave a finite value in float64", decision=decision)
    best = ranked[0]
    K = best.pt.K
    worst = dict(params=best.pt.params, observed=best.obs, constant=K, slack=slack(claim.kind, K, best.obs))
    if K == 0 and claim.kind != "lower" and best.obs == 0:
        worst["slack"] = 1.0  # 0 ≤ 0: the bound holds with equality
    grid = _grid_text(result)
    by_R = {}
    for b in ranked:
        s = slack(claim.kind, b.pt.K, b.obs)
        if s is not None:
            by_R[b.pt.R] = min(by_R.get(b.pt.R, math.inf), s)
    common = dict(worst=worst, decision=decision, slack_by_R=sorted(by_R.items()))
    found = f"{result.evaluations} evaluations over {grid} (budget {budget:g} s of nominal work, seed {seed})"
    notes = "".join(f"; {n}" for n in result.notes)
    at = ", ".join(f"{k}={v:g}" for k, v in best.pt.params.items())
    tried = 0
    for cand in ranked[:MAX_CONFIRM]:
        if search.ratio(claim.kind, cand.pt.K, cand.obs) <= 1:
            break
        tried += 1
        record = confirm.confirm(claim, cand)
        if record is not None:
            path = out_dir / f"counterexample-{claim.id}.json"
            try:
                atomic_write_text(path, json.dumps(record, indent=1) + "\n")
                saved = f"replay: attnreg claims replay {path}"
            except OSError as exc:
                saved, path = f"the counterexample file {path} could not be written ({exc.strerror or exc})", None
            against = f"; this contradicts lemma {decision.lemma}" if decision.status == "proved" else ""
            where = ", ".join(f"{k}={v:g}" for k, v in record["params"].items())
            relation = "<" if claim.kind == "lower" else ">"
            ratio = "inf" if record["ratio"] is None else record["ratio"][:8]
            return Outcome(claim, Evidence.REFUTED,
                           f"refuted at {where}: {record['lhs_meaning']} = {record['lhs'][:12]} {relation} "
                           f"{record['rhs_meaning']} = {record['rhs'][:12]}, confirmed at {record['dps']} digits "
                           f"(ratio {ratio}); search: {found}{notes}{against}; {saved}",
                           counterexample=None if path is None else str(path), record=record, **common)
    unconfirmed = (f"; float64 ratios above 1 at {tried} grid points were not confirmed at {confirm.DPS} digits"
                   if tried else "")
    # A proved claim cannot be violated, and a float64 ratio within 1e-6 of 1 that high precision does not
    # confirm is rounding at a tight bound: either way the slack is 1, not the float64 quotient.
    if tried and worst["slack"] is not None and worst["slack"] < 1 and \
            (decision.status == "proved" or worst["slack"] >= 1 - 1e-6):
        worst["slack"] = 1.0
        common["slack_by_R"] = [(R, max(s, 1.0)) for R, s in common["slack_by_R"]]
        unconfirmed += " (rounding at a tight bound: slack reported as 1)"
    what = "largest ratio" if claim.kind == "lipschitz" else ("smallest value" if claim.kind == "lower" else
                                                             "largest value")
    searched = (f"search: {what} {best.obs:.6g} at {at} against constant {K:.6g} (slack "
                f"{number(worst['slack'], missing='n/a')}); {found}{notes}{unconfirmed}")
    if decision.status == "proved":
        return Outcome(claim, Evidence.PROVED, f"proved: {decision.reason} (decided symbolically); {searched}",
                       **common)
    return Outcome(claim, Evidence.SURVIVED, f"survived: {searched}; not proved: {decision.reason}", **common)


def _grid_text(result) -> str:
    pts = [b.pt for b in result.bests]
    vals = lambda key: ", ".join(f"{v:g}" for v in sorted({getattr(p, key) for p in pts}))  # noqa: E731
    top = ", ".join(f"{k} ≤ {max(getattr(p, k) for p in pts):g}" for k in "ndR")
    return (f"{len(pts)} grid points (searched up to {top}; n in {{{vals('n')}}}, d in {{{vals('d')}}}, "
            f"R in {{{vals('R')}}})")


def to_json(outcomes) -> str:
    return json.dumps({"claims": [o.as_dict() for o in outcomes]}, indent=2, allow_nan=False) + "\n"
