"""JAX (optional; skipped when not installed): arrays in/out, under jit, and autodiff through the loss."""
import numpy as np
import pytest

import attnreg
from attnreg.verify import cases

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_jax_arrays_jit_and_autodiff(version):
    case = cases.make_matrix(6, 3, 4.0, "simplex", 1)
    A1, A2, B, X = (jnp.asarray(a) for a in case.arrays)
    L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version)
    L_np, G_np = attnreg.loss_and_grad(*case.arrays, version=version)
    assert isinstance(G, jax.Array) and np.allclose(np.asarray(G), G_np, rtol=1e-13)
    Lj, Gj = jax.jit(lambda X: attnreg.loss_and_grad(A1, A2, B, X, version=version))(X)
    assert np.isclose(float(Lj), L_np, rtol=1e-13) and np.allclose(np.asarray(Gj), G_np, rtol=1e-12)
    G_ad = jax.grad(lambda X: attnreg.loss(A1, A2, B, X, version=version))(X)
    assert np.allclose(np.asarray(G_ad), G_np, rtol=1e-10, atol=1e-12 * np.abs(G_np).max())
