"""A correct JAX implementation written for the tests: jax.nn.softmax and jax.grad."""
import jax
import jax.numpy as jnp


def _loss(X, A1, A2, B):
    F = jax.nn.softmax(A1 @ X @ A2.T, axis=-1)
    return 0.5 * jnp.sum((F - B) ** 2)


def normalized(A1, A2, B, X):
    return jax.value_and_grad(_loss)(X, A1, A2, B)
