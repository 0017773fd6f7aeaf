"""Conformance checks for other projects' test suites.

``assert_conforms(fn, version=...)`` runs what ``attnreg check-impl`` runs — the shipped golden cases
plus Hypothesis-generated ones, the ratio rule against a straightforward same-dtype implementation,
the diagnosis — and raises ``AssertionError`` whose message is the diagnosis. Strategies for
property-based tests are in :mod:`attnreg.testing.strategies`.

>>> import numpy as np
>>> def my_loss(A1, A2, B, X):          # computes in float32 inside: a bug at float64
...     S = (A1 @ X @ A2.T).astype(np.float32)
...     F = np.exp(S - S.max(axis=1, keepdims=True)); F /= F.sum(axis=1, keepdims=True)
...     return 0.5 * float(np.sum((F - B) ** 2))
>>> try:
...     assert_conforms(my_loss, version="normalized", examples=5)
... except AssertionError as exc:
...     print("float32 inside" in str(exc))
True
"""
from __future__ import annotations

from attnreg.verify.conformance import check

from . import strategies
from .strategies import Problem, problems

__all__ = ["assert_conforms", "problems", "Problem", "strategies"]


def assert_conforms(fn, *, version, form="matrix", dtype="float64", backend="numpy", scale="half", device=None,
                    seed=0, examples=20):
    """Raise ``AssertionError`` (message: the diagnosis and the failing cases) unless ``fn`` conforms.

    ``fn(A1, A2, B, X)`` (or ``fn(A, b, x)`` with ``form="vector"``) returns the loss or ``(loss, grad)``;
    inputs arrive as ``backend`` arrays of ``dtype``. ``scale="full"``: ``fn`` computes the papers'
    objective without ½. Returns the run's JSON summary when it passes.
    """
    out = check.run(fn, version=version, form=form, dtype=dtype, backend=backend, device=device, scale=scale,
                    seed=seed, examples=examples)
    if not out.ok:
        failing = [f"{m.case.id}: {'; '.join(v.reasons)}" for m, v in zip(out.measured, out.judgement.cases)
                   if not v.ok][:3]
        head = f"does not conform to attnreg's {version} loss ({form}, {dtype}, {backend}):"
        raise AssertionError("\n".join([head,
                                        *(f"  diagnosis: {d}" for d in out.diagnosis), *(f"  {f}" for f in failing)]))
    return out.to_json()
