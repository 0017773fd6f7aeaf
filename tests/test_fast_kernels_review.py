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
