"""Production float64 losses and gradients against the 50-digit reference, within the error model.

For each case the production value must lie within ``2 ×`` the a-priori forward-error bound of
:mod:`verify.errormodel` (tolerance ``vs_reference``), entry by entry; where the true value exceeds
the dtype's range the production value must be ``±inf`` (never nan), and it must be finite wherever
the true value is representable (docs/design.md §5). The same measurement runs on other array libraries
(:mod:`.backends_agree`) and in float32.
"""
from __future__ import annotations

import math

import numpy as np

import attnreg
from attnreg import reference

from .. import cases, errormodel
from ..backends import backend
from ..registry import check
from ..sampling import over_cases
from ..tolerances import tol

def _ratio(value, exact, bound, fmax) -> float:
    """error / (factor·bound) for one entry; representability rules for entries beyond the dtype."""
    if abs(exact) > fmax:
        return 0.0 if math.isinf(value) and (value > 0) == (exact > 0) else math.inf
    if not (math.isfinite(value) and math.isfinite(bound)):  # a bound beyond float64 cannot judge: fail
        return math.inf
    err = float(abs(exact - value))
    return err / (tol("vs_reference").factor * bound) if err else 0.0


def _worst(values, exacts, bounds, fmax):
    ratios = [_ratio(v, e, b, fmax) for v, e, b in zip(values, exacts, bounds)]
    worst = max(ratios, key=lambda r: math.inf if math.isnan(r) else r)
    return worst, max(float(abs(e - v)) if math.isfinite(v) else math.inf for v, e in zip(values, exacts))


def measure(form, version, xp_name="numpy", dtype="float64"):
    """``measure(case) -> (error/tolerance, note)`` for the production path on ``xp_name`` in ``dtype``.

    The case's arrays are first rounded to ``dtype``; those rounded values are the exact inputs of
    the reference, and the error model uses the unit roundoff of ``dtype``.
    """
    be = backend(xp_name)
    fmax = float(np.finfo(dtype).max)
    prod = attnreg.loss_and_grad if form == "matrix" else attnreg.vector.loss_and_grad
    ref = reference.loss_and_grad if form == "matrix" else reference.vector.loss_and_grad
    bounds = errormodel.matrix_bounds if form == "matrix" else errormodel.vector_bounds

    def run(case):
        arrays = [np.asarray(a, dtype=dtype).astype(np.float64) for a in case.arrays]
        L_ref, G_ref = ref(*arrays, version=version, dps=50)
        L, G = prod(*(be.asarray(a.astype(dtype)) for a in arrays), version=version)
        if not (be.is_native(L) and be.is_native(G)):
            return math.inf, f"{xp_name} arrays in gave {type(G).__name__} out"
        bound = bounds(*arrays, version, dtype=dtype)
        rL, eL = _worst([float(be.to_numpy(L))], [L_ref], [bound.loss], fmax)
        G64 = be.to_numpy(G).astype(np.float64).ravel().tolist()
        rG, eG = _worst(G64, list(G_ref), bound.grad.ravel().tolist(), fmax)
        return max(rL, rG), f"|δL| {eL:.2g} (bound {bound.loss:.2g}), max |δ∇L| {eG:.2g}"

    return run


def _register(name, form, version, *, claim, examples, params, dtype="float64", stress=True, tier="quick"):
    """Register ``name``: the worst ratio of :func:`measure` over the stress cases and sampled inputs."""
    make, stress_cases = ((cases.make_matrix, cases.stress_matrix) if form == "matrix" else
                          (cases.make_vector, cases.stress_vector))
    prefix = "" if form == "matrix" else "vector."
    what = (f"attnreg.{prefix}loss_and_grad{' on float32 arrays' if dtype == 'float32' else ''} vs "
            f"reference.{prefix}loss_and_grad(dps=50)")

    @check(name, claim=claim, evidence="confirmed", tier=tier)
    def run(*, seed):
        return over_cases(measure(form, version, dtype=dtype), make=make, params=params, examples=examples,
                          seed=seed, stress=stress_cases(version) if stress else (), what=what)


for _version in attnreg.VERSIONS:
    _register(f"prod.matrix.{_version}.vs_reference", "matrix", _version, examples=12, params=cases.parameters(),
              claim=f"float64 {_version} matrix loss and gradient agree with the 50-digit reference within 2× the "
                    "a-priori forward-error bound, entry by entry, and are finite wherever the true value is")
    _register(f"prod.vector.{_version}.vs_reference", "vector", _version, examples=12,
              params=cases.parameters(max_n=12),
              claim=f"float64 {_version} vector loss and gradient agree with the 50-digit reference within 2× the "
                    "a-priori forward-error bound, entry by entry")
    _register(f"prod.matrix.{_version}.float32_vs_reference", "matrix", _version, examples=8, dtype="float32",
              params=cases.parameters(),
              claim=f"float32 {_version} matrix loss and gradient agree with the 50-digit reference (on the float32 "
                    "inputs) within 2× the error model at u = 2^-24, with inf exactly where float32 overflows")
    _register(f"prod.matrix.{_version}.vs_reference.many", "matrix", _version, examples=200, stress=False,
              tier="slow", params=cases.parameters(max_n=24, max_d=5, scales=(0.1, 1.0, 4.0, 20.0, 80.0, 300.0)),
              claim=f"as prod.matrix.{_version}.vs_reference, on 200 cases up to n = 24, d = 5")
