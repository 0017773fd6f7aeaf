"""The fused row kernels (``attnreg/_fused.py``, numba) against the 50-digit reference, within the error model.

The fast path sends float64 NumPy rows of at least ``MIN_N`` (256) entries to these kernels where numba is
installed, so the sampled cases of :mod:`.production_vs_reference` (n ≤ 8) never reach them. Here the same
measurement runs with ``MIN_N = 1`` (every row through the fused kernels) on its stress cases, its sampled
cases, and rows of realistic length (n = 256 and 300, the threshold and past it: logits up to 80 and 700,
simplex, one-hot, realisable and real targets). Skipped where numba is not installed.
"""
from __future__ import annotations

import contextlib

import attnreg
from attnreg import _fused

from .. import cases
from ..registry import Result, Status, check
from ..sampling import over_cases
from .production_vs_reference import measure

LONG = [(256, 2, 80.0, "simplex", 1), (256, 3, 4.0, "onehot", 2), (300, 2, 700.0, "realisable", 3),
        (300, 1, 20.0, "real", 4)]


@contextlib.contextmanager
def every_row_fused():
    before = _fused.ENABLED, _fused.MIN_N
    _fused.ENABLED, _fused.MIN_N = True, 1
    try:
        yield
    finally:
        _fused.ENABLED, _fused.MIN_N = before


def _register(version):
    @check(f"prod.matrix.{version}.fused_vs_reference", evidence="confirmed",
           claim=f"float64 {version} matrix loss and gradient through the fused row kernels agree with the 50-digit "
                 "reference within 2× the a-priori forward-error bound, entry by entry (rows of 1 to 300 entries)")
    def run(*, seed):
        if not _fused.available():
            return Result(Status.SKIP, detail='numba is not installed (pip install "attnreg[fast]")')
        stress = cases.stress_matrix(version) + [cases.make_matrix(*p) for p in LONG]
        with every_row_fused():
            return over_cases(measure("matrix", version), make=cases.make_matrix, params=cases.parameters(),
                              examples=12, seed=seed, stress=stress,
                              what="attnreg.loss_and_grad (fused row kernels) vs reference.loss_and_grad(dps=50)")


for _version in attnreg.VERSIONS:
    _register(_version)
