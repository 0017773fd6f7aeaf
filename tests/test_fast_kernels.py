"""The buffer-reusing kernels (NumPy, torch) against the stable generic kernels and the 40-digit reference;
threads: same bits run to run, the option validated; finiteness of B found without an isfinite pass."""
import array_api_strict
import numpy as np
import pytest

import attnreg
from attnreg import _fastrows, _fastsweep, _sweep, _threads
from attnreg import reference
from attnreg.verify import errormodel
from attnreg.verify.tolerances import tol

torch = pytest.importorskip("torch")


def mixed(n=40, d=3, seed=0, big=False):
    """Ordinary rows, dominated rows (f_max > ½), one-hot targets on and off the argmax, and optionally a row
    past exp's overflow (shift needed / flagged)."""
    rng = np.random.default_rng(seed)
    A1, A2 = rng.standard_normal((n, d)) / np.sqrt(d), rng.standard_normal((n, d)) / np.sqrt(d)
    X, V = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    A1[::5] *= 12.0                              # saturated rows
    B = rng.dirichlet(np.ones(n), size=n)
    B[1::7] = np.eye(n)[np.argmax(A1[1::7] @ X @ A2.T, axis=1)]   # one-hot on the argmax
    B[3::7] = np.eye(n)[(np.arange(3, n, 7) * 5) % n]             # one-hot elsewhere
    if big:
        A1[2] *= 400.0
    return A1, A2, B, X, V


def generic(A1, A2, B, X, version, V=None, block=7):
    xp = array_api_strict
    a = [xp.asarray(M) for M in (A1, A2, B, X)] + ([] if V is None else [xp.asarray(V)])
    if V is None:
        s = _sweep._generic(*a, version=version, xp=xp, block=block)
        L = _sweep.unscale(s.loss_scaled, s.loss_M, xp=xp)
        G = _sweep.gradient(s, a[1], xp=xp)
        return float(L), np.asarray(G)
    s = _sweep._generic(*a[:4], version=version, xp=xp, block=block, V=a[4])
    return np.asarray(_sweep.gradient(s, a[1], xp=xp))


@pytest.mark.parametrize("big", [False, True], ids=["moderate", "past-overflow"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_fast_and_generic_agree_within_the_error_bound(version, big):
    """Each of fast (NumPy, torch, 1 and 2 threads) and generic is within ``vs_reference`` × the a-priori bound
    of the truth, so they differ by at most twice that."""
    A1, A2, B, X, _ = mixed(big=big)
    if big and version == "rescaled":
        A1[2] /= 4.0                             # keep the rescaled loss inside float64's range
    bounds = errormodel.matrix_bounds(A1, A2, B, X, version)
    k = 2 * tol("vs_reference").factor
    L0, G0 = generic(A1, A2, B, X, version)
    runs = [attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=br, threads=th)
            for br, th in ((7, 1), (7, 2), (None, None))]
    Lt, Gt = attnreg.loss_and_grad(*(torch.asarray(M) for M in (A1, A2, B, X)), version=version, block_rows=7)
    runs.append((float(Lt), Gt.numpy()))
    for L, G in runs:
        assert abs(float(L) - L0) <= k * bounds.loss
        assert np.all(np.abs(np.asarray(G) - G0) <= k * bounds.grad)


@pytest.mark.parametrize("route", ["host", "device"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_fast_hvp_as_accurate_as_the_stable_one(version, route, monkeypatch):
    """HVP against the 40-digit reference: the fast kernels' error is within ``vs_naive``'s factor of the
    stable kernels' error plus a round-off floor of n·u·max|HVP| (torch on the NumPy kernels, ``host``,
    or on its own with the flagged blocks redone, ``device``)."""
    if route == "device":
        monkeypatch.setattr(_fastsweep, "host_views", lambda torch, *arrays: None)
    A1, A2, B, X, V = mixed(n=14, d=2, seed=3)
    exact = np.array(reference.hvp(A1, A2, B, X, V, version=version, dps=40).tolist(), dtype=float)
    floor = A1.shape[0] * np.finfo(float).eps * np.abs(exact).max()
    base = np.abs(generic(A1, A2, B, X, version, V=V) - exact).max()
    for H in (attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=4, threads=th) for th in (1, 2)):
        assert np.abs(H - exact).max() <= tol("vs_naive").factor * base + floor
    Ht = attnreg.hvp(*(torch.asarray(M) for M in (A1, A2, B, X, V)), version=version, block_rows=4)
    assert np.abs(Ht.numpy() - exact).max() <= tol("vs_naive").factor * base + floor


@pytest.mark.parametrize("target", ["dirichlet", "near-optimum"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_fast_hvp_on_unflagged_rows_against_the_reference(version, target):
    """Every row undominated (so the fast HVP kernels compute all of them, nothing is redone): the same rule
    against the 40-digit reference as above, on random targets and on targets next to the softmax (``c``
    small, where ``y = c + f − r`` of the normalized kernel is mostly ``f``)."""
    rng = np.random.default_rng(7)
    n, d = 48, 3
    A1, A2 = rng.standard_normal((n, d)) / np.sqrt(d), rng.standard_normal((n, d)) / np.sqrt(d)
    X, V = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    S = A1 @ X @ A2.T
    F = np.exp(S - S.max(axis=1, keepdims=True))
    F /= F.sum(axis=1, keepdims=True)
    assert F.max() < 0.5
    if target == "dirichlet":
        B = rng.dirichlet(np.ones(n), size=n)
    else:
        B = F * (1 + 1e-6 * rng.standard_normal((n, n)))
    exact = np.array(reference.hvp(A1, A2, B, X, V, version=version, dps=40).tolist(), dtype=float)
    floor = n * np.finfo(float).eps * np.abs(exact).max()
    base = np.abs(generic(A1, A2, B, X, version, V=V) - exact).max()
    for th in (1, 2):
        H = attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=16, threads=th)
        assert np.abs(H - exact).max() <= tol("vs_naive").factor * base + floor


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_threads_same_bits_run_to_run_and_for_any_thread_count(version):
    """Fixed partial sums over the blocks, added in a fixed order: loss, gradient and HVP keep their bits
    whatever the thread count (saturated rows and one-hot targets included: their rows are redone)."""
    A1, A2, B, X, V = mixed(n=90, d=4, seed=1)
    first = attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=8, threads=2)
    H = attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=8, threads=2)
    for th in (2, 2, 1, 3, 5, 16):
        again = attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=8, threads=th)
        assert float(again[0]) == float(first[0]) and np.array_equal(again[1], first[1])
        assert np.array_equal(attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=8, threads=th), H)


def test_same_bits_for_thread_counts_that_leave_each_lane_one_blas_thread():
    """At n = 1000, d = 97 OpenBLAS 0.3.31's products give other last bits on 2 threads than on 1 (the
    gradient with ``block_rows=n``, threads 1 vs 2, and with 8 parts at ``threads=16``: 2 BLAS threads per
    lane), so the same-bits guarantee holds while ``threads < 2 × parts``: every lane's BLAS on one thread."""
    A1, A2, B, X, V = mixed(n=1000, d=97, seed=1)
    first = attnreg.loss_and_grad(A1, A2, B, X, version="normalized", block_rows=125, threads=2)  # 8 parts
    H = attnreg.hvp(A1, A2, B, X, V, version="normalized", block_rows=125, threads=2)
    for th in (1, 15):
        again = attnreg.loss_and_grad(A1, A2, B, X, version="normalized", block_rows=125, threads=th)
        assert float(again[0]) == float(first[0]) and np.array_equal(again[1], first[1])
        assert np.array_equal(attnreg.hvp(A1, A2, B, X, V, version="normalized", block_rows=125, threads=th), H)


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_torch_cpu_tensors_take_the_numpy_kernels(version):
    """CPU tensors are viewed as NumPy arrays (shared memory): the same bits as NumPy, returned as tensors."""
    A1, A2, B, X, V = mixed(n=30, d=3, seed=2)
    T = [torch.asarray(M) for M in (A1, A2, B, X, V)]
    L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=4)
    Lt, Gt = attnreg.loss_and_grad(*T[:4], version=version, block_rows=4)
    assert isinstance(Gt, torch.Tensor) and Gt.dtype == torch.float64 and float(Lt) == float(L)
    assert np.array_equal(Gt.numpy(), G)
    Ht = attnreg.hvp(*T, version=version, block_rows=4)
    assert np.array_equal(Ht.numpy(), attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=4))
    T32 = [t.float() for t in T]
    L32, G32 = attnreg.loss_and_grad(*T32[:4], version=version, block_rows=4)
    assert G32.dtype == torch.float32
    assert np.array_equal(G32.numpy(), attnreg.loss_and_grad(*(M.astype(np.float32) for M in (A1, A2, B, X)),
                                                             version=version, block_rows=4)[1])


@pytest.fixture
def device_path(monkeypatch):
    """Torch tensors through torch's own kernels, as on a GPU (CPU tensors otherwise take NumPy views), with a
    record of the blocks the stable kernels redo."""
    monkeypatch.setattr(_fastsweep, "host_views", lambda torch, *arrays: None)
    redone, real = [], _fastsweep._generic

    def spy(*args, starts=None, **kwargs):
        redone.append(starts)
        return real(*args, starts=starts, **kwargs)

    monkeypatch.setattr(_fastsweep, "_generic", spy)
    return redone


@pytest.mark.parametrize("big", [False, True], ids=["moderate", "past-overflow"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_device_path_redoes_only_the_flagged_blocks(version, big, device_path):
    """On a device a flagged row sends its block (not the call) to the stable kernels, after the sweep; the
    result is within the error bound of the truth (saturated rows, one-hot targets, logits past overflow)."""
    A1, A2, B, X, V = mixed(big=big)
    if big and version == "rescaled":
        A1[2] /= 4.0
    bounds = errormodel.matrix_bounds(A1, A2, B, X, version)
    k = 2 * tol("vs_reference").factor
    L0, G0 = generic(A1, A2, B, X, version)
    T = [torch.asarray(M) for M in (A1, A2, B, X, V)]
    Lt, Gt = attnreg.loss_and_grad(*T[:4], version=version, block_rows=2)
    assert abs(float(Lt) - L0) <= k * bounds.loss
    assert np.all(np.abs(Gt.numpy() - G0) <= k * bounds.grad)
    assert len(device_path) == 1 and 0 < len(device_path[0]) < 20  # some blocks of 2 rows, not all


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_threads_option_is_checked(bad):
    A1, A2, B, X, _ = mixed(n=6, d=2)
    with pytest.raises(ValueError, match="^threads must be a positive integer"):
        attnreg.loss(A1, A2, B, X, version="normalized", threads=bad)


def test_threads_accepts_integer_like_and_limits_blas():
    A1, A2, B, X, _ = mixed(n=6, d=2)
    attnreg.loss(A1, A2, B, X, version="normalized", threads=np.int64(2))
    from threadpoolctl import threadpool_info

    for threads in (1, 2, None):
        lanes, inner = _threads.resolve(threads, 8, cpu=True)
        with _threads.limited(lanes, inner):
            inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        total = _threads.cores() if threads is None else threads
        assert lanes <= total and all(t * lanes <= max(lanes, total) for t in inside)
    assert _threads.resolve(1, 8, cpu=True) == (1, 1)      # one thread: BLAS on one thread too
    assert _threads.resolve(4, 2, cpu=True) == (2, 2) and _threads.resolve(None, 8, cpu=False) == (1, None)


def test_block_buffers_are_reused_and_never_shared():
    """The second call takes the first call's buffers; two calls at once get different ones; release()."""
    pool, xp = _fastrows.BufferPool(keep=2), np
    a, ba = pool.take(xp, (3, 4), np.float64)
    b, bb = pool.take(xp, (2, 5), np.float64)
    assert not np.shares_memory(a, b)
    pool.give([ba, bb])
    c, bc = pool.take(xp, (2, 6), np.float64)            # 12 entries: the smallest kept buffer that fits
    assert bc is ba and c.shape == (2, 6)
    d, bd = pool.take(xp, (2, 6), np.float64)
    assert bd is not bc and not np.shares_memory(c, d)
    e, be = pool.take(xp, (2, 2), np.float32)            # another dtype: a new buffer
    assert be.dtype == np.float32
    pool.give([bc, bd, be])
    assert len(pool.free) == 2
    pool.release()
    assert pool.free == []
    small = _fastrows.BufferPool(keep=8, max_bytes=200)
    small.give([small.take(xp, (10,), np.float64)[1] for _ in range(4)])   # 80 bytes each: two fit
    assert len(small.free) == 2


@pytest.mark.parametrize("lib", ["numpy", "torch"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_B_found_without_scanning_it_first(value, version, lib):
    A1, A2, B, X, V = mixed(n=20, d=2)
    B = B.copy()
    B[13, 4] = value
    conv = (lambda M: M) if lib == "numpy" else torch.asarray
    args = [conv(M) for M in (A1, A2, B, X)]
    for call in (lambda: attnreg.loss_and_grad(*args, version=version),
                 lambda: attnreg.hvp(*args, conv(V), version=version)):
        with pytest.raises(ValueError, match="^B contains non-finite entries"):
            call()


def test_huge_finite_B_is_not_an_error():
    """The row sums overflow (so B is scanned) but B is finite: the value is returned."""
    A1, A2, B, X, _ = mixed(n=10, d=2)
    B = B * 1e300
    L = attnreg.loss(A1, A2, B, X, version="normalized")
    assert L == np.inf


def test_bound_skips_the_shift_only_when_it_proves_the_window():
    A1, A2, B, X, _ = mixed(n=12, d=2)
    W = X @ A2.T
    bound = np.sqrt(np.max(np.sum(A1 * A1, axis=1)) * np.max(np.sum(W * W, axis=0)))
    assert np.abs(A1 @ W).max() <= bound
    lo, hi = _fastrows.limits(float(np.finfo(float).max), float(np.finfo(float).smallest_normal), 12, "normalized")
    assert bound < min(hi, -lo)
    assert _fastrows.ops_for(array_api_strict, array_api_strict.asarray(A1)) is None


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_logits_whose_a1_x_factor_overflows_take_the_stable_kernels(version):
    """The fast path forms ``S_b = (A1_b X) A2ᵀ`` (no d × n ``W = X A2ᵀ`` kept). With ``A1`` scaled by 2⁴⁶⁰, ``X``
    and ``V`` by 2⁶⁰⁰ and ``A2`` by 2⁻¹⁰⁶⁰ (exact: A2's entries are multiples of 1/8, subnormal after the
    scaling) the logits are the unscaled ones, but ``A1_b X`` overflows: the probe says so (−1) and the call
    takes the stable kernels, which form ``W``. Loss, gradient and HVP are the unscaled ones, the gradient
    and HVP times 2⁻⁶⁰⁰."""
    from array_api_compat import numpy as xp

    A1, A2, B, X, V = mixed(n=24, d=3)
    A2 = np.round(A2 * 8) / 8
    A1s, A2s, Xs, Vs = np.ldexp(A1, 460), np.ldexp(A2, -1060), np.ldexp(X, 600), np.ldexp(V, 600)
    with np.errstate(over="ignore"):
        assert np.array_equal(np.ldexp(A2s, 1060), A2) and not np.isfinite(A1s @ Xs).all()
    o = _fastrows.ops_for(xp, A1)
    info = np.finfo(float)
    with np.errstate(over="ignore"):
        assert float(_fastsweep._probe(o, A1s, A2s, Xs, None, xp, 8, info)) == -1
    assert float(_fastsweep._probe(o, A1, A2, X, V, xp, 8, info)) > 0
    L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=8)
    Ls, Gs = attnreg.loss_and_grad(A1s, A2s, B, Xs, version=version, block_rows=8)
    H = attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=8)
    Hs = attnreg.hvp(A1s, A2s, B, Xs, Vs, version=version, block_rows=8)
    assert np.isclose(Ls, L, rtol=1e-13, atol=0)
    np.testing.assert_allclose(Gs * 2.0**600, G, rtol=1e-12, atol=1e-14 * np.abs(G).max())
    np.testing.assert_allclose(Hs * 2.0**600, H, rtol=1e-12, atol=1e-14 * np.abs(H).max())


@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("op, threads", [("grad", 1), ("grad", 2), ("hvp", 1)])
def test_peak_extra_memory_is_within_four_blocks(version, op, threads):
    """n = 4096, d = 128, 64-row blocks (2 MiB): per lane the logits' block and half-block scratch (loss+grad
    1.5 blocks; the HVP adds ``dS`` and, rescaled, a half-block ``T``), the 8 partial gradients (d × d, 1 MiB in
    all) and k × d scratch: 2.1 blocks at one thread, 3.7 at two, the HVP 3.1 / 3.6 at one. With a d × n
    ``W = X A2ᵀ`` kept and whole-block scratch, loss+grad was 4.6 blocks at one thread and 6.7 at two
    (tracemalloc, buffers kept from earlier calls released first, as ``benchmarks/run.py --memory-only``)."""
    import tracemalloc

    n, d, k = 4096, 128, 64
    rng = np.random.default_rng(0)
    A1, A2 = rng.standard_normal((n, d)) / d, rng.standard_normal((n, d)) / d
    X, V, B = rng.standard_normal((d, d)), rng.standard_normal((d, d)), rng.dirichlet(np.ones(n), size=n)

    def call(m):
        if op == "grad":
            return attnreg.loss_and_grad(A1[:m], A2[:m], B[:m, :m], X, version=version, block_rows=k, threads=threads)
        return attnreg.hvp(A1[:m], A2[:m], B[:m, :m], X, V, version=version, block_rows=k, threads=threads)

    call(256)  # warm-up
    _fastrows.POOL.release()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call(n)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
        _fastrows.POOL.release()
    assert k * n * 8 <= peak <= 4 * k * n * 8, peak / (k * n * 8)


def test_calls_at_the_same_time_do_not_share_buffers():
    """Concurrent calls (the pool hands each its own buffers) give what the same calls give one by one."""
    from concurrent.futures import ThreadPoolExecutor

    problems = [mixed(n=60, d=3, seed=s) for s in range(6)]

    def call(p):
        return attnreg.loss_and_grad(*p[:4], version="rescaled", block_rows=8, threads=2)

    alone = [call(p) for p in problems]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(call, problems * 3))
    for (L, G), (L1, G1) in zip(alone * 3, together):
        assert float(L) == float(L1) and np.array_equal(G, G1)


def test_row_inner_products_keep_their_bits_for_any_blas_thread_count():
    """OpenBLAS splits one dot product of more than 10000 entries over its threads (another summation order):
    ``dot_rows`` on rows of 20001 gives the same bits at 1 and 2 BLAS threads, within n·u of the exact sum."""
    import math

    from threadpoolctl import threadpool_limits

    o = _fastrows.NumpyOps(np)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 20001)), rng.standard_normal((3, 20001))
    with threadpool_limits(1):
        one = o.dot_rows(a, b)
    with threadpool_limits(2):
        two = o.dot_rows(a, b)
    assert np.array_equal(one, two)
    for j in range(3):
        exact = math.fsum(float(x) for x in a[j] * b[j])  # the products are exact to u; their sum exactly
        assert abs(one[j] - exact) <= 20001 * np.finfo(float).eps * float(np.abs(a[j] * b[j]).sum())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("op", ["grad", "hvp"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_a_repeated_call_takes_only_kept_buffers(version, op, threads, monkeypatch):
    """The second of two equal calls allocates no block buffer (every lane's buffers were kept): a fresh
    buffer costs a first touch of its pages on every call. The rescaled HVP at 2 threads takes 10 buffers."""
    A1, A2, B, X, V = mixed(n=64, d=3, seed=4)
    pool = _fastrows.BufferPool(keep=_fastrows.POOL.keep, max_bytes=_fastrows.POOL.max_bytes)
    monkeypatch.setattr(_fastrows, "POOL", pool)
    fresh, take = [], pool.take

    def spy(np_, shape, dtype):
        before = list(pool.free)
        a, buf = take(np_, shape, dtype)
        fresh.append(not any(buf is b for b in before))
        return a, buf

    monkeypatch.setattr(pool, "take", spy)
    call = ((lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=8, threads=threads))
            if op == "grad" else
            (lambda: attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=8, threads=threads)))
    call()
    fresh.clear()
    call()
    assert fresh and not any(fresh)


def test_rescaled_hvp_reads_each_block_of_B_once(monkeypatch):
    """The rescaled HVP kernel reads a block of B once (into ``T = α b``; every later use of ``b`` reads ``T``):
    B, an n × n input, comes from memory on each read. Every primitive call that is handed memory of B is
    counted."""
    A1, A2, B, X, V = mixed(n=48, d=3, seed=2)
    reads = []
    for name in ("mul", "sub", "add", "dot_rows", "rowsum", "rowmax", "rowmin", "above_half", "where", "exp_"):
        def spy(self, *args, _name=name, _f=getattr(_fastrows.NumpyOps, name), **kw):
            reads.extend((_name,) * a.shape[0] for a in args if isinstance(a, np.ndarray) and np.shares_memory(a, B))
            return _f(self, *args, **kw)
        monkeypatch.setattr(_fastrows.NumpyOps, name, spy)
    attnreg.hvp(A1, A2, B, X, V, version="rescaled", block_rows=8, threads=1)
    assert reads == [("mul",) * 4] * 12           # 6 blocks of 8 rows, in halves of 4 rows: each row read once
    reads.clear()
    attnreg.loss_and_grad(A1, A2, B, X, version="rescaled", block_rows=8, threads=1)
    assert sum(map(len, reads)) == 3 * 48         # the spy sees reads: loss+grad reads each row three times


def test_rescaled_hvp_flags_every_row_with_a_target_entry_above_half():
    """``max T ≥ α/2`` on ``T = fl(α b)`` flags each row with an entry ``b_i > ½``, however close to ½ (and a row
    just below ½ at most costs time), while rows with every entry well below ½ are left to the fast kernel."""
    rng = np.random.default_rng(1)
    k, n = 6, 40
    S0 = 0.1 * rng.standard_normal((k, n))
    B = rng.dirichlet(np.ones(n), size=k)
    above = 0.5 + np.spacing(0.5)
    B[1, :] = (1 - above) / (n - 1)
    B[1, 7] = above
    B[3, :] = 0.0
    B[3, 0] = 1.0
    B[4, :] = 0.4 / (n - 1)
    B[4, 2] = 0.6
    o = _fastrows.NumpyOps(np)
    info = np.finfo(float)
    lo, hi = _fastrows.limits(float(info.max), float(info.smallest_normal), n, "rescaled")
    for scale in (1.0, 2.0**-100, 2.0**100):          # α far from 1 either way (h, dp still calm): T = α b
        S, C, dS, T = S0 + np.log(scale), np.empty((k, n)), rng.standard_normal((k, n)), np.empty((k, n))
        _, flags, _ = _fastrows.rescaled_hvp(o, S, B, C, dS, T, safe=True, lo=lo, hi=hi, big=float(info.max))
        assert flags.tolist() == [False, True, False, True, True, False]
