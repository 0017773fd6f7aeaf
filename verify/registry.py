"""One registry of checks with one ``Result`` type; pytest, the CLI and reports iterate it.

A check is a function ``run(*, seed) -> Result`` registered with :func:`check`. It says what it
verifies (``claim``) and with which evidence (docs/design.md §4): ``proved``, ``certified``, ``confirmed``,
``survived`` (and, on failure with a confirmed counterexample, ``refuted``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable

from attnreg.evidence import Evidence

EVIDENCE = tuple(Evidence)
TIERS = ("quick", "slow")


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


@dataclass(frozen=True)
class Result:
    status: Status
    measured: float | None = None  # what was observed: an error, a residual, a ratio
    bound: float | None = None  # what it must not exceed: a tolerance or a constant
    detail: str = ""  # one line a human can act on: what was compared, how, where
    evidence: Evidence | None = None  # filled from the check on PASS when left None
    check: str = ""
    seconds: float = 0.0

    @classmethod
    def of(cls, ok: bool, *, measured=None, bound=None, detail="", evidence=None) -> "Result":
        return cls(Status.PASS if ok else Status.FAIL, _num(measured), _num(bound), detail, evidence)

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASS, Status.SKIP)

    def as_dict(self) -> dict:
        return dict(check=self.check, status=self.status.value, evidence=self.evidence, measured=self.measured,
                    bound=self.bound, detail=self.detail, seconds=round(self.seconds, 3))


@dataclass(frozen=True)
class Check:
    name: str  # dotted and -k friendly: "prod.loss.normalized.vs_reference"
    claim: str  # what a pass establishes, in one sentence
    evidence: Evidence  # the word a pass earns
    run: Callable[..., Result]
    tier: str = "quick"
    lemma: str | None = None  # the proofs/ lemma id it exercises, if any
    tags: frozenset = field(default_factory=frozenset)


REGISTRY: dict[str, Check] = {}


def check(name: str, *, claim: str, evidence: str, tier: str = "quick", lemma: str | None = None, tags=()):
    """Register ``fn(*, seed) -> Result`` under ``name``; names are unique."""
    if evidence not in EVIDENCE or tier not in TIERS:
        raise ValueError(f"check {name}: evidence must be one of {EVIDENCE} and tier one of {TIERS}")
    evidence = Evidence(evidence)

    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"check {name!r} is registered twice")
        REGISTRY[name] = Check(name, claim, evidence, fn, tier, lemma, frozenset(tags))
        return fn

    return register


def run(c: Check, *, seed: int = 0) -> Result:
    """Run one check; an exception becomes an ERROR result (with its message), never a crash."""
    start = time.perf_counter()
    try:
        result = c.run(seed=seed)
    except Exception as exc:  # noqa: BLE001 - a broken check is reported, the run goes on
        result = Result(Status.ERROR, detail=f"{type(exc).__name__}: {exc}")
    evidence = None if result.evidence is None else Evidence(result.evidence)
    if evidence is None and result.status is Status.PASS:
        evidence = c.evidence
    return replace(result, check=c.name, evidence=evidence, seconds=time.perf_counter() - start)


def _num(x):
    return None if x is None else float(x)
