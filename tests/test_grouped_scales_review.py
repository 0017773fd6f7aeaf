"""Review of the grouped scales (attnreg/_sweep.py, "Groups of scales") against an mpmath evaluation written here
from docs/design.md §2, not from attnreg.verify.oracle: rescaled ``grad = A1ᵀ P A2``, ``P_j = u∘h − ⟨h, b⟩u``,
``h = u − α b``; HVP ``A1ᵀ dP A2`` with ``ds = A1 V A2ᵀ`` and ``dp = du∘h + u∘dh − ⟨dh, b⟩u − ⟨h, b⟩du``.

Rows come in groups: group g reaches only column g of A1 (so only row g of the gradient) and is shifted by
``shifts[g]`` through a column of ones in A2; the last column of A1 is zero (an exact-zero gradient row). Each entry
must be ``inf`` of its sign beyond the range (either sign where the bound below exceeds it), never nan, and
otherwise within ``8·(n + d)·u·T`` of the exact value, ``T`` the entry evaluated with absolute values everywhere
times ``1 + 2·max|S|`` (the logits' own rounding ``|δu/u| ≲ u·|S|``): a magnitude bound, generous by design, which
still fails a zeroed, sign-flipped or doubled entry (tested)."""
import mpmath as mp
import numpy as np
import pytest

import attnreg

DPS = 250


def mpm(a):
    return [[mp.mpf(float(x)) for x in row] for row in np.asarray(a, dtype=np.float64)]


def matmul(A, B):
    return [[mp.fsum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def T(A):
    return [list(r) for r in zip(*A)]


def absm(A):
    return [[abs(x) for x in r] for r in A]


def row_p(s, b, ds, ab):
    """p (grad, ds None) or dp (HVP) of one row; ab: evaluate every term with absolute values (a magnitude bound)."""
    u = [mp.exp(x) for x in s]
    al = mp.fsum(u)
    if ab:
        b = [abs(x) for x in b]
        h = [ui + al * bi for ui, bi in zip(u, b)]
    else:
        h = [ui - al * bi for ui, bi in zip(u, b)]
    hb = mp.fsum(hi * bi for hi, bi in zip(h, b))
    if ab:
        hb = abs(hb)
    if ds is None:
        return [ui * hi + hb * ui for ui, hi in zip(u, h)] if ab else [ui * hi - hb * ui for ui, hi in zip(u, h)]
    if ab:
        ds = [abs(x) for x in ds]
    du = [ui * x for ui, x in zip(u, ds)]
    dal = mp.fsum(du)
    sg = 1 if ab else -1
    dh = [dui + sg * dal * bi for dui, bi in zip(du, b)]
    dhb = mp.fsum(x * bi for x, bi in zip(dh, b))
    if ab:
        dhb = abs(dhb)
    return [du[m] * h[m] + u[m] * dh[m] + sg * dhb * u[m] + sg * hb * du[m] for m in range(len(u))]


def exact(A1, A2, B, X, V=None):
    """(value, magnitude bound T), d × d lists of mpf (module docstring)."""
    a1, a2, b, x = mpm(A1), mpm(A2), mpm(B), mpm(X)
    S = matmul(a1, matmul(x, T(a2)))
    Sabs = matmul(absm(a1), matmul(absm(x), T(absm(a2))))
    dS = dSabs = None
    if V is not None:
        v = mpm(V)
        dS = matmul(a1, matmul(v, T(a2)))
        dSabs = matmul(absm(a1), matmul(absm(v), T(absm(a2))))
    P, Pabs = [], []
    for j in range(len(S)):
        P.append(row_p(S[j], b[j], None if dS is None else dS[j], False))
        # magnitude, with the logits' own rounding: |δu/u| ≲ d·eps·Sabs (relative), counted as a factor
        mag = row_p(S[j], b[j], None if dS is None else dSabs[j], True)
        amp = max(Sabs[j]) + (0 if dS is None else 1)
        Pabs.append([m * (1 + 2 * amp) for m in mag])
    G = matmul(T(a1), matmul(P, a2))
    Gabs = matmul(T(absm(a1)), matmul(Pabs, absm(a2)))
    return G, Gabs


def judge(got, G, Gabs, dtype, n, d, K=8):
    """The entries that break the rule of the module docstring."""
    fi = np.finfo(dtype)
    eps, big = mp.mpf(float(fi.eps)), mp.mpf(float(fi.max))
    got = np.asarray(got, dtype=np.float64)
    worst, bad = 0.0, []
    for i in range(len(G)):
        for k in range(len(G)):
            g, e, t = float(got[i, k]), G[i][k], Gabs[i][k]
            allowed = K * eps * t * (n + d)
            if np.isnan(g):
                bad.append((i, k, "nan", mp.nstr(e, 5)))
                continue
            if np.isinf(g):
                if abs(e) + allowed > big and ((e > 0) == (g > 0) or allowed >= abs(e)):
                    continue
                bad.append((i, k, f"inf {g}", mp.nstr(e, 8), "allowed", mp.nstr(allowed, 3)))
                continue
            if abs(e) - allowed > big:
                bad.append((i, k, f"finite {g}", "exact", mp.nstr(e, 8)))
                continue
            err = abs(mp.mpf(g) - e)
            # underflow: dtype's smallest normal absolute slack
            err = max(mp.mpf(0), err - mp.mpf(float(fi.tiny)) * 4 * (n + d) ** 2)
            if err == 0:
                continue
            r = float(err / allowed) if allowed > 0 else float("inf")
            worst = max(worst, r)
            if r > 1:
                bad.append((i, k, g, "exact", mp.nstr(e, 10), "ratio", r))
    return bad


def case(seed, n, d, shifts, dtype, onehot=False):
    """Module docstring: rows in groups, group g shifted by ``shifts[g]``, the last column of A1 zero."""
    rng = np.random.default_rng(seed)
    A1 = np.zeros((n, d))
    for j, g in enumerate(rng.integers(0, d, n)):
        if g < d - 1:
            A1[j, g] = rng.choice([1.0, -1.0, 0.5 + rng.random()])
        else:  # an ordinary row
            A1[j, 1:d - 1] = rng.standard_normal(d - 2) * 0.01
    A2 = rng.standard_normal((n, d))
    A2[:, 0] = 1.0
    X = rng.standard_normal((d, d)) * 0.3
    X[:, 0] = list(shifts) + [0.0] * (d - len(shifts))
    B = np.eye(n)[rng.integers(0, n, n)] if onehot else rng.dirichlet(np.ones(n), size=n)
    return [np.asarray(a, dtype=dtype) for a in (A1, A2, B, X, rng.standard_normal((d, d)))]


CASES = [(0, 12, 5, (0.0, 300.0, 600.0, 900.0), np.float64, 2, False),
         (1, 12, 5, (-350.0, 88.0, 89.5, 500.0), np.float64, None, True),
         (2, 12, 5, (10.0, 30.0, 45.0, 60.0), np.float32, 3, False),
         (3, 12, 5, (-40.0, 11.0, 12.0, 50.0), np.float32, None, True)]


def _libraries():
    out = [("numpy", lambda a: a, np.asarray)]
    for name in ("torch", "array_api_strict"):
        try:
            lib = __import__(name)
        except ImportError:
            continue
        out.append((name, (lambda a, lib=lib: lib.from_numpy(a.copy())) if name == "torch" else lib.asarray,
                    (lambda a: a.numpy()) if name == "torch" else np.asarray))
    return out


@pytest.mark.parametrize("quantity", ["grad", "hvp"])
@pytest.mark.parametrize("seed, n, d, shifts, dtype, block, onehot", CASES, ids=[str(c[0]) for c in CASES])
def test_grouped_scales_entry_by_entry(seed, n, d, shifts, dtype, block, onehot, quantity):
    A1, A2, B, X, V = case(seed, n, d, shifts, dtype, onehot)
    with mp.workdps(DPS):
        G, T = exact(A1, A2, B, X, V if quantity == "hvp" else None)
        for name, to, back in _libraries():
            a = [to(x) for x in (A1, A2, B, X, V)]
            got = back(attnreg.grad(*a[:4], version="rescaled", block_rows=block) if quantity == "grad"
                       else attnreg.hvp(*a, version="rescaled", block_rows=block))
            assert np.any(np.isfinite(got) & (got != 0)) and not judge(got, G, T, dtype, n, d), name
            if name == "numpy":  # the rule fails a wrong entry
                i = np.flatnonzero(np.isfinite(got) & (got != 0))[0]
                for wrong in (0.0, -got.flat[i], 2 * got.flat[i]):
                    forged = got.copy()
                    forged.flat[i] = wrong
                    assert judge(forged, G, T, dtype, n, d), wrong


# slow tier: eager JAX compiles each new op shape on first use (11-15 s each here); that an eager JAX array is read
# and a tracer is not (attnreg._validate.readable, which picks the grouped scales) is tested in tests/test_jax.py
@pytest.mark.slow
@pytest.mark.parametrize("quantity", ["grad", "hvp"])
@pytest.mark.parametrize("seed, n, d, shifts, dtype, block, onehot", CASES[:1], ids=[str(c[0]) for c in CASES[:1]])
def test_grouped_scales_on_eager_jax(seed, n, d, shifts, dtype, block, onehot, quantity):
    """Eager JAX arrays kept one common scale: array_api_compat's ``is_lazy_array`` is True for every JAX array, so
    the spread was never read (15 of the 25 entries wrong: 0 in place of ~1 or of inf). Under ``jax.jit`` the rows
    still keep one common scale (traced values cannot be read; attnreg/_sweep.py)."""
    jax = pytest.importorskip("jax")
    A1, A2, B, X, V = case(seed, n, d, shifts, dtype, onehot)
    with jax.enable_x64(True), mp.workdps(DPS):
        a = [jax.numpy.asarray(x) for x in (A1, A2, B, X, V)]
        got = np.asarray(attnreg.grad(*a[:4], version="rescaled", block_rows=block) if quantity == "grad"
                         else attnreg.hvp(*a, version="rescaled", block_rows=block))
        G, T = exact(A1, A2, B, X, V if quantity == "hvp" else None)
        assert not judge(got, G, T, dtype, n, d)
