"""The search's Jacobians (verify/claims/jacobian.py) against central differences of the production values,
and the spectral-input operator norm against its closed forms."""
import itertools

import numpy as np
import pytest

from attnreg.reference import measure
from attnreg.verify.claims import jacobian
from attnreg.verify.claims.claimfile import from_table

CASES = [(form, q, wrt, version)
         for form, wrts in (("vector", ("x", "A")), ("matrix", ("X", "A1", "A2")))
         for q, wrt, version in itertools.product(("u", "alpha", "f", "c", "h", "loss", "grad"), wrts,
                                                  ("normalized", "rescaled"))
         if version == "normalized" or q in ("loss", "grad")]


def _claim(form, q, wrt, version, loss_scale="half"):
    return from_table(dict(id="t", provenance="derived", form=form, quantity=q, kind="lipschitz", wrt=wrt,
                           version=version, constant="1", loss_scale=loss_scale))


def _vars(form, rng, n=4, d=3):
    if form == "vector":
        return dict(A=rng.standard_normal((n, d)) * 0.5, x=rng.standard_normal(d) * 0.5, b=rng.standard_normal(n) * 0.4)
    return dict(A1=rng.standard_normal((n, d)) * 0.5, A2=rng.standard_normal((n, d)) * 0.5,
                X=rng.standard_normal((d, d)) * 0.5, B=rng.standard_normal((n, n)) * 0.4)


@pytest.mark.parametrize("form,q,wrt,version", CASES)
def test_jacobian_matches_central_differences(form, q, wrt, version):
    rng = np.random.default_rng(7)
    claim = _claim(form, q, wrt, version, loss_scale="full" if q == "loss" else "half")
    v = _vars(form, rng)
    J = jacobian.jacobian(claim, v)
    p = v[wrt]
    h = 1e-6
    cols = []
    for i in range(p.size):
        e = np.zeros(p.size)
        e[i] = h
        plus, minus = dict(v), dict(v)
        plus[wrt] = p + e.reshape(p.shape)
        minus[wrt] = p - e.reshape(p.shape)
        cols.append((np.ravel(measure.value(claim, plus)) - np.ravel(measure.value(claim, minus))) / (2 * h))
    fd = np.stack(cols, axis=1)
    assert J.shape == fd.shape
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8 * max(1.0, np.abs(fd).max()))


def test_opnorm_spectral_input_rank_one_map():
    # J vec(V) = <G, V> (one output): the sup over ||V||_2 <= 1 is the nuclear norm of G.
    rng = np.random.default_rng(1)
    G = rng.standard_normal((5, 3))
    val, v = jacobian.opnorm(G.reshape(1, -1), (5, 3), rng=rng)
    assert val == pytest.approx(np.linalg.norm(G, "nuc"), rel=1e-12)
    assert np.linalg.norm(v.reshape(5, 3), 2) == pytest.approx(1.0, rel=1e-12)


def test_opnorm_spectral_input_between_l2_bounds():
    # ||J||_{2->2} <= sup_{||V||_2<=1} ||J vec V|| <= sqrt(rank) ||J||_{2->2}
    rng = np.random.default_rng(2)
    J = rng.standard_normal((7, 12))
    val, v = jacobian.opnorm(J, (4, 3), rng=rng)
    s = np.linalg.norm(J, 2)
    assert s * (1 - 1e-12) <= val <= np.sqrt(3) * s
    assert np.linalg.norm(J @ v) == pytest.approx(val)


@pytest.mark.parametrize("q", ["u", "alpha", "f", "c", "h", "loss"])
@pytest.mark.parametrize("norm", ["spectral", "fro"])
def test_vector_data_opnorm_matches_dense_route(q, norm):
    rng = np.random.default_rng(3)
    claim = from_table(dict(id="t", provenance="derived", form="vector", quantity=q, kind="lipschitz", wrt="A",
                            wrt_norm=norm, version="rescaled", constant="1"))
    v = _vars("vector", rng, n=5, d=3)
    fast, direction = jacobian.vector_data_opnorm(claim, v)
    dense, _ = jacobian.opnorm(jacobian.jacobian(claim, v), (5, 3) if norm == "spectral" else None, rng=rng,
                               iterations=200, starts=4)
    assert fast == pytest.approx(dense, rel=1e-9)
    assert np.linalg.norm(jacobian.jacobian(claim, v) @ direction) == pytest.approx(fast, rel=1e-12)
