"""The checks are not vacuous: each fails on a deliberately broken implementation (mutation tests)."""
import numpy as np
import pytest

import attnreg
from attnreg import _rows, reference
from attnreg.verify import catalogue, registry


def _status(name):
    (check,) = [c for c in catalogue.select(name) if c.name == name]
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
    (check,) = [c for c in catalogue.select("conformance.production.matrix.normalized")]
    result = registry.run(check, seed=0)
    assert result.status is registry.Status.FAIL and "transpose" in result.detail


# --- the edge checks catch every production defect of the old numerics (tests/old_production.py) ----------

def _old(monkeypatch):
    import old_production as old

    for name in ("loss", "grad", "hvp"):
        monkeypatch.setattr(attnreg, name, getattr(old, name))
    monkeypatch.setattr(attnreg.vector, "h", old.vector_h)
    monkeypatch.setattr(attnreg.vector, "c", old.vector_c)
    monkeypatch.setattr(attnreg.icl, "shifted_target", old.icl_shifted_target)


@pytest.mark.parametrize("name,defect", [
    ("prod.edges.rescaled.loss", "a saturated row swamps the others (common scale from the shifts)"),
    ("prod.edges.rescaled.grad", "the gradient of the swamped rows vanishes"),
    ("prod.edges.rescaled.hvp", "the HVP of the swamped rows vanishes"),
    ("prod.edges.normalized.loss", "one-hot target with a logit gap ≥ 37: f_k − 1 rounds to 0 (factor-2 error)"),
    ("prod.edges.normalized.grad", "saturated rows: ⟨f, c⟩ cancels, no correct digits"),
    ("prod.edges.normalized.hvp", "saturated rows: 1 − f_k cancels in the HVP"),
    ("prod.edges.rescaled.float32", "float32: a one-hot target on the argmax cancels; ordinary rows lost beside a "
                                    "row shifted past ~44"),
    ("prod.edges.blocks", "vector.h is nan past overflow; icl's rescaled shifted target cancels to 0 / nan"),
])
def test_edge_checks_catch_the_old_numerics(monkeypatch, name, defect):
    _old(monkeypatch)
    assert _status(name) is registry.Status.FAIL, defect


def test_autograd_check_catches_op_by_op_autograd(monkeypatch):
    """The old attnreg.loss under torch autograd: nan gradients on shifted rescaled rows."""
    pytest.importorskip("torch")
    import old_production as old

    monkeypatch.setattr(attnreg, "loss", old.loss)
    with np.errstate(all="ignore"):
        assert _status("prod.edges.autograd.torch") is registry.Status.FAIL


@pytest.mark.parametrize("name", [c.name for c in catalogue.select("prod.edges")])
def test_edge_checks_pass_on_the_current_code(name):
    if name.endswith(".torch"):
        pytest.importorskip("torch")
    assert _status(name) is registry.Status.PASS


def test_fused_check_catches_a_fused_kernel_off_by_1e_9(monkeypatch):
    """The fused kernels' check reaches the fused kernels: a gradient row scaled by 1 + 1e-9 there fails it."""
    pytest.importorskip("numba")
    from attnreg import _fused

    real = _fused.normalized

    def off(np, S, Bb, *, with_p):
        loss, flags = real(np, S, Bb, with_p=with_p)
        S *= 1 + 1e-9
        return loss, flags

    monkeypatch.setattr(_fused, "normalized", off)
    assert _status("prod.matrix.normalized.fused_vs_reference") is registry.Status.FAIL
    assert _status("prod.matrix.normalized.vs_reference") is registry.Status.PASS  # n ≤ 8: the NumPy kernels
