"""attnreg.icl: the shifted target B̃ makes the new problem's residual equal the old one's (checked at
50 digits through attnreg.reference), production agrees with the reference, and the measured shift
stays within our derived bound (and the recalled paper-style one)."""
import math

import array_api_strict
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import attnreg
from attnreg import icl, reference

MOVES = ("weight", "data", "data-both")


def _instance(seed, n=5, d=3, scale=1.0):
    rng = np.random.default_rng(seed)
    A1, A2 = rng.standard_normal((n, d)) * scale, rng.standard_normal((n, d)) * scale
    X = rng.standard_normal((d, d)) * scale
    B = rng.random((n, n))
    B /= np.linalg.norm(B, axis=1, keepdims=True)  # rows in the unit sphere: the rescaled bound applies
    return rng, (A1, A2, B, X)


def _move(kind, rng, A1, A2, X, step=1e-2):
    if kind == "weight":
        return dict(X_new=X + step * rng.standard_normal(X.shape))
    kw = dict(A1_new=A1 + step * rng.standard_normal(A1.shape))
    if kind == "data-both":
        kw["A2_new"] = A2 + step * rng.standard_normal(A2.shape)
    return kw


@pytest.mark.parametrize("version", ["normalized", "rescaled"])
@pytest.mark.parametrize("kind", MOVES)
def test_exact_at_50_digits(version, kind):
    rng, (A1, A2, B, X) = _instance(1)
    kw = _move(kind, rng, A1, A2, X)
    assert reference.icl.exactness(A1, A2, B, X, version=version, dps=50, **kw) <= 1e-45
    # and the residuals really differ before the shift (the check is not vacuous)
    residual = reference.c if version == "normalized" else reference.h
    new = residual(kw.get("A1_new", A1), kw.get("A2_new", A2), B, kw.get("X_new", X))
    old = residual(A1, A2, B, X)
    assert max(abs(new[i, j] - old[i, j]) for i in range(5) for j in range(5)) > 1e-6


@pytest.mark.parametrize("version", ["normalized", "rescaled"])
@pytest.mark.parametrize("kind", MOVES)
def test_production_matches_reference(version, kind):
    rng, (A1, A2, B, X) = _instance(2, scale=2.0)
    kw = _move(kind, rng, A1, A2, X)
    Bt = icl.shifted_target(A1, A2, B, X, version=version, **kw)
    ref = reference.icl.shifted_target(A1, A2, B, X, version=version, dps=30, **kw)
    gold = np.array([[float(ref[i, j]) for j in range(5)] for i in range(5)])
    # B̃ = B + O(1) terms: a few ulps of max(1, |B̃|) per entry
    np.testing.assert_allclose(Bt, gold, rtol=0, atol=64 * np.finfo(float).eps * max(1.0, np.abs(gold).max()))


def test_normalized_shift_is_the_softmax_difference():
    rng, (A1, A2, B, X) = _instance(3)
    Xn = X + 0.1 * rng.standard_normal(X.shape)
    Bt = icl.shifted_target(A1, A2, B, X, version="normalized", X_new=Xn)
    np.testing.assert_allclose(Bt - B, attnreg.f(A1, A2, X) - attnreg.f(A1, A2, Xn), atol=1e-15)


def test_rescaled_rows_stay_finite_at_large_logits():
    rng, (A1, A2, B, X) = _instance(4, scale=6.0)  # logits of several hundred: exp overflows unscaled
    assert np.abs(A1 @ X @ A2.T).max() > 710
    Bt = icl.shifted_target(A1, A2, B, X, version="rescaled", X_new=X * (1 + 1e-6))
    assert np.all(np.isfinite(Bt))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), version=st.sampled_from(["normalized", "rescaled"]),
       kind=st.sampled_from(MOVES), scale=st.floats(0.2, 1.5))
@example(seed=0, version="rescaled", kind="weight", scale=1.0)  # rows of norm 1 + 1 ulp once gave a nan bound
def test_measured_shift_within_derived_bound(seed, version, kind, scale):
    rng, (A1, A2, B, X) = _instance(seed, scale=scale)
    s = icl.shift(A1, A2, B, X, version=version, **_move(kind, rng, A1, A2, X))
    assert s.measured <= s.derived_bound * (1 + 1e-12)
    assert s.measured <= s.paper_bound or math.isinf(s.paper_bound)
    assert s.logit_step <= s.R * s.step * (1 + 1e-9)


def test_kronecker_step_norm_matches_dense():
    rng, (A1, A2, B, X) = _instance(5)
    A1n, A2n = A1 + 0.1 * rng.standard_normal(A1.shape), A2 + 0.1 * rng.standard_normal(A2.shape)
    s = icl.shift(A1, A2, B, X, version="normalized", A1_new=A1n, A2_new=A2n)
    assert s.step == pytest.approx(np.linalg.norm(np.kron(A1n, A2n) - np.kron(A1, A2), 2), rel=1e-10)


def test_array_api_generic():
    rng, (A1, A2, B, X) = _instance(6)
    Xn = X + 0.01 * rng.standard_normal(X.shape)
    xp = array_api_strict
    for version in ("normalized", "rescaled"):
        got = icl.shifted_target(*(xp.asarray(a) for a in (A1, A2, B, X)), version=version, X_new=xp.asarray(Xn))
        assert type(got).__module__.startswith("array_api_strict")
        np.testing.assert_allclose(np.asarray(got), icl.shifted_target(A1, A2, B, X, version=version, X_new=Xn),
                                   rtol=1e-14, atol=1e-15)
        s = icl.shift(*(xp.asarray(a) for a in (A1, A2, B, X)), version=version, X_new=xp.asarray(Xn))
        assert s.measured > 0


@pytest.mark.parametrize("kw,message", [
    (dict(), "give a data shift"),
    (dict(X_new="X", A1_new="A1"), "not both"),
    (dict(X_new="bad"), "X_new must have shape"),
])
def test_argument_errors(kw, message):
    _, (A1, A2, B, X) = _instance(7)
    table = dict(X=X, A1=A1, bad=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=message):
        icl.shifted_target(A1, A2, B, X, version="normalized", **{k: table[v] for k, v in kw.items()})


def _run(name):
    from attnreg.verify import catalogue, registry

    (check,) = [c for c in catalogue.select(name) if c.name == name]
    return registry.run(check, seed=0)


def test_registry_checks_pass_and_can_fail(monkeypatch):
    from attnreg.verify import registry

    assert _run("icl.exact.rescaled.data").status is registry.Status.PASS
    assert _run("icl.bound.normalized.weight").status is registry.Status.PASS
    real = reference.icl.shifted_target

    def off_by_1e_30(*args, **kw):  # a B̃ wrong in the 30th digit must fail the 50-digit check
        M = real(*args, **kw)
        M[0, 0] += M[0, 0] * reference.make_context(60).mpf("1e-30")
        return M

    monkeypatch.setattr(reference.icl, "shifted_target", off_by_1e_30)
    assert _run("icl.exact.rescaled.data").status is registry.Status.FAIL
    monkeypatch.setattr(reference.icl, "shifted_target", real)
    prod = icl.shifted_target
    monkeypatch.setattr(icl, "shifted_target", lambda *a, **k: prod(*a, **k) * (1 + 1e-12))
    assert _run("icl.bound.normalized.weight").status is registry.Status.FAIL


def test_the_data_step_is_the_kronecker_difference_norm_even_when_ones_miss_the_top_vector():
    """The old power iteration started from the all-ones matrix, orthogonal here to the top singular vector,
    and reported 1.0 for a step of 2.0."""
    Q = np.array([[1.0, 1.0], [-1.0, 1.0]]) / np.sqrt(2)
    A1, A2 = np.eye(2), np.eye(2)
    A1n = A1 + np.diag([2.0, 1.0]) @ Q.T
    s = icl.shift(A1, A2, np.full((2, 2), 0.5), np.zeros((2, 2)), version="normalized", A1_new=A1n)
    assert abs(s.step - np.linalg.norm(np.kron(A1n, A2) - np.kron(A1, A2), 2)) <= 1e-12 * 2
    rng = np.random.default_rng(3)
    A1, A2, A1n, A2n = (rng.standard_normal((5, 3)) for _ in range(4))
    s = icl.shift(A1, A2, np.full((5, 5), 0.2), np.zeros((3, 3)), version="rescaled", A1_new=A1n, A2_new=A2n)
    assert abs(s.step - np.linalg.norm(np.kron(A1n, A2n) - np.kron(A1, A2), 2)) <= 1e-12 * s.step


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-200])
def test_the_rescaled_derived_constant_against_mpmath(scale):
    """``((1 + β√n)/n)·e^{2R²}·R`` with ``β = max_j ||b_j||₂`` computed at 50 digits: the unscaled
    ``sqrt(max Σ B²)`` gave β = inf for entries 1e200 (squares overflow; 0 for 1e-200, harmless: β√n ≪ 1)."""
    import mpmath

    rng = np.random.default_rng(3)
    n, d = 5, 2
    A1, A2 = rng.standard_normal((n, d)) / 2, rng.standard_normal((n, d)) / 2
    X, B = rng.standard_normal((d, d)) / 2, rng.dirichlet(np.ones(n), size=n) * scale
    s = icl.shift(A1, A2, B, X, version="rescaled", X_new=X + 0.01)
    with mpmath.workdps(50):
        beta = max(mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(v)) ** 2 for v in row)) for row in B)
        want = (1 + beta * mpmath.sqrt(n)) / n * mpmath.exp(2 * mpmath.mpf(s.R) ** 2) * s.R
        assert abs(mpmath.mpf(s.derived_constant) - want) <= 1e-14 * want
