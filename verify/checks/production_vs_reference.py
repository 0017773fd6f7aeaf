"""Production float64 losses and gradients against the 50-digit reference, within the error model.

For each case the production value must lie within ``2 ×`` the a-priori forward-error bound of
:mod:`verify.errormodel` (tolerance ``vs_reference``), entry by entry; where the true value exceeds
float64's range the production value must be ``±inf`` (never nan), and it must be finite wherever
the true value is representable (DESIGN §5).
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

FMAX = float(np.finfo(np.float64).max)


def _ratio(value, exact, bound) -> float:
    """error / (factor·bound) for one entry; representability rules for entries beyond float64."""
    if abs(exact) > FMAX:
        return 0.0 if math.isinf(value) and (value > 0) == (exact > 0) else math.inf
    if not math.isfinite(value):
        return math.inf
    err = float(abs(exact - value))
    return err / (tol("vs_reference").factor * bound) if err else 0.0


def _worst(values, exacts, bounds):
    ratios = [_ratio(v, e, b) for v, e, b in zip(values, exacts, bounds)]
    return max(ratios), max(float(abs(e - v)) if math.isfinite(v) else math.inf for v, e in zip(values, exacts))


def measure_matrix(version, xp_name="numpy"):
    be = backend(xp_name)

    def measure(case):
        L_ref, G_ref = reference.loss_and_grad(*case.arrays, version=version, dps=50)
        L, G = attnreg.loss_and_grad(*(be.asarray(a) for a in case.arrays), version=version)
        if not (be.is_native(L) and be.is_native(G)):
            return math.inf, f"{xp_name} arrays in gave {type(G).__name__} out"
        bound = errormodel.matrix_bounds(*case.arrays, version)
        dL = bound.loss
        rL, eL = _worst([float(be.to_numpy(L))], [L_ref], [dL])
        rG, eG = _worst(be.to_numpy(G).ravel().tolist(), list(G_ref), bound.grad.ravel().tolist())
        return max(rL, rG), f"|δL| {eL:.2g} (bound {dL:.2g}), max |δ∇L| {eG:.2g}"

    return measure


def measure_vector(version, xp_name="numpy"):
    be = backend(xp_name)

    def measure(case):
        L_ref, g_ref = reference.vector.loss_and_grad(*case.arrays, version=version, dps=50)
        L, g = attnreg.vector.loss_and_grad(*(be.asarray(a) for a in case.arrays), version=version)
        if not (be.is_native(L) and be.is_native(g)):
            return math.inf, f"{xp_name} arrays in gave {type(g).__name__} out"
        bound = errormodel.vector_bounds(*case.arrays, version)
        dL = bound.loss
        rL, eL = _worst([float(be.to_numpy(L))], [L_ref], [dL])
        rg, eg = _worst(be.to_numpy(g).tolist(), list(g_ref), bound.grad.tolist())
        return max(rL, rg), f"|δL| {eL:.2g} (bound {dL:.2g}), max |δ∇L| {eg:.2g}"

    return measure


def _register(version):
    @check(f"prod.matrix.{version}.vs_reference",
           claim=f"float64 {version} matrix loss and gradient agree with the 50-digit reference within 2× the "
                 "a-priori forward-error bound, entry by entry, and are finite wherever the true value is",
           evidence="confirmed")
    def matrix(*, seed):
        return over_cases(measure_matrix(version), make=cases.make_matrix, params=cases.parameters(),
                          examples=12, seed=seed, stress=cases.stress_matrix(version),
                          what="attnreg.loss_and_grad vs reference.loss_and_grad(dps=50)")

    @check(f"prod.vector.{version}.vs_reference",
           claim=f"float64 {version} vector loss and gradient agree with the 50-digit reference within 2× the "
                 "a-priori forward-error bound, entry by entry",
           evidence="confirmed")
    def vector(*, seed):
        return over_cases(measure_vector(version), make=cases.make_vector, params=cases.parameters(max_n=12),
                          examples=12, seed=seed, stress=cases.stress_vector(version),
                          what="attnreg.vector.loss_and_grad vs reference.vector.loss_and_grad(dps=50)")

    @check(f"prod.matrix.{version}.vs_reference.many", tier="slow",
           claim=f"as prod.matrix.{version}.vs_reference, on 200 cases up to n = 24, d = 5",
           evidence="confirmed")
    def many(*, seed):
        return over_cases(measure_matrix(version), make=cases.make_matrix,
                          params=cases.parameters(max_n=24, max_d=5, scales=(0.1, 1.0, 4.0, 20.0, 80.0, 300.0)),
                          examples=200, seed=seed, what="attnreg.loss_and_grad vs reference.loss_and_grad(dps=50)")


for _version in attnreg.VERSIONS:
    _register(_version)
