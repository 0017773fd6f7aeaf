"""The production path on other array libraries: same accuracy, same array type out.

array_api_strict proves that only the array-API standard is used (what makes cupy/jax/torch-CUDA
work by construction); torch CPU checks a real second library. Each runs the float64 measurement of
:mod:`.production_vs_reference` (the 50-digit reference, 2× the error model) on stress and
Hypothesis cases, and every public function must return the library's own arrays.
"""
from __future__ import annotations

import numpy as np

import attnreg

from .. import cases
from ..backends import backend
from ..registry import Result, Status, check
from ..sampling import over_cases
from .production_vs_reference import measure


def _types_preserved(be) -> list[str]:
    rng = np.random.default_rng(0)
    A1, A2, X, V = (be.asarray(rng.standard_normal(shape)) for shape in [(4, 2), (4, 2), (2, 2), (2, 2)])
    B = be.asarray(rng.dirichlet(np.ones(4), size=4))
    A, b, x, v = be.asarray(rng.standard_normal((4, 2))), be.asarray(np.full(4, 0.25)), X[0, :], V[0, :]
    outputs = {
        "hvp": attnreg.hvp(A1, A2, B, X, V, version="rescaled"),
        "hessian": attnreg.hessian(A1, A2, B, X, version="normalized"),
        "log_loss": attnreg.log_loss(A1, A2, B, X, version="rescaled"), "u": attnreg.u(A1, A2, X),
        "alpha": attnreg.alpha(A1, A2, X), "f": attnreg.f(A1, A2, X), "c": attnreg.c(A1, A2, B, X),
        "h": attnreg.h(A1, A2, B, X), "vec": attnreg.vec(X, order="col"),
        "kron matvec": attnreg.kron_operator(A1, A2).matvec(attnreg.vec(X)),
        "vector.hvp": attnreg.vector.hvp(A, b, x, v, version="normalized"),
        "vector.hessian": attnreg.vector.hessian(A, b, x, version="rescaled"),
        "vector.h": attnreg.vector.h(A, b, x), "vector.alpha": attnreg.vector.alpha(A, x),
    }
    return [name for name, out in outputs.items() if not be.is_native(out)]


def _register(xp_name):
    @check(f"prod.backend.{xp_name}", claim=f"on {xp_name} arrays the production path returns {xp_name} arrays and "
           "matches the 50-digit reference within 2× the error model (both versions, matrix and vector form)",
           evidence="confirmed")
    def agree(*, seed):
        be = backend(xp_name)
        if be is None:
            return Result(Status.SKIP, detail=f"{xp_name} is not installed (pip install {xp_name.replace('_', '-')})")
        wrong = _types_preserved(be)
        if wrong:
            return Result.of(False, detail=f"not {xp_name} arrays out of: {', '.join(wrong)}")
        results = []
        for version in attnreg.VERSIONS:
            results.append(over_cases(measure("matrix", version, xp_name), make=cases.make_matrix,
                                      params=cases.parameters(), examples=5, seed=seed,
                                      stress=cases.stress_matrix(version), what=f"matrix {version}"))
            results.append(over_cases(measure("vector", version, xp_name), make=cases.make_vector,
                                      params=cases.parameters(), examples=5, seed=seed,
                                      stress=cases.stress_vector(version), what=f"vector {version}"))
        worst = max(results, key=lambda r: r.measured)
        return Result.of(all(r.status is Status.PASS for r in results), measured=worst.measured, bound=1.0,
                         detail=f"types preserved by 14 functions; worst: {worst.detail}")


for _name in ("array_api_strict", "torch"):
    _register(_name)
