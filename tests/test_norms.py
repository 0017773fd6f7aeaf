"""The norms' one home (attnreg/_norms.py) and its mpmath twins (reference/norms.py), at the edges.

Expected values come from closed forms (a scaled vector's norm, diagonal matrices' singular values) or from
the other implementation at 50 digits, never from the function under test."""
from __future__ import annotations

import math

import numpy as np
import pytest

from attnreg import reference
from attnreg._norms import l2, power_iteration, spectral
from attnreg.reference import norms


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1.0, 1e160, 1e300])
def test_l2_neither_underflows_nor_overflows(scale):
    a = np.array([[3.0, 4.0], [0.0, 12.0]]) * scale  # ||a||_F = 13·scale exactly
    assert l2(a, xp=np) == pytest.approx(13 * scale, rel=4 * np.finfo(float).eps)


def test_l2_and_spectral_of_empty_zero_and_non_finite():
    assert l2(np.zeros((0, 3)), xp=np) == 0.0 and spectral(np.zeros((0, 3)), xp=np) == 0.0
    assert l2(np.zeros(4), xp=np) == 0.0
    assert l2(np.array([1.0, np.inf]), xp=np) == math.inf
    assert math.isnan(l2(np.array([1.0, np.nan]), xp=np))
    # like l2: inf for an inf entry, nan for a nan entry (they were nan and LinAlgError "SVD did not converge")
    assert spectral(np.array([[np.inf, 1.0], [1.0, 1.0]]), xp=np) == math.inf
    assert math.isnan(spectral(np.array([[np.nan, 1.0], [1.0, 1.0]]), xp=np))
    assert math.isnan(spectral(np.array([[np.nan, np.inf], [1.0, 1.0]]), xp=np))


def test_spectral_is_the_largest_singular_value():
    U, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 5)))
    V, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    M = U[:, :3] @ np.diag([7.0, 2.0, 1e-3]) @ V.T
    assert spectral(M, xp=np) == pytest.approx(7.0, rel=1e-14)


def test_power_iteration_finds_sigma1_and_stops_at_zero():
    J = np.diag([3.0, 1.0, 0.5])
    lam, v = power_iteration(lambda v: J.T @ (J @ v), np.ones(3) / np.sqrt(3), xp=np, iterations=200, rtol=1e-15)
    assert math.sqrt(lam) == pytest.approx(3.0, rel=1e-12) and abs(v[0]) == pytest.approx(1.0, rel=1e-12)
    lam, _ = power_iteration(lambda v: 0 * v, np.ones(3) / np.sqrt(3), xp=np, iterations=5)
    assert lam == 0.0


def test_power_iteration_is_a_lower_estimate_when_cut_short():
    J = np.random.default_rng(2).standard_normal((6, 4))
    for k in (1, 2, 5):
        lam, _ = power_iteration(lambda v: J.T @ (J @ v), np.ones(4) / 2, xp=np, iterations=k)
        assert math.sqrt(lam) <= np.linalg.norm(J, 2) * (1 + 1e-14)


def test_mpmath_twins_agree_with_float64_and_take_any_container():
    ctx = reference.make_context(50)
    M = np.random.default_rng(3).standard_normal((4, 3))
    s = norms.spectral(ctx, M)
    assert norms.spectral(ctx, M.tolist()) == s == norms.spectral(ctx, ctx.matrix(M.tolist()))
    assert float(s) == pytest.approx(spectral(M, xp=np), rel=1e-14)
    assert float(norms.l2(ctx, M)) == pytest.approx(l2(M, xp=np), rel=1e-15)
    assert norms.l2(ctx, [[3, 4], [12]]) == 13 and norms.spectral(ctx, []) == 0
    assert norms.spectral(ctx, [[ctx.mpf(2), 0], [0, ctx.mpf(-5)]]) == 5
