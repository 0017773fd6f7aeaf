"""Run a measurement over named stress cases and Hypothesis-generated cases; keep the worst.

``measure(case) -> (ratio, note)`` returns the observed error divided by its tolerance (pass iff
``ratio <= 1``) and a short note. Hypothesis is steered towards large ratios with ``target`` and
shrinks a failing case to a small one, which the result names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import hypothesis
from hypothesis import HealthCheck, Verbosity, given, settings, target

from .registry import Result


@dataclass
class Worst:
    ratio: float = 0.0
    where: str = ""
    count: int = 0

    def record(self, ratio: float, where: str) -> float:
        ratio = math.inf if math.isnan(ratio) else ratio
        self.count += 1
        if ratio >= self.ratio:
            self.ratio, self.where = ratio, where
        return ratio


def over_cases(measure, *, make, params, examples: int, seed: int, stress=(), what: str) -> Result:
    """Worst ratio over ``stress`` and ``examples`` cases ``make(**params)``; a Result against 1."""
    worst = Worst()
    for case in stress:
        ratio, note = measure(case)
        if worst.record(ratio, f"{case.label}: {note}") > 1:
            return _result(worst, what, examples=0, stress=len(stress), failed=True)
    failing = []

    @hypothesis.seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, verbosity=Verbosity.quiet,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(params)
    def prop(p):
        case = make(**p)
        ratio, note = measure(case)
        worst.record(ratio, f"{case.label}: {note}")
        target(min(ratio, 1e6), label="error / tolerance")
        if ratio > 1:
            failing.append(f"{case.label}: {note}")
            raise AssertionError(note)

    try:
        prop()
    except AssertionError:
        worst.where = failing[-1] if failing else worst.where  # the shrunk (smallest) failing case
    return _result(worst, what, examples=examples, stress=len(stress), failed=bool(failing))


def _result(worst: Worst, what: str, *, examples: int, stress: int, failed: bool) -> Result:
    detail = (f"{what}; {stress} stress + up to {examples} Hypothesis cases ({worst.count} evaluated); "
              f"worst error/tolerance {worst.ratio:.3g} at {worst.where}")
    return Result.of(not failed and worst.ratio <= 1, measured=worst.ratio, bound=1.0, detail=detail)
