"""attnreg's own production path under the conformance rule it applies to others (``attnreg check-impl``).

Golden cases plus seeded Hypothesis cases, float64 and float32: relative errors of loss and gradient
against the 40-digit gold, judged by the ratio rule against a straightforward same-dtype
implementation (verify/conformance/judge.py); a failure carries the diagnosis.
"""
from __future__ import annotations

import attnreg

from ..conformance import check as conformance
from ..registry import Result, check


def _make(form, version):
    module = attnreg if form == "matrix" else attnreg.vector

    @check(f"conformance.production.{form}.{version}", evidence="confirmed",
           claim=f"attnreg's {form} {version} loss and gradient pass attnreg check-impl's ratio rule against the "
                 "golden cases (40-digit gold) and seeded Hypothesis cases, in float64 and float32")
    def run(*, seed):
        worst, details = 0.0, []
        for dtype in ("float64", "float32"):
            out = conformance.run(lambda *a: module.loss_and_grad(*a, version=version), version=version, form=form,
                                  dtype=dtype, seed=seed, examples=10)
            geo = max((r["geomean_ratio"] for r in out.judgement.rule.values()), default=0.0)
            worst = max(worst, geo)
            if not out.ok:
                return Result.of(False, measured=geo, bound=4.0,
                                 detail=f"{dtype}: " + "; ".join(out.diagnosis + out.judgement.reasons))
            details.append(f"{dtype}: {len(out.measured)} cases, geometric-mean error ratio {geo:.2f}")
        return Result.of(True, measured=worst, bound=4.0, detail="; ".join(details))

    return run


for _form in ("matrix", "vector"):
    for _version in ("normalized", "rescaled"):
        _make(_form, _version)
