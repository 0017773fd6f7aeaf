"""Third adversarial pass over the fast path's decision logic (``_probe`` in attnreg/_fastsweep.py, as of 3d3c89c).

Harness reused from tests/test_fastpath_attack.py: expected values from ``attnreg.reference`` (proven-digit arb
balls), the stable generic kernels (array_api_strict) as the control showing an input is fair, the a-priori rule
``allowed`` = max(4 × stable error, 16·(τ + n)·u), ``production()`` with warnings as errors, and the torch
"device path" emulated by making ``host_views`` return None.

Defects found, all fixed since (their tests are regression tests; the probe now checks ``max|A2|`` against
``u/(d²·s)``, the lanes look for subnormal entries in the ``A1_b V`` they form, and a column's rounding must
also exceed ``u^{1/3}`` in absolute terms):

* **Subnormal ``A1_b X`` with a huge ``A2`` (loss / gradient).** The probe never looks at the size of ``A1_b X``
  from below. The module docstring bounds the subnormal error of a logit by ``d²·2⁻¹⁰⁷⁵·max|A2|`` and calls it
  negligible "while max|A2| < 2¹⁰²²/d²", but nothing enforces that premise; in float32 the same bound is
  ``d²·2⁻¹⁵⁰·max|A2|`` (up to 2⁻⁶ at d = 256). Construction: A1 = 2⁻ᵉ in column 0 only, X row 0 = 2⁻ᵉ·2.9, so
  every entry of ``A1_b X`` is 1.45 units of the least subnormal and rounds to 1 (the logits come out ×0.69);
  A2 = ±1.875·2^top. The stable kernels (W = X A2ᵀ is normal) are accurate.
* **Subnormal ``A1_b V`` hidden by ``max_j‖a_j‖·‖V‖_F`` (HVP).** The tiny-direction test uses an *upper* bound on
  the entries of ``A1_b V``: when A1 annihilates V's one large row (A1's column 0 is 0) the rest of ``A1_b V`` is
  subnormal (a few bits) while ``‖a_j‖·‖V‖_F ≈ 1``; V's large row is not annihilated by A2, so the per-column
  cancellation test sees nothing. HVP off by 0.3%–2% where the stable kernels are exact to u.

Performance defects (false positives of the cancellation rule, fixed as above):
in float32 ``u^{-1/3}`` is only 2⁸ and the rule compares ``‖X‖_F·‖a2_k‖`` (not ``‖|X||a2_k|‖``) with
``‖X a2_k‖``, so one-hot X, rank-1 X, and diagonal X against one-hot rows of A2 (all computed exactly, no
cancellation at all) are sent to the stable kernels: ~21× slower at n = 2048, d = 64.

Passing probes (regression tests): non-finite inputs in every argument and every hiding place the probe's scaling
offers raise ValueError (NumPy, torch CPU, device path); the safety decision on extreme scalings; no warnings; the
same bits at one and two threads.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import attnreg
from attnreg import _fastrows

from test_fastpath_attack import (VERSIONS, allowed, device, needs_torch, probe, production, reference, relerr, stable,
                                  torch)

DTYPES = {"float32": (np.float32, 2.0**-24), "float64": (np.float64, 2.0**-53)}


# ---- defect 1: subnormal A1_b X, huge A2 -----------------------------------------------------------------------

def subnormal_ax_case(dt, version="normalized"):
    d, n = 256, 2
    e, top = (75, 127) if dt == np.float32 else (537, 1023)
    A1 = np.zeros((n, d))
    A1[:, 0] = 2.0**-e
    X = np.zeros((d, d))
    X[0, :] = 2.0**-e * 2.9                   # A1[j,0]·X[0,l] = 1.45 × the least subnormal: rounds to 1 of it
    A2 = np.full((n, d), 1.875 * 2.0**top)
    A2[1] *= -1
    # rescaled: target entries below ½ so no row is flagged (flagged rows are redone)
    B = np.array([[0.9, 0.1], [0.2, 0.8]]) if version == "normalized" else np.array([[0.45, 0.05], [0.1, 0.4]])
    out = [a.astype(dt) for a in (A1, A2, B, X)]
    Ax = out[0] @ out[3]
    assert 0 < np.abs(Ax).max() < np.finfo(dt).smallest_normal and probe(out[0], out[1], out[3]) == -1  # caught
    return out


@functools.lru_cache(maxsize=None)
def subnormal_ax_expected(dtype, version):
    A1, A2, B, X = subnormal_ax_case(DTYPES[dtype][0], version)
    return reference(A1, A2, B, X, version=version), stable(A1, A2, B, X, version=version)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
def test_subnormal_ax_case_is_fair(dtype, version):
    dt, u = DTYPES[dtype]
    exact, got = subnormal_ax_expected(dtype, version)
    assert relerr(got[0], exact[0]) < 16 * u and relerr(got[1], exact[1]) < 16 * u


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
def test_fast_path_subnormal_ax(version, dtype):
    # before the fix: normalized float32 gradient relerr 5.2e-4 (allowed 3.8e-6, stable 2.8e-7), float64 2.1e-13
    # (allowed 7.1e-15, stable 4.4e-16); rescaled float32 loss 1.4e-5 (allowed 3.8e-6), float64 gradient 5.9e-13
    # (7.1e-15)
    dt, u = DTYPES[dtype]
    A1, A2, B, X = subnormal_ax_case(dt, version)
    exact, base = subnormal_ax_expected(dtype, version)
    tol = allowed(A1, A2, X, max(relerr(base[0], exact[0]), relerr(base[1], exact[1])), u=2 * u)
    L, G, _ = production(A1, A2, B, X, version=version)
    assert relerr(L, exact[0]) <= tol and relerr(G, exact[1]) <= tol


# ---- defect 2: subnormal A1_b V behind a large max‖a_j‖·‖V‖_F --------------------------------------------------

def annihilated_v_case(dt, seed=0):
    rng = np.random.default_rng(seed)
    n, d = 8, 16
    big, tiny = (100, 145) if dt == np.float32 else (1000, 1068)
    A1 = rng.uniform(-1, 1, (n, d))
    A1[:, 0] = 0.0                                           # A1 annihilates V's row 0
    A2 = rng.uniform(-1, 1, (n, d)) * 2.0**big
    X = rng.uniform(-1, 1, (d, d)) * 2.0**-big
    V = rng.integers(-7, 8, (d, d)) * 2.0**-tiny            # rows 1..: a few bits above the least subnormal
    V[0] = rng.uniform(-1, 1, d)                             # row 0: O(1), so max‖a_j‖·‖V‖_F ≈ 1
    B = rng.dirichlet(np.ones(n), size=n)
    out = [a.astype(dt) for a in (A1, A2, B, X, V)]
    assert 0 < np.abs(out[0] @ out[4]).max() < np.finfo(dt).smallest_normal
    # the probe lets it through; the lanes find the subnormal A1_b V and the call is redone by the stable kernels
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
def test_annihilated_v_case_is_fair(dtype, version):
    dt, u = DTYPES[dtype]
    A1, A2, B, X, V = annihilated_v_case(dt)
    exact = reference(A1, A2, B, X, V, version=version)[2]
    assert relerr(stable(A1, A2, B, X, V, version=version)[2], exact) < 64 * u


@pytest.mark.parametrize("lib", ["numpy", pytest.param("torch", marks=needs_torch)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("version", VERSIONS)
def test_fast_hvp_annihilated_v(version, dtype, lib):
    # before the fix (numpy): float64 relerr 3.1e-3 / 1.9e-3, float32 6.3e-3 / 2.0e-2; allowed 2e-13 / 1e-4
    dt, u = DTYPES[dtype]
    A1, A2, B, X, V = annihilated_v_case(dt)
    exact = reference(A1, A2, B, X, V, version=version)[2]
    base = relerr(stable(A1, A2, B, X, V, version=version)[2], exact)
    H = production(A1, A2, B, X, V, version=version, lib=lib)[2]
    assert relerr(H, exact) <= allowed(A1, A2, X, base, u=2 * u)


# ---- performance defect: false positives of the cancellation rule (float32) -----------------------------------------
# These are plain tests: they FAIL until the rule stops sending exact products to the stable kernels (measured:
# one-hot X at n = 2048, d = 64, float32, normalized loss_and_grad, 1 thread: 0.60 s vs 0.029 s with X perturbed
# by 1e-3 noise, which takes the fast path).

def realistic(dt, n=2048, d=64, seed=0):
    rng = np.random.default_rng(seed)
    A1 = (rng.standard_normal((n, d)) / np.sqrt(d)).astype(dt)
    A2 = (rng.standard_normal((n, d)) / np.sqrt(d)).astype(dt)
    return rng, A1, A2


def one_hot_X(rng, d):
    X = np.zeros((d, d))
    X[3, 5] = 1.0
    return X


def rank_one_X(rng, d):
    return np.outer(rng.standard_normal(d), rng.standard_normal(d))


FALSE_POSITIVES = {"one-hot X": one_hot_X, "rank-1 X": rank_one_X}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", FALSE_POSITIVES)
def test_no_false_cancellation_low_rank_X(kind, dtype):
    dt, _ = DTYPES[dtype]
    rng, A1, A2 = realistic(dt)
    X = FALSE_POSITIVES[kind](rng, A1.shape[1]).astype(dt)
    assert probe(A1, A2, X) != -1          # float32: −1 (performance defect); float64: passes


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_false_cancellation_diagonal_X_one_hot_A2(dtype):
    dt, _ = DTYPES[dtype]
    rng, A1, _ = realistic(dt)
    d = A1.shape[1]
    A2 = np.eye(d, dtype=dt)[rng.integers(0, d, A1.shape[0])]          # identity-like A2
    X = np.diag(np.linspace(1, 1e-3, d)).astype(dt)                    # X a2_k = x_l e_l: exact, no cancellation
    assert probe(A1, A2, X) != -1          # float32: −1 (performance defect); float64: passes


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_false_cancellation_regression(dtype):
    """Inputs the rule already leaves on the fast path (regression)."""
    dt, _ = DTYPES[dtype]
    rng, A1, A2 = realistic(dt)
    d = A1.shape[1]
    V = rng.standard_normal((d, d)).astype(dt)
    for X in (rng.standard_normal((d, d)), rng.standard_normal((d, 4)) @ rng.standard_normal((4, d)),
              np.eye(d), np.diag(np.logspace(0, -3, d)), np.zeros((d, d))):
        assert probe(A1, A2, X.astype(dt)) != -1 and probe(A1, A2, X.astype(dt), V) != -1
    A2d = np.repeat(A2[: A1.shape[0] // 4], 4, axis=0)                 # duplicated rows of A2
    assert probe(A1, A2d, rng.standard_normal((d, d)).astype(dt)) != -1


# ---- non-finite inputs: a clear ValueError everywhere ---------------------------------------------------------------

def small(dt, seed=5):
    rng = np.random.default_rng(seed)
    n, d = 6, 3
    return [a.astype(dt) for a in (rng.standard_normal((n, d)), rng.standard_normal((n, d)),
                                   rng.dirichlet(np.ones(n), size=n), rng.standard_normal((d, d)),
                                   rng.standard_normal((d, d)))]


PLACES = ["A1", "A2", "B", "X", "V"]
BADS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
HIDES = ["one", "only", "huge-rest", "tiny-rest"]  # one bad entry; the only nonzero; beside 1e300 / subnormals


def poisoned(dt, place, bad, hide):
    arrs = dict(zip(PLACES, small(dt)))
    M = arrs[place]
    if hide == "only":
        M[...] = 0
    elif hide == "huge-rest":
        M *= np.finfo(dt).max / 8
    elif hide == "tiny-rest":
        M *= np.finfo(dt).smallest_subnormal * 4
    M[1, 2] = BADS[bad]
    return arrs


# NumPy covers every hiding place; torch CPU takes the same NumPy sweep and the device path the same probe, so
# they run the first two only
LIB_HIDES = [(lib, hide) for lib in ("numpy", "torch", "device") for hide in HIDES
             if lib == "numpy" or hide not in ("huge-rest", "tiny-rest")]


@pytest.mark.parametrize("lib,hide", [pytest.param(lib, hide, marks=() if lib == "numpy" else needs_torch)
                                      for lib, hide in LIB_HIDES])
@pytest.mark.parametrize("bad", BADS)
@pytest.mark.parametrize("place", PLACES)
def test_non_finite_raises(place, bad, hide, lib, monkeypatch):
    if lib == "device":
        device(monkeypatch)
    for dt in (np.float64, np.float32):
        a = poisoned(dt, place, bad, hide)
        conv = (lambda m: m) if lib == "numpy" else torch.asarray
        A1, A2, B, X, V = (conv(a[k]) for k in PLACES)
        for version in VERSIONS:
            calls = [lambda: attnreg.hvp(A1, A2, B, X, V, version=version)]
            if place != "V":
                calls += [lambda: attnreg.loss(A1, A2, B, X, version=version),
                          lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version),
                          lambda: attnreg.grad(A1, A2, B, X, version=version)]
            for call in calls:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    with pytest.raises(ValueError, match=place):
                        call()


# ---- the safety decision on extreme scalings (regression) -----------------------------------------------------------

def scaled_family(dt, kind, seed=3):
    """Moderate logits behind extreme factors (the probe's log2 scales), one-entry matrices, zero rows/columns."""
    rng = np.random.default_rng(seed)
    n, d = 9, 4
    A1, A2 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    X, V = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    hi = 2.0**60 if dt == np.float32 else 2.0**480
    if kind == "A1 huge X tiny":
        A1, X, V = A1 * hi, X / hi, V / hi
    elif kind == "A2 huge X tiny":
        A2, X, V = A2 * hi, X / hi, V / hi
    elif kind == "X huge A1 A2 tiny":
        A1, A2, X, V = A1 / hi, A2 / hi, X * hi * hi / 4, V * hi * hi / 4
    elif kind == "single entries":
        A1, X, V = np.zeros_like(A1), np.zeros_like(X), np.zeros_like(V)
        A1[2, 1], X[1, 3], V[1, 0] = 3.0, 2.5, -1.5
    elif kind == "zero rows":
        A1[::2] = 0
        A2[1::3] = 0
        X[:, 0] = 0
    elif kind == "window edge":  # logits right at the normalized window's top
        X *= 0
        X[0, 0] = 1
        A1 = np.abs(A1)
        A1[:, 1:] = 0
        A2 = np.abs(A2)
        A2[:, 1:] = 0
        info = np.finfo(dt)
        hi_n = _fastrows.limits(float(info.max), float(info.smallest_normal), n, "normalized")[1]
        A1 *= math.sqrt(hi_n * 0.999) / A1[:, 0].max()
        A2 *= math.sqrt(hi_n * 0.999) / A2[:, 0].max()
    B = rng.dirichlet(np.ones(n), size=n)
    return [a.astype(dt) for a in (A1, A2, B, X, V)]


KINDS = ["A1 huge X tiny", "A2 huge X tiny", "X huge A1 A2 tiny", "single entries", "zero rows", "window edge"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_extreme_scalings_match_reference(version, kind, dtype):
    dt, u = DTYPES[dtype]
    A1, A2, B, X, V = scaled_family(dt, kind)
    exact = reference(A1, A2, B, X, V, version=version)
    base = stable(A1, A2, B, X, V, version=version)
    runs = set()
    for th in (1, 2):
        got = production(A1, A2, B, X, V, version=version, threads=th, block_rows=2)
        runs.add(tuple(np.asarray(g).tobytes() for g in got))
        for g, e, b in zip(got, exact, base):
            g, e, b = (np.asarray(t, dtype=np.float64) for t in (g, e, b))
            over = np.abs(e) > float(np.finfo(dt).max)      # true value beyond the dtype: ±inf is right
            assert np.array_equal(g[over], np.sign(e[over]) * np.inf) and not np.isnan(g).any(), kind
            if (~over).any():
                assert relerr(g[~over], e[~over]) <= allowed(A1, A2, X, relerr(b[~over], e[~over]), u=2 * u), kind
    assert len(runs) == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_probe_bound_covers_computed_logits(dtype):
    """sqrt(bound)·(1 + 2⁻²⁰) ≥ max |fl((A1 X) A2ᵀ)| on random and scaled inputs (the quantity run() compares)."""
    dt, _ = DTYPES[dtype]
    for kind in KINDS:
        A1, A2, B, X, V = scaled_family(dt, kind)
        b = probe(A1, A2, X)
        if b == -1:
            continue
        with np.errstate(all="ignore"):
            S = np.abs((A1 @ X) @ A2.T).max()
        assert math.sqrt(b) * (1 + 2**-20) >= S, (kind, math.sqrt(b), S)
