"""Adversarial checks of 1fd62ac / aebe5b3 (the normalized HVP's rows of dS near the range scaled,
``_rows.direction_scale``) and b9d0fc7 / 0bcb4b3 (the normalized gradient's ``c`` formed with rows of B past
``e^{0.4·log max}`` divided by ``e^β``, ``_rows.normalized_p_scaled``).

Truths: mpmath from the definitions (``p = f∘(c − ⟨f, c⟩)``, ``c = f − b``, ``∇L = Aᵀp``; the HVP by complex step),
:func:`_vgrad` / :func:`_vhvp` below, precision 60 digits plus ``2·max|A||x|/2.3``. Rule: ``16·(τ + n)·u`` entrywise.

Attacked: one scale per row with *mixed* rows — one entry of b (or of ``ds = A v``) near 1e308 sitting where the
softmax weight is ``e^{−1000}`` (so its contribution to ``p`` is negligible), the other entries ordinary; the vector
form against the parent of each fix; the matrix form on the same row; warnings.

Broke:
D1. (0bcb4b3, a regression) ``vector.grad`` (normalized), A = [[1, .5, .25], [0, 1, 0], [0, 0, 1], [0, 1, 1]],
    x = [−1000, 0, −20], b = [1e308, .3, .2, .1]: b's row is divided by ``e^{710}``, so the ordinary entries of
    ``c`` (~0.3) become subnormal (~1e-309) and ``p̃`` ~1e-318 keeps ~20 bits. Relative errors 1e-8 – 3e-7
    in the probes (1e308; within 1e-15 at 1e200) where the rule allows ~1.8e-12; the parent
    b9d0fc7 (no scaling in the vector form) is within 1e-15. _vector._loss_parts → _rows.normalized_p_scaled (always
    applied in the vector form). The matrix form is right here (plain A1ᵀP is finite, no redo).
D2. (aebe5b3, a regression) ``vector.hvp`` (normalized), same A and x, b = [.4, .3, .2, .1], v = [1e308, 1, −2]:
    ``ds = [1e308, 1, −2, −1]`` is scaled by ``e^{−710}`` in ``_vector._hvp`` (always, even on the plain first try),
    the ordinary ds entries go subnormal: entries 1–2 relative errors 3e-8 / 7e-9; the parent aebe5b3~1 is within
    5e-16.
D3. (older: the parent b9d0fc7 the same) ``vector.loss`` / ``loss_and_grad`` / ``grad`` (normalized, numpy) with b
    at 1e308 emit ``RuntimeWarning: overflow encountered in multiply`` (``½Σc²`` in ``_rows.normalized``, called
    outside ``quiet()`` by ``_vector._loss_parts``); the loss is truly +inf. Any |b| past ~1e154 does it (b = 1e200
    warns too). b9d0fc7 wrapped the matrix form's call in
    ``quiet()`` for this, not the vector form's.

D1, D2 (regressions of the fixes under attack) and D3 were fixed right after: the vector form computes the plain
``p`` and HVP first and scales ``b`` or ``ds`` only in a redo where the plain result is not finite (as the matrix
form does), and its loss rows run under ``quiet()``; their tests are regression tests now.

Held: the matrix form (``attnreg.grad``) on the same mixed row (entries within the rule, no warning); both parents
on D1/D2's inputs (the regression evidence); the vector gradient at b = 1e200 (β ≈ 461: no subnormal).
Not reached (20-minute budget): float32, the device path, block_rows / threads, HVP with
huge ds and huge B together, bit-identity of ordinary inputs vs the parents. Entry 0 of every result here has a
truth ~1e-129 and is 0 in every commit (the softmax weight e^{−1000} underflows: an older, separate limit), so it is
not asserted.
"""
from __future__ import annotations

import sys
import warnings

import mpmath
import numpy as np
import pytest

import attnreg
from attnreg import vector

sys.path.insert(0, __import__("os").path.dirname(__file__))
from test_matmul_attack import import_commit  # noqa: E402

EPS = 2.0 ** -53
A = np.array([[1.0, 0.5, 0.25], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
X = np.array([-1000.0, 0.0, -20.0])
B_HUGE = np.array([1e308, 0.3, 0.2, 0.1])
B_ORD = np.array([0.4, 0.3, 0.2, 0.1])
V_HUGE = np.array([1e308, 1.0, -2.0])
CHECKED = [1, 2]  # entry 0: truth ~1e-129, 0 everywhere (softmax underflow, older limit)


def _ctx(A, x):
    ctx = mpmath.MPContext()
    ctx.dps = int(60 + 2 * float((np.abs(A) @ np.abs(x)).max()) / 2.3)
    return ctx


def _vgrad(ctx, A, b, x):
    u = [ctx.exp(ctx.fsum(r[k] * x[k] for k in range(len(x)))) for r in A]
    a = ctx.fsum(u)
    f = [q / a for q in u]
    c = [fi - bi for fi, bi in zip(f, b)]
    fc = ctx.fsum(fi * ci for fi, ci in zip(f, c))
    p = [fi * (ci - fc) for fi, ci in zip(f, c)]
    return [ctx.fsum(A[j][k] * p[j] for j in range(len(p))) for k in range(len(x))]


def _m(ctx, A, b, x):
    return [[ctx.mpf(float(q)) for q in r] for r in A], [ctx.mpf(float(q)) for q in b], [ctx.mpf(float(q)) for q in x]


def _vgrad_truth(A, b, x):
    ctx = _ctx(A, x)
    return np.array([float(q) for q in _vgrad(ctx, *_m(ctx, A, b, x))])


def _vhvp(A, b, x, v):
    ctx = _ctx(A, x)
    Am, bm, xm = _m(ctx, A, b, x)
    vm = [ctx.mpf(float(q)) for q in v]
    top = max(abs(ctx.fsum(r[k] * vm[k] for k in range(len(vm)))) for r in Am)
    t = ctx.mpf(10) ** -30 / top
    g = _vgrad(ctx, Am, bm, [xi + ctx.mpc(0, 1) * t * vi for xi, vi in zip(xm, vm)])
    return np.array([float(ctx.im(q) / t) for q in g])


RULE = 16 * (float((np.abs(A) @ np.abs(X)).max()) + A.shape[0]) * EPS


def _within(got, exact):
    got, exact = np.asarray(got)[CHECKED], exact[CHECKED]
    return bool(np.all(np.isfinite(got)) and np.all(np.abs(got - exact) <= RULE * np.abs(exact)))


@pytest.fixture(scope="module")
def grad_truth():
    return _vgrad_truth(A, B_HUGE, X)


@pytest.fixture(scope="module")
def hvp_truth():
    return _vhvp(A, B_ORD, X, V_HUGE)


def test_oracle_hvp_is_the_derivative_of_the_oracle_gradient(hvp_truth):
    """Central difference of the oracle's gradient along v (scaled to ds ~1e-20), no complex step."""
    ctx = _ctx(A, X)
    Am, bm, xm = _m(ctx, A, B_ORD, X)
    h = ctx.mpf(10) ** -328
    vm = [ctx.mpf(float(q)) for q in V_HUGE]
    gp = _vgrad(ctx, Am, bm, [xi + h * vi for xi, vi in zip(xm, vm)])
    gm = _vgrad(ctx, Am, bm, [xi - h * vi for xi, vi in zip(xm, vm)])
    fd = np.array([float((p - q) / (2 * h)) for p, q in zip(gp, gm)])
    assert np.allclose(fd[CHECKED], hvp_truth[CHECKED], rtol=1e-20, atol=0)  # both at ≥ 60 digits; the step's error
    # is O(h²) relative, far below this


def test_vector_grad_mixed_target_row(grad_truth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # D3 is tested on its own
        got = vector.grad(A, B_HUGE, X, version="normalized")
    assert _within(got, grad_truth)


@pytest.mark.parametrize("lib", ["torch", "array_api_strict"])
def test_vector_mixed_rows_on_other_libraries(lib, grad_truth, hvp_truth):
    """D1 and D2's inputs on torch and array_api_strict (added after the attack): within the rule, no warning."""
    mod = pytest.importorskip(lib)
    c = mod.asarray
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = vector.grad(c(A), c(B_HUGE), c(X), version="normalized")
        h = vector.hvp(c(A), c(B_ORD), c(X), c(V_HUGE), version="normalized")
    assert _within(np.asarray(g), grad_truth) and _within(np.asarray(h), hvp_truth)


def test_vector_grad_parent_was_right(grad_truth, tmp_path_factory):
    parent = import_commit("b9d0fc7", "attnreg_parent_b9d0fc7", tmp_path_factory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = parent.vector.grad(A, B_HUGE, X, version="normalized")
    assert _within(got, grad_truth)


def test_vector_grad_b_1e200_held():
    b = np.array([1e200, 0.3, 0.2, 0.1])
    assert _within(vector.grad(A, b, X, version="normalized"), _vgrad_truth(A, b, X))


def test_matrix_form_same_row_held(grad_truth):
    """Row 0 of the matrix form is the vector problem (A1[0] = x, X = I, A2 = A); rows 1–3 have zero logits."""
    A1 = np.zeros((4, 3))
    A1[0] = X
    Bm = np.tile(B_ORD, (4, 1))
    Bm[0] = B_HUGE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G = attnreg.grad(A1, A, Bm, np.eye(3), version="normalized")
    # G[k] = Σ_j A1[j, k] p_j A2 = X[k] · (Aᵀp_0): row 1 is 0 (X[1] = 0), row 0 is −1000 · (Aᵀp_0)
    assert np.all(G[1] == 0)
    assert _within(G[0] / X[0], grad_truth)


def test_vector_hvp_mixed_direction_row(hvp_truth):
    assert _within(vector.hvp(A, B_ORD, X, V_HUGE, version="normalized"), hvp_truth)


def test_vector_hvp_parent_was_right(hvp_truth, tmp_path_factory):
    parent = import_commit("aebe5b3~1", "attnreg_parent_aebe5b3p", tmp_path_factory)
    assert _within(parent.vector.hvp(A, B_ORD, X, V_HUGE, version="normalized"), hvp_truth)


@pytest.mark.parametrize("fn", ["loss", "grad"])
def test_vector_huge_target_is_quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(vector, fn)(A, B_HUGE, X, version="normalized")
