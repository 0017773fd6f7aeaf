"""Cases of a conformance run: golden ones (from the shipped file) and Hypothesis-generated ones.

A case holds exact float64 inputs (exactly representable in the run's dtype) and, per version, the
gold loss and gradient as double-double pairs ``hi + lo`` (so an error near float64's own rounding is
measured, not swamped by rounding the gold). Gold of generated cases comes from the public reference
at ``40 + 2·max|S|/ln 10`` digits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath
import numpy as np

from attnreg import reference

from . import dtypes, golden


@dataclass
class Gold:
    loss: tuple  # (hi, lo) floats
    grad: tuple  # (hi, lo) float64 arrays


@dataclass
class Case:
    id: str
    form: str
    n: int
    d: int
    max_logit: float  # the largest logit (signed)
    args: tuple  # exact float64 arrays in call order
    source: str  # "golden" | "hypothesis"
    note: str = ""
    gold: dict = field(default_factory=dict)  # version -> Gold


def _dd(v):
    hi = float(v)
    lo = float(mpmath.mpf(v) - hi) if math.isfinite(hi) else 0.0
    return hi, lo


def _dd_array(values, shape):
    pairs = [_dd(v) for v in values]
    return (np.array([p[0] for p in pairs]).reshape(shape), np.array([p[1] for p in pairs]).reshape(shape))


def _parse(text):
    return mpmath.mpf(text) if text != "0" else mpmath.mpf(0)


def golden_cases(form: str, dtype: str) -> list[Case]:
    """Shipped cases of ``form`` whose inputs are exact in ``dtype``."""
    ctx = mpmath.MPContext()
    ctx.dps = 50
    out = []
    for c in golden.load()["cases"]:
        if c["form"] != form:
            continue
        arr = golden.arrays(c)
        args = tuple(arr[k] for k in (("A1", "A2", "B", "X") if form == "matrix" else ("A", "b", "x")))
        if not all(dtypes.exact_in(a, dtype) for a in args):
            continue
        case = Case(c["id"], form, c["n"], c["d"], float(c["max_logit"]), args, "golden", c["note"])
        for version, g in c["gold"].items():
            flat = [ctx.mpf(v) for v in np.ravel(np.array(g["grad"], dtype=object))]
            case.gold[version] = Gold(_dd(ctx.mpf(g["loss"])), _dd_array(flat, np.shape(g["grad"])))
        out.append(case)
    return out


def from_problem(idx: int, p) -> Case:
    """A generated case (``attnreg.testing.strategies.Problem``) without gold yet."""
    args = tuple(np.asarray(a).astype(np.float64) for a in p.args)
    S = args[0] @ args[3] @ args[1].T if p.form == "matrix" else (args[0] @ args[2])[None, :]
    return Case(f"hyp-{idx}", p.form, p.n, p.d, float(S.max()), args, "hypothesis",
                f"B={p.b_kind} max|S|≈{p.logit_scale:g}")


def ensure_gold(case: Case, version: str) -> Gold:
    if version in case.gold:
        return case.gold[version]
    S = case.args[0] @ case.args[3] @ case.args[1].T if case.form == "matrix" else case.args[0] @ case.args[2]
    dps = 40 + int(math.ceil(2 * float(np.abs(S).max()) / math.log(10))) + 10
    if case.form == "matrix":
        L, G = reference.loss_and_grad(*case.args, version=version, dps=dps)
        flat, shape = [G[i, k] for i in range(case.d) for k in range(case.d)], (case.d, case.d)
    else:
        L, G = reference.vector.loss_and_grad(*case.args, version=version, dps=dps)
        flat, shape = [G[i] for i in range(case.d)], (case.d,)
    case.gold[version] = Gold(_dd(L), _dd_array(flat, shape))
    return case.gold[version]
