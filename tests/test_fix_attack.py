"""Adversarial checks of four fixes made after tests/test_redo_attack.py: cc6686f (the normalized redo replaces only
the plain ``A1ᵀP``'s entries that are not finite, the two parts combined entrywise after the product by A2),
dc9e756 (fast-kernel operands aligned + row-major, ``dot_rows`` copies a strided operand), ac9c54f (a nan row scale
gets a bin of its own) and 2e6b1ba (the HVP's default block is half the loss+grad's rows).

Truth: :func:`truth`, written for this file from the definitions (mpmath, 70 digits; the inputs keep the logits
O(1), so no saturation needs more), ``P = F∘C − rowsum(F∘C)·F``, ``∇L = A1ᵀ P A2`` summed exactly, the HVP as the
complex-step derivative of that gradient. The rule is tests/test_matmul_attack.py's ``16·(τ + n)·u`` entrywise.

Defects found: none attributable to the four fixes. A random search (n 2–6, d 1–2, magnitudes 10^±300, both versions,
numpy / array_api_strict / torch CPU / the mocked device path, block_rows 1..n, threads 1/2; ~900 flagged runs in
100 s) found only failures that the parent 944d53e shares bit for bit on NumPy: the normalized HVP's nan where A1 V A2ᵀ
is huge (R3 of the seventh attack), nan where the logits overflow (R7's known limit) and relative errors of the order
of the rule on sums that cancel; no exception from finite inputs on any path (the parent raised R7's ValueError).

Held (regression tests below): a normalized gradient / HVP whose plain A1ᵀP overflows in one column only (the other
column's finite entries kept, combined with the redone ones through A2 with opposite signs), every path, block_rows
1/2/5, threads 1/2, float64; the R7 input on every path and both versions raises nothing; the same bits for A1, A2,
B, X, V in Fortran order, negative strides, unaligned, shifted by 1 or 3 elements in a bigger buffer, as column
slices of a wider array, threads 1 and 2, float64 and float32, both versions, loss_and_grad and hvp, and transposed
torch views on the host and device paths (checked by hand at n = 301 and 257; here a smaller set); the HVP's
half-row default blocks give the same bits at threads 1 and 2 and agree with explicit blocks within the rule where
the halving meets MIN_ROWS or n (BLOCK_BYTES patched small).

A gap: ``test_plain_and_redone_columns_combined`` does not reach the redo on NumPy (the fast path's ``A1ᵀ(P A2)``
stays finite there, a spy on ``_generic(plain=…)`` saw no call); tests/test_redo_attack.py's R1 tests do reach it (a
plain sum with finite and non-finite entries, combined). At n = 700 (one block) the HVP's bits at 1 and 2 threads
differ: BLAS then runs two threads in the one lane, the limit the README states.
"""
import warnings

import mpmath
import numpy as np
import pytest

import attnreg
import attnreg._fastsweep as fs
import attnreg._sweep as sweep_mod
import attnreg._threads as th

try:
    import torch
except ImportError:
    torch = None
try:
    import array_api_strict as xs
except ImportError:
    xs = None

EPS = float(np.finfo(np.float64).eps)
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
LIBS = ["numpy", pytest.param("strict", marks=pytest.mark.skipif(xs is None, reason="no array_api_strict")),
        pytest.param("torch", marks=needs_torch), pytest.param("device", marks=needs_torch)]


def truth(A1, A2, B, X, V, dps=70):
    """(∇L, ∇²L[V]) of the normalized loss, from the definitions."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    m = lambda a: ctx.matrix([[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(a)])  # noqa: E731
    A1m, A2m, Bm, Xm, Vm = m(A1), m(A2), m(B), m(X), m(V)

    def g(Xc):
        S = A1m * Xc * A2m.T
        n = S.rows
        P = ctx.matrix(n, n)
        for j in range(n):
            u = [ctx.exp(S[j, k]) for k in range(n)]
            a = ctx.fsum(u)
            f = [x / a for x in u]
            c = [f[k] - Bm[j, k] for k in range(n)]
            fc = ctx.fsum(f[k] * c[k] for k in range(n))
            for k in range(n):
                P[j, k] = f[k] * (c[k] - fc)
        return A1m.T * P * A2m

    h = ctx.mpf(10) ** -40
    G = g(Xm)
    Gc = g(Xm + ctx.mpc(0, 1) * h * Vm)
    return (np.array([[float(G[i, k]) for k in range(G.cols)] for i in range(G.rows)]),
            np.array([[float(ctx.im(Gc[i, k]) / h) for k in range(Gc.cols)] for i in range(Gc.rows)]))


def rule(A1, A2, X):
    return 16 * (float((np.abs(A1) @ np.abs(X) @ np.abs(A2).T).max()) + A1.shape[0]) * EPS


def within(got, exact, r):
    got = np.asarray(got, dtype=np.float64)
    if np.isnan(got).any():
        return False
    fin = np.isfinite(exact)
    if not np.array_equal(got[~fin], exact[~fin]):
        return False
    return bool(np.all(np.abs(got[fin] - exact[fin]) <= r * np.abs(exact[fin])))


def run(lib, args, version="normalized", **kw):
    conv = {"numpy": lambda a: a, "strict": lambda a: xs.asarray(a),
            "torch": lambda a: torch.asarray(a), "device": lambda a: torch.asarray(a)}[lib]
    a = [conv(x) for x in args]
    with pytest.MonkeyPatch.context() as mp:
        if lib == "device":
            mp.setattr(fs, "host_views", lambda torch, *arrays: None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = attnreg.grad(*a[:4], version=version, **kw)
            H = attnreg.hvp(*a, version=version, **kw)
    f = lambda v: np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64)  # noqa: E731
    return f(G), f(H)


def one_column_case():
    """Column 0 of A1 holds ±1.5e308 in rows 0–2, whose targets are ×100 (|p| up to 5.6), so the plain A1ᵀP
    overflows in its row 0 only; column 1 is ordinary: G = A1ᵀP has one redone row and one kept row, and A2 mixes them
    with opposite signs. The logits stay O(1). (As the attack first wrote it, with targets ≤ 1, the plain sum stayed
    finite and no path reached the redo; ``test_plain_and_redone_columns_combined`` now checks that it does.)"""
    A1 = np.array([[1.5e308, 0.7], [1.4e308, -0.3], [-1.3e308, 1.1], [0.0, -0.9], [0.0, 0.4]])
    A2 = np.array([[3e-309 * 1e8, 0.5], [-2e-301, -0.8], [1e-300, 0.3], [4e-301, 1.2], [-1e-300, -0.6]])
    X = np.array([[1e-8, 0.0], [2e-9, -0.7]])
    B = np.array([[0.1, 0.2, 0.3, 0.2, 0.2], [0.5, 0.1, 0.1, 0.2, 0.1], [0.0, 0.0, 1.0, 0.0, 0.0],
                  [0.2, 0.2, 0.2, 0.2, 0.2], [0.9, 0.0, 0.0, 0.1, 0.0]])
    B[:3] *= 100
    V = np.array([[1e-8, 0.0], [0.3, 2e-9]])
    return A1, A2, B, X, V


_CACHE = {}


def one_column_truth():
    if "t" not in _CACHE:
        _CACHE["t"] = truth(*one_column_case())
    return _CACHE["t"]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("block_rows,threads", [(1, 1), (2, 2), (5, 1), (None, 2)])
def test_plain_and_redone_columns_combined(lib, block_rows, threads, monkeypatch):
    args = one_column_case()
    G, H = one_column_truth()
    redone = []
    real = sweep_mod._generic

    def spy(*a, **k):
        redone.append(k.get("plain") is not None)
        return real(*a, **k)

    monkeypatch.setattr(sweep_mod, "_generic", spy)
    monkeypatch.setattr(fs, "_generic", spy)
    g, h = run(lib, args, block_rows=block_rows, threads=threads)
    assert any(redone)  # the plain sum overflowed and was redone (grad and hvp both ran)
    r = rule(args[0], args[1], args[3])
    cond = _gradient_condition(args)  # G[0, 1] cancels ~217-fold (A1's signs, A2's column 1): the rule times that
    assert 100 < cond.max() < 1e3
    assert within(g, G, r * cond.max()), (g, G)
    assert within(h, H, r), (h, H)


def _gradient_condition(args):
    """``(|A1|ᵀ|P||A2|)/|A1ᵀ P A2|`` entrywise, ``P`` from the stable kernel and every factor scaled by 2⁻⁶⁰ (exact) so
    that nothing overflows: a conditioning estimate, not a truth."""
    import array_api_compat.numpy as xnp

    from attnreg import _rows

    A1, A2, B, X, _ = args
    _, P = _rows.normalized(A1 @ X @ A2.T, B, xp=xnp)
    A1s = A1 * 2.0**-60
    return (np.abs(A1s).T @ np.abs(P) @ np.abs(A2)) / np.abs(A1s.T @ P @ A2)


R7_INPUT = (np.array([[1.0], [-1.0]]), np.array([[1e200], [-1e200]]), np.array([[0.5, 0.5], [0.5, 0.5]]),
            np.array([[1e200]]), np.array([[1.0]]))


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_overflowing_logits_do_not_raise(lib, version):
    """ac9c54f: logits that overflow from finite inputs: an answer (its value is R7's known limit), no exception."""
    for br in (1, 2):
        run(lib, R7_INPUT, version=version, block_rows=br, threads=2)


def _layout_inputs(dt, n=67, d=5, seed=1):
    rng = np.random.default_rng(seed)
    A1, A2 = rng.standard_normal((n, d)).astype(dt), rng.standard_normal((n, d)).astype(dt)
    X, V = (0.5 * rng.standard_normal((d, d))).astype(dt), rng.standard_normal((d, d)).astype(dt)
    B = rng.random((n, n)).astype(dt)
    return [A1, A2, B, X, V / 1]


def _unaligned(a):
    buf = np.empty(a.nbytes + 1, np.uint8)
    u = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    return u


def _shifted(a, k):
    buf = np.empty(a.size + 8, a.dtype)
    u = buf[k:k + a.size].reshape(a.shape)
    u[...] = a
    return u


def _column_slice(a):
    big = np.zeros((a.shape[0], 2 * a.shape[1] + 3), a.dtype)
    big[:, 1:1 + a.shape[1]] = a
    return big[:, 1:1 + a.shape[1]]


LAYOUTS = {"fortran": np.asfortranarray, "negative": lambda a: a[::-1, ::-1].copy()[::-1, ::-1],
           "unaligned": _unaligned, "shift1": lambda a: _shifted(a, 1), "shift3": lambda a: _shifted(a, 3),
           "slice": _column_slice}


def _bits(args, version, threads, block_rows=13):
    L, G = attnreg.loss_and_grad(*args[:4], version=version, block_rows=block_rows, threads=threads)
    H = attnreg.hvp(*args, version=version, block_rows=block_rows, threads=threads)
    return [np.asarray(v).tobytes() for v in (L, G, H)]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_same_bits_any_layout(dt, version):
    args = _layout_inputs(dt)
    ref = _bits(args, version, 1)
    for i in range(5):
        for name, lay in LAYOUTS.items():
            a = list(args)
            a[i] = lay(args[i])
            for t in (1, 2):
                assert _bits(a, version, t) == ref, (i, name, t)


@needs_torch
@pytest.mark.parametrize("device", [False, True])
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_same_bits_transposed_torch_views(device, version, monkeypatch):
    args = [torch.from_numpy(a) for a in _layout_inputs(np.float64)]
    if device:
        monkeypatch.setattr(fs, "host_views", lambda torch, *arrays: None)
    ref = _bits(args, version, 1)
    for i in range(5):
        a = list(args)
        a[i] = args[i].T.contiguous().T
        assert _bits(a, version, 2) == ref, i


def test_torch_cpu_tensors_are_viewed_not_copied():
    t = torch.zeros((3, 2), dtype=torch.float64) if torch is not None else None
    if t is None:
        pytest.skip("torch is not installed")
    v = fs.host_views(torch, t)[0]
    assert np.shares_memory(attnreg._fastrows.NumpyOps(np).contiguous(v), t.numpy())


@pytest.mark.parametrize("n,budget", [(50, 1000), (100, 1000), (200, 200 * 8 * 100)])
def test_hvp_half_blocks_at_min_rows_and_n(n, budget, monkeypatch):
    """2e6b1ba: BLOCK_BYTES patched so that the halving meets MIN_ROWS (n = 100), n itself (n = 50) or gives
    blocks of 50 rows (n = 200): the same bits for 1 and 2 threads, within the rule of explicit whole blocks."""
    monkeypatch.setattr(th, "BLOCK_BYTES", budget)
    rng = np.random.default_rng(n)
    A1, A2 = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    X, V, B = 0.3 * rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.random((n, n))
    for version in ("normalized", "rescaled"):
        h1 = attnreg.hvp(A1, A2, B, X, V, version=version, threads=1)
        h2 = attnreg.hvp(A1, A2, B, X, V, version=version, threads=2)
        assert h1.tobytes() == h2.tobytes()
        ref = attnreg.hvp(A1, A2, B, X, V, version=version, block_rows=n, threads=1)
        r = 2 * rule(A1, A2, X)  # each is within the rule of the truth: they differ by at most twice it
        assert np.allclose(h1, ref, rtol=r, atol=r * np.abs(ref).max())


@pytest.mark.slow
@pytest.mark.parametrize("n", [1500, 3000])  # n = 700 is one block: BLAS then runs 2 threads, README's stated limit
def test_hvp_default_blocks_same_bits_threads(n):
    rng = np.random.default_rng(n)
    A1, A2 = rng.standard_normal((n, 4)), rng.standard_normal((n, 4))
    X, V, B = 0.3 * rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), rng.random((n, n))
    for version in ("normalized", "rescaled"):
        assert (attnreg.hvp(A1, A2, B, X, V, version=version, threads=1).tobytes()
                == attnreg.hvp(A1, A2, B, X, V, version=version, threads=2).tobytes())
