"""Reference path: exact inputs, digits actually delivered, local contexts, an independent oracle."""
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attnreg
from attnreg import reference
from attnreg.verify import cases


def oracle_loss(A1, A2, B, X, version, dps=60):
    """An independent, straightforward 60-digit oracle written with mpmath.matrix arithmetic."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    M = lambda a: ctx.matrix(np.asarray(a, dtype=float).tolist())  # noqa: E731
    S = M(A1) * M(X) * M(A2).T
    n = S.rows
    total = ctx.zero
    for j in range(n):
        u = [ctx.exp(S[j, k]) for k in range(n)]
        a = ctx.fsum(u)
        if version == "normalized":
            r = [u[k] / a - B[j][k] for k in range(n)]
        else:
            r = [u[k] - a * B[j][k] for k in range(n)]
        total += ctx.fsum(v * v for v in r)
    return total / 2


def digits(a, b):
    diff = abs(mpmath.mpf(a) - mpmath.mpf(b))
    return mpmath.inf if diff == 0 else -mpmath.log10(diff / abs(mpmath.mpf(b)))


@settings(max_examples=15)
@given(params=cases.parameters(max_n=6, max_d=3, scales=(0.5, 4.0, 30.0)), version=st.sampled_from(attnreg.VERSIONS))
def test_45_digits_at_dps_50_against_an_independent_oracle(params, version):
    case = cases.make_matrix(**params)
    with mpmath.workdps(70):  # comparison arithmetic only; library code never touches mpmath.mp
        got = reference.loss(*case.arrays, version=version, dps=50)
        assert digits(got, oracle_loss(*case.arrays, version, 90)) >= 45


def test_cancellation_at_a_realisable_point_is_handled():
    """B = F(X) rounded to float64: the loss is ~1e-33, made of terms ~1e-17; dps=50 must still give 50 digits."""
    case = cases.make_matrix(6, 2, 3.0, "realisable", 11)
    L50 = reference.loss(*case.arrays, version="normalized", dps=50)
    with mpmath.workdps(120):
        exact = oracle_loss(*case.arrays, "normalized", dps=200)
        assert 0 < exact < 1e-28 and digits(L50, exact) >= 48


def test_exactly_zero_values_terminate():
    A = np.array([[1.0, 2.0]])  # n = 1: the softmax is 1, b = 1 fits exactly
    assert reference.vector.loss(A, np.array([1.0]), np.array([0.3, -0.1]), version="normalized") == 0
    assert reference.vector.grad(A, np.array([1.0]), np.array([0.3, -0.1]), version="normalized")[0] == 0


def test_float_inputs_are_exact_and_strings_are_decimal():
    A = [[1.0]]
    x_float, x_str = reference.vector.u(A, [0.1]), reference.vector.u(A, ["0.1"])
    with mpmath.workdps(60):
        assert abs(x_float[0] - mpmath.exp(mpmath.mpf(0.1))) < mpmath.mpf(10) ** -49
        assert abs(x_str[0] - mpmath.exp(mpmath.mpf("0.1"))) < mpmath.mpf(10) ** -49
        assert abs(x_float[0] - x_str[0]) > mpmath.mpf(10) ** -20  # 0.1 as a double is not 1/10
    assert reference.vector.u(A, [Fraction(1, 10)])[0] == x_str[0]


def test_results_live_in_a_local_context_at_the_requested_precision():
    L = reference.loss(*cases.make_matrix(3, 2, 1.0, "simplex", 1).arrays, version="rescaled", dps=40)
    assert L.context is not mpmath.mp and L.context.dps == 40


def test_inputs_from_other_libraries():
    torch = pytest.importorskip("torch")
    case = cases.make_matrix(3, 2, 1.0, "simplex", 2)
    a = reference.grad(*case.arrays, version="normalized", dps=30)
    b = reference.grad(*(torch.asarray(x) for x in case.arrays), version="normalized", dps=30)
    assert a == b


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_reference_and_production_tell_the_same_story(version):
    case = cases.make_matrix(5, 2, 3.0, "simplex", 3)
    for name in ("u", "alpha", "f"):
        ref = np.array(getattr(reference, name)(*case.arrays, dps=30).tolist(), dtype=float)
        assert np.allclose(ref.reshape(-1), np.ravel(getattr(attnreg, name)(*case.arrays)), rtol=1e-13)
    for name in ("c", "h"):
        ref = np.array(getattr(reference, name)(*case.arrays, dps=30).tolist(), dtype=float)
        assert np.allclose(ref, getattr(attnreg, name)(*case.arrays), rtol=1e-12, atol=1e-15)
    H = np.array(reference.hessian(*case.arrays, version=version, dps=30).tolist(), dtype=float)
    assert np.allclose(H, attnreg.hessian(*case.arrays, version=version), rtol=1e-11, atol=1e-14 * np.abs(H).max())
