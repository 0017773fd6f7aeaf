"""A correct JAX implementation (jax.nn.softmax, jax.value_and_grad) passes through --backend jax (slow: jit)."""
import pytest

pytest.importorskip("jax")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_jax_passes(dtype):
    from impls import correct_jax

    from attnreg.verify.conformance import check

    out = check.run(correct_jax.normalized, version="normalized", dtype=dtype, backend="jax", examples=5)
    assert out.ok and out.diagnosis == [], out.judgement.reasons
