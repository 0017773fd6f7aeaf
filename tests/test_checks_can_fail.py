"""The checks are not vacuous: each fails on a deliberately broken implementation (mutation tests)."""
import numpy as np
import pytest

import attnreg
from attnreg import _rows, reference
from attnreg.verify import registry


def _status(name):
    (check,) = [c for c in registry.select(name) if c.name == name]
    return registry.run(check, seed=0).status


def test_reference_comparison_catches_a_1e_9_relative_error(monkeypatch):
    real = _rows.normalized

    def off(S, B, *, xp, with_p=True):
        loss, P = real(S, B, xp=xp, with_p=with_p)
        return loss, None if P is None else P * (1 + 1e-9)

    monkeypatch.setattr(_rows, "normalized", off)
    assert _status("prod.matrix.normalized.vs_reference") is registry.Status.FAIL


def test_reference_comparison_catches_a_missing_shift(monkeypatch):
    def unshifted(S, *, xp, version):
        c = xp.zeros_like(xp.max(S, axis=1, keepdims=True))
        return c, xp.exp(S)

    monkeypatch.setattr(_rows, "shift", unshifted)
    with np.errstate(all="ignore"):
        assert _status("prod.matrix.normalized.vs_reference") is registry.Status.FAIL


def test_ratio_rule_catches_a_less_accurate_gradient(monkeypatch):
    real = attnreg.loss_and_grad
    rng = np.random.default_rng(0)

    def noisy(*args, **kw):
        L, G = real(*args, **kw)
        return L, G * (1 + 1e-13 * rng.standard_normal(G.shape))

    monkeypatch.setattr(attnreg, "loss_and_grad", noisy)
    assert _status("prod.matrix.normalized.vs_naive") is registry.Status.FAIL


def test_tensor_trick_check_catches_the_column_major_mixup(monkeypatch):
    monkeypatch.setattr(attnreg.KronOperator, "dense", lambda self, max_entries=2**24: np.kron(self.A2, self.A1))
    assert _status("identity.tensor_trick") is registry.Status.FAIL


def test_derivative_check_catches_a_wrong_hessian_term(monkeypatch):
    real = reference.rows.ROW_HESSIAN["rescaled"]

    def wrong(ctx, s, b):
        K = real(ctx, s, b)
        K[0][0] *= 1 + ctx.mpf(10) ** -30
        return K

    monkeypatch.setitem(reference.rows.ROW_HESSIAN, "rescaled", wrong)
    assert _status("ref.vector.rescaled.hvp_vs_diff") is registry.Status.FAIL


@pytest.mark.parametrize("name", ["prod.matrix.rescaled.vs_reference", "prod.backend.array_api_strict"])
def test_checks_pass_unmutated(name):
    assert _status(name) is registry.Status.PASS


def test_conformance_check_catches_a_transposed_gradient(monkeypatch):
    real = attnreg.loss_and_grad

    def transposed(*args, **kw):
        L, G = real(*args, **kw)
        return L, G.T

    monkeypatch.setattr(attnreg, "loss_and_grad", transposed)
    (check,) = [c for c in registry.select("conformance.production.matrix.normalized")]
    result = registry.run(check, seed=0)
    assert result.status is registry.Status.FAIL and "transpose" in result.detail
