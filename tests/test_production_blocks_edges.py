"""Building blocks (u, alpha, log_alpha, f, c, h) and attnreg.icl at the edges, against mpmath from the
definitions (tests/mp_oracle.py): finite and accurate wherever the true value is representable."""
import numpy as np
import pytest

import attnreg
import mp_oracle as mo
from attnreg.verify import edges


def test_h_of_a_row_past_overflow():
    assert attnreg.vector.h(np.array([[800.0], [0.0]]), np.array([1.0, 0.0]), np.array([1.0])).tolist() == [-1.0, 1.0]
    H = attnreg.h(np.array([[800.0], [0.0]]), np.array([[1.0], [0.0]]), np.array([[1.0, 0.0], [0.5, 0.5]]),
                  np.array([[1.0]]))
    assert H.tolist() == [[-1.0, 1.0], [0.0, 0.0]]


def _entrywise(value, exact, ctx, dtype=np.float64):
    """Entrywise relative error for entries inside the dtype's normal range; representable entries are finite."""
    info = np.finfo(dtype)
    worst = 0.0
    for v, e in zip(np.asarray(value, dtype=float).ravel().tolist(), mo.flat(exact)):
        if abs(e) > float(info.max) or (e != 0 and abs(e) < float(info.smallest_normal)):
            continue
        assert np.isfinite(v), (v, e)
        worst = max(worst, 0.0 if e == 0 and v == 0 else float(abs(ctx.mpf(v) - e) / abs(e)) if e != 0 else abs(v))
    return worst


@pytest.mark.parametrize("case", edges.deterministic(np.float64, "slow"), ids=lambda c: c.label)
def test_blocks_against_the_oracle(case):
    A1, A2, B, X = case.matrix()
    ctx = mo.context(case.S)
    S, Bm = mo.mp_rows(ctx, case.S), mo.mp_rows(ctx, case.B)
    U = [[ctx.exp(v) for v in r] for r in S]
    alpha = [ctx.fsum(r) for r in U]
    F = [[v / a for v in r] for r, a in zip(U, alpha)]
    C = [[f - b for f, b in zip(fr, br)] for fr, br in zip(F, Bm)]
    H = [[u - a * b for u, b in zip(ur, br)] for ur, a, br in zip(U, alpha, Bm)]
    bound = 16 * 2.0**-53 * (3 + 2 * float(np.max(np.abs(case.S))))  # exp of a rounded logit difference
    assert _entrywise(attnreg.f(A1, A2, X), F, ctx) <= bound
    assert _entrywise(attnreg.alpha(A1, A2, X), alpha, ctx) <= bound
    assert np.allclose(attnreg.log_alpha(A1, A2, X), [float(ctx.log(a)) for a in alpha], rtol=1e-15, atol=1e-307)
    # c and h: entrywise relative to the row's size (an entry can be a difference of row-sized terms)
    for got, exact in ((attnreg.c(A1, A2, B, X), C), (attnreg.h(A1, A2, B, X), H)):
        for g, e, a in zip(got, exact, alpha):
            size = max(abs(v) for v in e)
            if size > 1e300 or size < 1e-300:
                continue
            assert np.all(np.isfinite(g))
            assert max(float(abs(ctx.mpf(float(x)) - y)) for x, y in zip(g, e)) <= bound * float(size)
    for j in range(case.S.shape[0]):  # the vector form is row j
        A, x = np.eye(case.S.shape[1]), case.S[j]
        assert np.array_equal(attnreg.vector.h(A, case.B[j], x), attnreg.h(A1, A2, B, X)[j])
        assert np.array_equal(attnreg.vector.c(A, case.B[j], x), attnreg.c(A1, A2, B, X)[j])


@pytest.mark.parametrize("X", [-40.0, -400.0, -800.0, 40.0, 300.0])
def test_icl_rescaled_shifted_target(X):
    """B̃ with residual(new, B) = residual(old, B̃): for A1 = A2 = [[1], [1]], B = ½ and X → 0 it is ½."""
    A = np.array([[1.0], [1.0]])
    B = np.full((2, 2), 0.5)
    Bt = attnreg.icl.shifted_target(A, A, B, np.array([[X]]), version="rescaled", X_new=np.array([[0.0]]))
    assert Bt.tolist() == [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize("X,Xn", [(-40.0, 1.0), (-300.0, 2.0), (5.0, -700.0)])
def test_icl_rescaled_shifted_target_against_the_oracle(X, Xn):
    rng = np.random.default_rng(3)
    A1, A2 = np.array([[1.0], [0.5], [-1.0]]), np.array([[1.0], [-0.25], [0.75]])
    B = rng.dirichlet(np.ones(3), size=3)
    Bt = attnreg.icl.shifted_target(A1, A2, B, np.array([[X]]), version="rescaled", X_new=np.array([[Xn]]))
    S, Sn = A1 @ np.array([[X]]) @ A2.T, A1 @ np.array([[Xn]]) @ A2.T
    ctx = mo.context(np.concatenate([S, Sn]))
    for j in range(3):
        u = [ctx.exp(ctx.mpf(v)) for v in S[j]]
        un = [ctx.exp(ctx.mpf(v)) for v in Sn[j]]
        a, an = ctx.fsum(u), ctx.fsum(un)
        exact = [(ui - uni + an * ctx.mpf(b)) / a for ui, uni, b in zip(u, un, B[j])]
        size = max(abs(e) for e in exact)
        assert max(float(abs(ctx.mpf(float(g)) - e)) for g, e in zip(Bt[j], exact)) <= 1e-12 * float(size)
