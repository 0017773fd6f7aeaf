"""The contenders: each builds, from NumPy inputs, a zero-argument call to time and a way to read its gradient.

``build(name, arrays, version, op, device=None)`` returns ``(run, gradient)``: ``run()`` does the whole work
of one call (loss and gradient for ``op == "grad"``, the Hessian-vector product for ``op == "hvp"``) and waits
for it (jax is asynchronous; a torch device is not waited for: benchmarks/gpu.py synchronizes);
``gradient(out)`` turns run's result into a float64 NumPy array on the host, outside the timing (None for the
floors, whose "gradient" is not one). Inputs are converted to each library once, before timing; ``device``
puts the torch contenders' tensors there (jax uses its default device).

The floors are the work no implementation of the formulas can skip: the matrix products
(``W = X A2ᵀ``, ``S = A1 W``, ``A1ᵀ E``, ``· A2``; for the HVP also ``dS = A1 (V A2ᵀ)``) plus one ``exp`` over
the n² logits, done whole (one n × n array) and row-blocked (attnreg's default block, one reused buffer).
"""
from __future__ import annotations

import numpy as np

NUMPY = ("floor", "floor-blocked", "attnreg-numpy", "naive-numpy")
TORCH = ("attnreg-torch", "torch-autograd")
JAX = ("jax-jit",)
ALL = NUMPY + TORCH + JAX
COMPILED = ("torch-compile",)  # benchmarks/gpu.py only: compiling takes tens of seconds
LIBRARY = {**{c: "numpy" for c in NUMPY}, **{c: "torch" for c in TORCH + COMPILED}, **{c: "jax" for c in JAX}}
KEYS = ("A1", "A2", "B", "X")


def build(name, arrays, version, op, device=None):
    if LIBRARY[name] == "torch":
        return _BUILDERS[name](arrays, version, op, device=device)
    return _BUILDERS[name](arrays, version, op)


def _floor(p, version, op):
    A1, A2, X, V = p["A1"], p["A2"], p["X"], p["V"]

    def run():
        S = A1 @ (X @ A2.T)
        if op == "hvp":
            S += A1 @ (V @ A2.T)  # the extra product dS; adding it keeps one n × n buffer
        np.exp(S, out=S)
        return (A1.T @ S) @ A2

    return run, lambda out: None


def _floor_blocked(p, version, op):
    import attnreg._threads as t

    A1, A2, X, V = p["A1"], p["A2"], p["X"], p["V"]
    n = A1.shape[0]
    block = t.block_rows(n, A1.dtype.itemsize)
    buf = np.empty((block, n), dtype=A1.dtype)
    extra = np.empty((block, n), dtype=A1.dtype) if op == "hvp" else None

    def run():
        W = X @ A2.T
        dW = V @ A2.T if op == "hvp" else None
        G = np.zeros((A1.shape[1], n), dtype=A1.dtype)
        for start in range(0, n, block):
            Ab = A1[start:start + block]
            S = np.matmul(Ab, W, out=buf[:Ab.shape[0]])
            if dW is not None:
                S += np.matmul(Ab, dW, out=extra[:Ab.shape[0]])
            np.exp(S, out=S)
            G += Ab.T @ S
        return G @ A2

    return run, lambda out: None


def _attnreg_numpy(p, version, op):
    import attnreg

    A1, A2, B, X = (p[k] for k in KEYS)
    if op == "hvp":
        return (lambda: attnreg.hvp(A1, A2, B, X, p["V"], version=version)), lambda out: None
    return (lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version)), lambda out: np.asarray(out[1], np.float64)


def _naive_numpy(p, version, op):
    from attnreg.verify import naive

    A1, A2, B, X = (p[k] for k in KEYS)
    if op == "hvp":
        return (lambda: naive.matrix_hvp(A1, A2, B, X, p["V"], version)), lambda out: None
    return (lambda: naive.matrix_loss_and_grad(A1, A2, B, X, version)), lambda out: np.asarray(out[1], np.float64)


def _torch_tensors(p, device=None):
    import torch

    return {k: torch.asarray(a, device=device) for k, a in p.items()}


def _host(t):
    """A tensor as a float64 NumPy array (copied from its device)."""
    return t.detach().double().cpu().numpy()


def _attnreg_torch(p, version, op, device=None):
    import attnreg

    t = _torch_tensors(p, device)
    A1, A2, B, X = (t[k] for k in KEYS)
    if op == "hvp":
        return (lambda: attnreg.hvp(A1, A2, B, X, t["V"], version=version)), lambda out: None
    return (lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version)), lambda out: _host(out[1])


def torch_loss(xp_softmax, xp_exp):
    """The loss written the way a user of an autodiff framework writes it (library functions passed in)."""
    def loss(X, A1, A2, B, version):
        S = A1 @ X @ A2.T
        if version == "normalized":
            return 0.5 * ((xp_softmax(S) - B) ** 2).sum()
        U = xp_exp(S)
        return 0.5 * ((U - U.sum(1, keepdims=True) * B) ** 2).sum()

    return loss


def _torch_autograd(p, version, op, device=None):
    import torch

    t = _torch_tensors(p, device)
    A1, A2, B, X = (t[k] for k in KEYS)
    loss = torch_loss(lambda S: torch.softmax(S, dim=1), torch.exp)
    f = lambda Xv: loss(Xv, A1, A2, B, version)  # noqa: E731
    if op == "hvp":  # forward-over-reverse, as jax's jvp of grad
        return (lambda: torch.func.jvp(torch.func.grad(f), (X,), (t["V"],))[1]), lambda out: None

    def run():
        Xg = X.detach().requires_grad_(True)
        value = f(Xg)
        value.backward()
        return value.detach(), Xg.grad

    return run, lambda out: _host(out[1])


def analytic(A1, A2, B, X, version):
    """The whole-matrix analytic loss and gradient in torch (n × n temporaries): the form torch.compile fuses."""
    import torch

    S = A1 @ X @ A2.T
    if version == "normalized":
        F = torch.softmax(S, dim=1)
        C = F - B
        FC = F * C
        P = FC - FC.sum(1, keepdim=True) * F
        return 0.5 * (C * C).sum(), A1.T @ P @ A2
    U = torch.exp(S)
    H = U - U.sum(1, keepdim=True) * B
    P = U * H - (H * B).sum(1, keepdim=True) * U
    return 0.5 * (H * H).sum(), A1.T @ P @ A2


def _torch_compile(p, version, op, device=None):
    import torch

    if op != "grad":
        raise ValueError("torch-compile times the loss and gradient only")
    t = _torch_tensors(p, device)
    A1, A2, B, X = (t[k] for k in KEYS)
    compiled = torch.compile(analytic)
    return (lambda: compiled(A1, A2, B, X, version)), lambda out: _host(out[1])


def _jax_jit(p, version, op):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    j = {k: jnp.asarray(a) for k, a in p.items()}
    A1, A2, B, X = (j[k] for k in KEYS)
    loss = torch_loss(lambda S: jax.nn.softmax(S, axis=1), jnp.exp)
    f = lambda Xv, A1, A2, B: loss(Xv, A1, A2, B, version)  # noqa: E731
    if op == "hvp":
        hvp = jax.jit(lambda Xv, Vv, A1, A2, B: jax.jvp(lambda Y: jax.grad(f)(Y, A1, A2, B), (Xv,), (Vv,))[1])
        return (lambda: hvp(X, j["V"], A1, A2, B).block_until_ready()), lambda out: None
    vg = jax.jit(jax.value_and_grad(f))
    return (lambda: jax.block_until_ready(vg(X, A1, A2, B))), lambda out: np.asarray(out[1], np.float64)


_BUILDERS = {"floor": _floor, "floor-blocked": _floor_blocked, "attnreg-numpy": _attnreg_numpy,
             "naive-numpy": _naive_numpy, "attnreg-torch": _attnreg_torch, "torch-autograd": _torch_autograd,
             "jax-jit": _jax_jit, "torch-compile": _torch_compile}


def available(name) -> bool:
    import importlib.util

    return importlib.util.find_spec(LIBRARY[name]) is not None
