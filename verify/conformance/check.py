"""One conformance run: golden and Hypothesis cases → measurements → ratio-rule verdict → diagnosis.

This is what ``attnreg check-impl`` and :func:`attnreg.testing.assert_conforms` run; the JSON it
returns has at least ``verdict``, ``diagnosis``, ``cases``, ``target``, ``version``, ``dtype``, ``backend``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import cases as cases_mod
from . import diagnose, dtypes, judge, runner, target


def hypothesis_cases(form: str, version: str, dtype: str, count: int, seed: int, max_n: int = 12) -> list:
    """``count`` cases drawn by Hypothesis from :func:`attnreg.testing.strategies.problems`, seeded."""
    if count <= 0:
        return []
    from hypothesis import HealthCheck, Phase, given, settings  # deferred: hypothesis, only to draw cases
    from hypothesis import seed as hseed  # deferred: hypothesis, as above
    from hypothesis import strategies as st  # deferred: hypothesis, as above

    from attnreg.testing.strategies import problems  # deferred: the strategies import hypothesis

    drawn = []

    @hseed(seed)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(problems(form=form, version=version, n=st.integers(1, max_n), d=st.integers(1, 4), dtype=dtype))
    def collect(p):
        drawn.append(p)

    collect()
    return [cases_mod.from_problem(i, p) for i, p in enumerate(drawn[:count])]


def _short(reasons) -> str:
    r = reasons[0]
    if "NaN/inf" in r:
        return "NaN/inf"
    if " error " in r:
        return ("grad" if r.startswith("gradient") else "loss") + (" + grad" if len(reasons) > 1 else "") + " > ratio"
    return r.split(":")[0][:40]


@dataclass
class Outcome:
    ok: bool
    diagnosis: list
    measured: list
    judgement: object
    meta: dict

    def rows(self):
        """Per-case table rows: id, n, d, max logit, loss error, gradient error, baseline errors, verdict."""
        fmt = lambda e: "—" if e is None else ("inf/NaN" if not math.isfinite(e) else f"{e:.1e}")  # noqa: E731
        for m, v in zip(self.measured, self.judgement.cases):
            err = m.err or {}
            yield (m.case.id, m.case.n, m.case.d, f"{m.case.max_logit:.4g}", fmt(err.get("loss")),
                   fmt(err.get("grad")), f"{fmt(m.base_err['loss'])} / {fmt(m.base_err['grad'])}",
                   "pass" if v.ok else "FAIL: " + _short(v.reasons))

    def to_json(self) -> dict:
        def num(e):
            return None if e is None else (e if math.isfinite(e) else "inf")

        cases = []
        for m, v in zip(self.measured, self.judgement.cases):
            err = m.err or {}
            cases.append({"id": m.case.id, "source": m.case.source, "n": m.case.n, "d": m.case.d,
                          "max_logit": m.case.max_logit, "status": m.status,
                          "loss_error": num(err.get("loss")), "grad_error": num(err.get("grad")),
                          "baseline_loss_error": num(m.base_err["loss"]),
                          "baseline_grad_error": num(m.base_err["grad"]),
                          "representable": m.representable, "verdict": "pass" if v.ok else "fail",
                          "reasons": v.reasons, "printed": m.printed})
        return {**self.meta, "verdict": "pass" if self.ok else "fail", "diagnosis": self.diagnosis,
                "rule": self.judgement.rule, "reasons": self.judgement.reasons, "cases": cases}


def run(fn, *, version, form="matrix", dtype="float64", backend="numpy", device=None, scale="half", seed=0,
        examples=20, target_name=None, progress=None, timeout: float | None = 60.0,
        first: runner.Measured | None = None) -> Outcome:
    """Measure ``fn`` on the golden and Hypothesis cases and judge it. Each call has ``timeout`` seconds
    (``None``: no limit); the first call that runs past it ends the run: the cases after it are not called,
    and the verdict is a failure whose first diagnosis says so. ``first``: the first golden case already
    measured (check-impl's look at what the function returns), taken as it is instead of a second call."""
    convert = target.converter(backend, dtype, device)
    cs = cases_mod.golden_cases(form, dtype) + hypothesis_cases(form, version, dtype, examples, seed)
    measured = []
    for i, c in enumerate(cs):
        measured.append(first if first is not None and i == 0 and first.case.id == c.id else
                        runner.measure(fn, c, form=form, version=version, dtype=dtype, backend=backend,
                                       device=device, scale=scale, convert=convert, timeout=timeout))
        if progress:
            progress(c)
        if measured[-1].status == "timeout":
            break
    jd = judge.judge(measured, dtype, version)
    late = [m for m in measured if m.status == "timeout"]
    diag = [f"{late[0].message} on case {late[0].case.id} (n={late[0].case.n}, d={late[0].case.d}); "
            f"{len(cs) - len(measured)} later case(s) were not run"] if late else []
    rest = [m for m in measured if m.status != "timeout"]  # what the cases that returned say on their own
    diag += diagnose.diagnose(rest, judge.judge(rest, dtype, version) if late else jd, form=form, version=version,
                              dtype=dtype, fn=None if late else fn,  # no more calls of a function that hung
                              backend=backend, device=device, timeout=timeout) if rest else []
    meta = {"target": target_name or getattr(fn, "__qualname__", repr(fn)), "version": version, "form": form,
            "dtype": dtype, "backend": backend, "device": device, "scale": scale, "seed": seed,
            "low_precision_arithmetic": dtypes.provider(dtype), "golden_file": "attnreg/verify/data/golden.json",
            "cases_golden": sum(c.source == "golden" for c in cs),
            "cases_hypothesis": sum(c.source != "golden" for c in cs), "cases_run": len(measured),
            "timeout_s": timeout}
    return Outcome(jd.ok, diag, measured, jd, meta)


def count(form, dtype, examples) -> int:
    return len(cases_mod.golden_cases(form, dtype)) + examples
