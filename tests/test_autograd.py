"""Autograd through attnreg.loss gives attnreg's stable gradient (torch.autograd.Function, jax.custom_vjp)."""
import numpy as np
import pytest

import attnreg
from attnreg.verify import edges

torch = pytest.importorskip("torch")


def _shifted_rescaled_case():
    """Rows shifted far from 0 (one past exp's overflow point) with finite rescaled loss and gradient."""
    return edges.make("mixed", 4, 500.0, 505.0, 3).matrix()


@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("make", [_shifted_rescaled_case, lambda: edges.make("saturated", 3, 40.0, 0.0, 1).matrix()])
def test_torch_backward_is_attnregs_gradient(version, make):
    A1, A2, B, X = make()
    want = attnreg.grad(A1, A2, B, X, version=version)
    T = [torch.asarray(a) for a in (A1, A2, B)]
    Xt = torch.asarray(X).requires_grad_(True)
    L = attnreg.loss(*T, Xt, version=version)
    assert float(L.detach()) == pytest.approx(float(attnreg.loss(A1, A2, B, X, version=version)), rel=1e-15)
    (3 * L).backward()
    got = Xt.grad.numpy()
    assert np.all(np.isfinite(got)) and np.max(np.abs(got - 3 * want)) <= 1e-12 * np.max(np.abs(3 * want))


def test_torch_without_the_registered_backward_was_nan():
    """What the registered backward replaces: op-by-op autograd through the scaled kernel gives nan here."""
    A1, A2, B, X = _shifted_rescaled_case()
    Xt = torch.asarray(X).requires_grad_(True)
    G = attnreg.grad(*(torch.asarray(a) for a in (A1, A2, B)), Xt, version="rescaled")
    assert np.all(np.isfinite(G.detach().numpy()))


def test_torch_vector_backward():
    A, b, x = np.eye(3), np.array([1.0, 0.0, 0.0]), np.array([800.0, 0.0, -3.0])
    xt = torch.asarray(x).requires_grad_(True)
    attnreg.vector.loss(torch.asarray(A), torch.asarray(b), xt, version="rescaled").backward()
    want = attnreg.vector.grad(A, b, x, version="rescaled")
    assert np.allclose(xt.grad.numpy(), want, rtol=1e-13, atol=0)


def test_torch_refuses_gradients_in_the_data():
    A1, A2, B, X = (torch.asarray(a) for a in _shifted_rescaled_case())
    with pytest.raises(TypeError, match="A1 requires grad, but attnreg.loss differentiates in X only"):
        attnreg.loss(A1.requires_grad_(True), A2, B, X, version="rescaled")


def test_torch_double_backward_is_a_clear_error():
    A1, A2, B, X = (torch.asarray(a) for a in _shifted_rescaled_case())
    X.requires_grad_(True)
    with pytest.raises(RuntimeError, match="differentiable once by torch autograd.*attnreg.hvp"):
        torch.autograd.grad(attnreg.loss(A1, A2, B, X, version="normalized"), X, create_graph=True)


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_jax_grad_is_attnregs_gradient(version):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    A1, A2, B, X = _shifted_rescaled_case()
    want = attnreg.grad(A1, A2, B, X, version=version)
    J = [jax.numpy.asarray(a) for a in (A1, A2, B)]
    got = np.asarray(jax.grad(lambda Z: attnreg.loss(*J, Z, version=version))(jax.numpy.asarray(X)))
    assert np.all(np.isfinite(got)) and np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))
    got_jit = np.asarray(jax.jit(jax.grad(lambda Z: attnreg.loss(*J, Z, version=version)))(jax.numpy.asarray(X)))
    assert np.max(np.abs(got_jit - want)) <= 1e-12 * np.max(np.abs(want))
