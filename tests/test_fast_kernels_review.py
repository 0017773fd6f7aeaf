"""Review attacks on the fast kernels' shared state: the BLAS / torch thread limits and the kept buffers."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from attnreg import _threads, matrix

torch = pytest.importorskip("torch")


def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_overlapping_calls_restore_the_thread_limits_they_found():
    """Two calls whose limits overlap in time (A enters, B enters, A leaves, B leaves): afterwards BLAS and
    torch run on as many threads as before. Each call restoring what *it* found left BLAS at one thread for
    the rest of the process (B found A's limit and put it back)."""
    before, torch_before = blas_threads(), torch.get_num_threads()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with _threads.limited(1, 1, torch):
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def second():
        a_in.wait(10)
        with _threads.limited(1, 1, torch):
            b_in.set()
            a_out.wait(10)

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert blas_threads() == before
    assert torch.get_num_threads() == torch_before


def test_concurrent_calls_leave_blas_as_they_found_it():
    rng = np.random.default_rng(0)
    before = blas_threads()

    def call(i):
        for _ in range(10):
            A1, A2 = rng.standard_normal((200 + i, 4)), rng.standard_normal((200 + i, 4))
            B, X = rng.random((200 + i, 200 + i)), rng.standard_normal((4, 4))
            matrix.loss_and_grad(A1, A2, B, X, version="normalized", threads=1 + i % 2)

    workers = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert blas_threads() == before


@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_calls_from_other_threads_keep_their_bits(version):
    """Off the main thread the BLAS limit is left alone (see attnreg._threads.limited); the results are still
    the bits of a main-thread call, for every thread count."""
    rng = np.random.default_rng(3)
    n, d = 300, 5
    A1, A2, X, V = (rng.standard_normal(s) for s in ((n, d), (n, d), (d, d), (d, d)))
    B = rng.random((n, n))
    want = matrix.loss_and_grad(A1, A2, B, X, version=version, block_rows=16, threads=1)
    want_h = matrix.hvp(A1, A2, B, X, V, version=version, block_rows=16, threads=1)
    got = {}

    def call(t):
        got[t] = (matrix.loss_and_grad(A1, A2, B, X, version=version, block_rows=16, threads=t),
                  matrix.hvp(A1, A2, B, X, V, version=version, block_rows=16, threads=t))

    workers = [threading.Thread(target=call, args=(t,)) for t in (1, 2, 3, 7)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for t, ((L, G), H) in got.items():
        assert L == want[0] and np.array_equal(G, want[1]) and np.array_equal(H, want_h), t


@pytest.mark.parametrize("call", ["loss", "loss_and_grad", "hvp", "vector"])
def test_meta_tensors_are_refused_with_a_sentence(call):
    """A tensor on torch's 'meta' device has a shape but no values: a ValueError saying so, not torch's
    'Tensor.item() cannot be called on meta tensors' from deep inside the sweep."""
    import attnreg

    n, d = 6, 2
    meta = {s: torch.empty(s, device="meta", dtype=torch.float64) for s in ((n, d), (n, n), (d, d))}
    A1, B, X = meta[(n, d)], meta[(n, n)], meta[(d, d)]
    with pytest.raises(ValueError, match="meta"):
        if call == "loss":
            attnreg.loss(A1, A1, B, X, version="normalized")
        elif call == "loss_and_grad":
            attnreg.loss_and_grad(A1, A1, B, X, version="rescaled")
        elif call == "hvp":
            attnreg.hvp(A1, A1, B, X, X, version="normalized")
        else:
            from attnreg import vector
            A = torch.empty((n, d * d), device="meta", dtype=torch.float64)
            vector.loss(A, torch.empty(n, device="meta", dtype=torch.float64),
                        torch.empty(d * d, device="meta", dtype=torch.float64), version="normalized")


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_float16_rescaled_overflow_is_inf_without_warnings(lib):
    """The true rescaled loss here is 7.9e15 (mpmath, 60 digits), beyond float16's 65504: the answer is inf,
    with no 'overflow encountered in subtract' leaking from the log-scale bookkeeping (a 'no term' scale,
    the dtype's most negative number, minus a positive scale overflowed in float16)."""
    import warnings

    rng = np.random.default_rng(2)
    n, d = 40, 3
    A1, A2, X = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    B = rng.random((n, n))
    B /= B.sum(1, keepdims=True)
    ins = [a.astype(np.float16) for a in (A1, A2, B, X)]
    if lib == "torch":
        ins = [torch.from_numpy(a) for a in ins]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L, G = matrix.loss_and_grad(*ins, version="rescaled", block_rows=4)
    assert float(L) == np.inf


def _mp_loss_grad(A1, A2, B, X, version):
    """Loss and ``A1ᵀ P A2`` from the definitions at 60 digits (mpmath; this file's own, not attnreg.reference)."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = 60
    m = lambda a: ctx.matrix([[ctx.mpf(float(x)) for x in r] for r in np.asarray(a, dtype=np.float64)])  # noqa: E731
    A1m, A2m, Bm = m(A1), m(A2), m(B)
    S = A1m * m(X) * A2m.T
    n = S.rows
    P, L = ctx.matrix(n, n), ctx.mpf(0)
    for j in range(n):
        u = [ctx.exp(S[j, k]) for k in range(n)]
        a = ctx.fsum(u)
        if version == "normalized":
            f = [x / a for x in u]
            c = [f[k] - Bm[j, k] for k in range(n)]
            r = ctx.fsum(fk * ck for fk, ck in zip(f, c))
            row = [f[k] * (c[k] - r) for k in range(n)]
        else:
            c = [u[k] - a * Bm[j, k] for k in range(n)]
            r = ctx.fsum(ck * Bm[j, k] for k, ck in enumerate(c))
            row = [u[k] * (c[k] - r) for k in range(n)]
        L += ctx.fsum(x * x for x in c) / 2
        for k in range(n):
            P[j, k] = row[k]
    G = A1m.T * P * A2m
    return float(L), np.array([[float(G[i, k]) for k in range(G.cols)] for i in range(G.rows)])


@pytest.mark.parametrize("side", [-1, 1], ids=["logits-near-lo", "logits-near-hi"])
@pytest.mark.parametrize("edge", [1 - 1e-5, 1 + 1e-9, 1.5], ids=["bound-just-inside", "bound-just-outside", "outside"])
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_at_the_skip_the_shift_bound(version, edge, side, dtype, monkeypatch):
    """d = 1 makes the O(nd) bound ``max‖a_j‖·max‖w_k‖`` exact (``S_jk = a_j x A2_k``): scale it to just
    inside / just outside the safe window, with every row undominated (logits within 2 of each other, all
    near the window's top or bottom), so the unshifted and the shifted kernels both meet rows at the edge.
    Loss and gradient against 60-digit mpmath within the error model's bound (as the other fast-kernel tests),
    for NumPy, torch CPU tensors and torch's own kernels (the device path)."""
    from attnreg import _fastrows, _fastsweep
    from attnreg.verify import errormodel
    from attnreg.verify.tolerances import tol

    n = 9
    info = np.finfo(dtype)
    lo, hi = _fastrows.limits(float(info.max), float(info.smallest_normal), n, version)
    w = min(hi, -lo) * edge
    A1 = side * np.linspace(1 - 0.5 / w, 1, n)[:, None]
    A2 = np.linspace(1 - 1.5 / w, 1, n)[:, None]
    X = np.array([[w]])
    B = np.random.default_rng(0).random((n, n)) * 0.4
    A1, A2, B, X = (np.asarray(a, dtype=dtype) for a in (A1, A2, B, X))
    W = X @ A2.T
    bound = np.sqrt(np.max(np.sum(A1 * A1, axis=1).astype(float)) * np.max(np.sum(W * W, axis=0).astype(float)))
    assert (bound * (1 + 2**-20) <= min(hi, -lo)) == (edge < 1)  # the case is where it says it is
    L0, G0 = _mp_loss_grad(A1, A2, B, X, version)
    if not (float(info.smallest_normal) <= L0 < float(info.max) and np.all(np.abs(G0) < float(info.max))):
        pytest.skip("the true value is outside the dtype's range")
    bounds = errormodel.matrix_bounds(*(a.astype(np.float64) for a in (A1, A2, B, X)), version)
    k = 2 * tol("vs_reference").factor * (info.eps / np.finfo(np.float64).eps)
    for T in (np.asarray, torch.from_numpy, "device"):
        if T == "device":
            monkeypatch.setattr(_fastsweep, "host_views", lambda torch, *arrays: None)
            T = torch.from_numpy
        L, G = matrix.loss_and_grad(*(T(a) for a in (A1, A2, B, X)), version=version, block_rows=4)
        assert abs(float(L) - L0) <= k * bounds.loss
        assert np.all(np.abs(np.asarray(G, dtype=np.float64) - G0) <= k * bounds.grad)
