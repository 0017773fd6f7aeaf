"""The shared mpmath oracle (verify/oracle.py, used by the edge checks and the tests) against the other
independent high-precision route, attnreg.reference's ctx rows (reference/rows.py): the loss and ``p`` of
each row, and the HVP against the reference's analytic row Hessian ``K`` applied to the direction.
Rows include a saturated one, a one-hot target off the argmax and logits past float64's exp overflow."""
from __future__ import annotations

import numpy as np
import pytest

from attnreg.reference import rows as R
from attnreg.verify import oracle

S = np.array([[0.3, -1.2, 2.0, 0.0], [40.0, -40.0, 0.0, 1.0], [800.0, 795.0, -3.0, 0.5]])
B = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
dS = np.array([[1.0, -0.5, 0.25, 2.0], [0.3, 0.3, -1.0, 0.1], [-1.0, 2.0, 0.5, 0.0]])


@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_oracle_agrees_with_the_reference_rows(version):
    ctx = oracle.context(S)
    Sm, Bm, dSm = oracle.mp_rows(ctx, S), oracle.mp_rows(ctx, B), oracle.mp_rows(ctx, dS)
    tol = ctx.mpf(10) ** -(ctx.dps // 4)  # the central difference's own error is about 10^{-2·dps/3}
    loss = oracle.quantity(ctx, "loss", version)(Sm, Bm)[0]
    grad = oracle.quantity(ctx, "grad", version)(Sm, Bm)
    hvp = oracle.quantity(ctx, "hvp", version, dS)(Sm, Bm)
    ref = [R.ROW[version](ctx, s, b) for s, b in zip(Sm, Bm)]
    ref_hvp = [ctx.fdot(k_row, ds) for s, b, ds in zip(Sm, Bm, dSm) for k_row in R.ROW_HESSIAN[version](ctx, s, b)]
    assert abs(loss - ctx.fsum(r[0] for r in ref)) <= tol * abs(loss)
    for got, want in ((grad, [v for r in ref for v in r[1]]), (hvp, ref_hvp)):
        size = max(abs(w) for w in want)
        assert max(abs(g - w) for g, w in zip(got, want)) <= tol * size
