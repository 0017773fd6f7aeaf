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


@pytest.mark.parametrize("where", ["A1", "X"])
def test_eager_jax_input_with_nan_is_refused_like_numpy(where):
    """array_api_compat calls every JAX array lazy, so the finite-input check was skipped for eager JAX arrays too
    and a nan went through to the result. An eager array is read (one sentence, as for NumPy); under ``jax.jit``
    the values are tracers and cannot be read, so the check cannot run there."""
    case = cases.make_matrix(4, 2, 1.0, "simplex", 0)
    arrays = dict(zip(("A1", "A2", "B", "X"), (np.array(a) for a in case.arrays)))
    arrays[where][0, 0] = np.nan
    with pytest.raises(ValueError, match=f"{where} contains non-finite entries"):
        attnreg.loss_and_grad(*arrays.values(), version="normalized")
    eager = [jnp.asarray(a) for a in arrays.values()]
    with pytest.raises(ValueError, match=f"{where} contains non-finite entries"):
        attnreg.loss_and_grad(*eager, version="normalized")
    traced = jax.jit(lambda *a: attnreg.loss_and_grad(*a, version="normalized"))(*eager)
    assert not np.isfinite(float(traced[0]))  # no check under jit: the nan shows in the result


def test_eager_arrays_are_read_and_tracers_are_not():
    """``readable`` decides whether a call may read values (the finite-input check; the grouped scales of
    attnreg/_sweep.py, whose eager-JAX end-to-end test is in the slow tier): array_api_compat calls every JAX array
    lazy, but only a tracer (jit, grad, vmap) cannot be read."""
    from attnreg._validate import readable

    x = jnp.ones(3)
    seen = []
    jax.jit(lambda y: seen.append(readable(y)) or y)(x)
    jax.grad(lambda y: (seen.append(readable(y)) or y).sum())(x)
    jax.vmap(lambda y: seen.append(readable(y)) or y)(x)
    assert readable(x) and readable(np.ones(3)) and seen == [False, False, False]
