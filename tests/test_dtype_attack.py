"""Adversarial checks of the range fixes (the normalized redo at huge A1 rows aee639d / cc6686f, R3's direction scale
``_rows.direction_scale``, R4's target scale ``_rows.normalized_p_scaled``, the row-major operands of
``_fastrows``) where earlier attacks did not look: float32 (max 3.4e38), the mocked device path (torch tensors through
their own kernels, ``_fastsweep.host_views`` patched to None), torch float32, block_rows / threads, an HVP with a huge
direction *and* a huge target, the vector form in float32; and a search for the "rescaled result 5e-5 off with huge
A1 rows" an earlier helper saw.

Truth: :func:`oracle` / :func:`voracle` below, mpmath from the definitions (``p = f∘(c − ⟨f, c⟩)``, ``p = u∘(h − ⟨h,
b⟩)``, ``∇L = A1ᵀ P A2``; the HVP as the complex-step derivative ``Im P(S + i·t·dS)/t``, t·max|dS| = 1e-30), at 100
digits plus ``2·τ/2.3`` (a saturated row cancels as e^{−2·gap}) plus ``2·log10 max|B|`` (⟨f, c⟩ cancels terms of size
|b|). float32 inputs are upcast exactly; the truth in float32 is the mp value rounded to float32 (±inf past 3.4e38).
Rule: entrywise ``|got − T| ≤ 16·(τ + n)·u·T_abs + (τ + n)·tiny`` with ``T_abs = |A1|ᵀ|P||A2|`` (the sum of absolute
terms of the last product), τ = max |A1||X||A2|ᵀ, u = 2⁻⁵³ or 2⁻²⁴; ±inf exactly where the rounded truth is; never nan.

Broke (strict xfails below; "every path" = numpy, array_api_strict, torch CPU, the mocked device path):

D1. (older: 944d53e~1 and 1fd62ac~1 give the same nan) **The normalized HVP has no target scale**: a row of B near the
    range times an ordinary ``ds`` overflows inside ``_rows.normalized_hvp`` (``dF∘G``, G ~ b) and the redo only scales
    rows of dS that are themselves near the range (``_rows.direction_scale``) and not B; ``_vector._hvp`` alike. nan
    where the HVP is finite. float64 ``A1 = [[−0.8e-20], [1e-20]]``, ``A2 = [[0.5], [−1]]``, ``X = [[1e20]]``, ``V =
    [[−1e30]]``, ``B = [[0.2, 4e300], [0.5, 0.5]]``: truth −5.50e289, got nan (every path; vector form with ``A =
    [[−0.4e-20], [0.8e-20]]``, x = [1e20], v = [−1e30], b = [0.2, 4e300] the same). float32: R4's own kind of row,
    ``B[0] = [3.3e38, −3.3e38, 0]`` with softmax [0.9, 0.1, ·] and ``V = [[0.3]]``: truth 8.38e36, got nan (the gradient
    of the same input is right: R4 holds in float32). With ``b·ds`` past the range the truth is ±inf and the result nan
    too.
D2. (older: 944d53e~1 the same) **A subnormal direction V: the stable kernels form ``V A2ᵀ`` in the subnormals.**
    ``_sweep._generic``'s ``dW = V @ A2.T`` keeps only the subnormal's bits, so an HVP that huge A1 rows bring back into
    the range loses digits (the fast path's subnormal ``A1_b V`` check sends such calls to exactly these kernels; on the
    device path even a call with only huge rows goes there). float64 ``A1 = [[1e300], [0.7]]``, ``A2 = [[1], [−0.5]]``,
    ``X = [[1e-300]]``, ``V = [[3.3e-320]]``, ``B = [[.3, .7], [.6, .4]]``: normalized truth −3.97745e279, got
    −3.97765e279 (5e-5 relative — the size the earlier helper saw; the rule allows ~5e-15); rescaled 4.73284e281 vs
    4.73286e281 (4e-6). float32 ``A1 = [[1e30], [0.7]]``, ``A2 = [[1], [−0.3]]``, ``X = [[1e-30]]``, ``V =
    [[3.3e-44]]``: normalized −2.09368e15 vs −2.08026e15 (6.4e-3 relative; rule ~3e-6).
D3. (older: 944d53e~1 the same; the gradient twin of tests/test_scale_attack.py's P2) **A softmax entry that underflows
    before a huge target.** ``p_k = f_k(c_k − ⟨f, c⟩)`` with ``f_k = e^{−800}`` (0 in float64) and ``b_k = −1e300``:
    ``p`` is ±3.7e-48 but comes out 0, so the gradient is 0 where it is −3.67e252: ``A1 = [[1e300], [0]]``, ``A2 = [[1],
    [0]]``, ``X = [[8e-298]]``, ``B = [[0.4, −1e300], [0.5, 0.5]]``; float32 ``A1 = [[1e30], [0]]``, ``X =
    [[1.2e-28]]``, ``B[0] = [0.4, −3e38]``: 0 for −2.30e16. Every path, and the vector form (numpy, torch, strict). The
    HVP too. ``_rows._softmax_parts`` forms f unscaled; ``normalized_p_scaled`` scales b, not f.
D4. (older: 944d53e~1 the same; the vector form, rescaled) **``vector.hvp``'s bands combine two infinities of opposite
    sign**: the plain HVP is right (±inf) but has an inf, so ``v`` is split (``_scale.split``); the band and ``v_lo``
    parts are each ±inf with opposite signs and ``lin`` makes nan, with ``RuntimeWarning: invalid value encountered in
    add`` (numpy, strict). ``A = [[0, 2, 0], [0, 0, −1e300]]``, ``b = [2e300, 0]``, ``x = 0``, ``v = [0, 3000, 7.1e6]``:
    truth [0, −inf, +inf], got [0, nan, nan]; float32 ``−1e33``, ``2e35``, ``v = [0, 3000, 7100]`` the same (truth
    ∓5.7e107, 8.5e140). Also with an ordinary b, both versions, float32 (a random-search case: A's row 2 ~2e26, v ~6e10;
    truth ∓8.7e60 normalized, ±4.0e61 rescaled, ±inf in float32; got nan): ``d4c_f32`` below.
D5. (older: 944d53e~1 the same; array_api_strict) **A warning on valid input**: ``attnreg.grad`` (rescaled) of ``A1 =
    [[1, 0], [0, 0]]``, ``A2 = [[2, 0], [0, −1e300]]``, ``B = [[2e300, 0], [.5, .5]]``, ``X = 0`` emits
    ``RuntimeWarning: overflow encountered in add`` from ``_scale.halved`` (``power * top + logtop(P)``); the value
    ([inf, −inf, 0, 0]) is right. numpy, torch and the device path are quiet.

Fixed after the attack (their tests are regression tests now): D1 (``_rows.normalized_hvp_scaled``: rows of B scaled
with those of dS in the redo, both forms), D2 (``_scale.lift``: a direction that small is multiplied by ``e^m`` first,
the HVP by ``e^{−m}``; the device path keeps a flagged normalized block's scale; the vector form had it too, 7e-2 off,
tested as ``vd2``), D4 (``vector.hvp`` keeps its bands' parts as ``e^κ z`` until the end), D5 (``_scale.halved``: an
all-zero row's log is the most negative number over 4). D3 stays a strict xfail: one scale per row of ``p̃`` cannot hold
an underflowed softmax entry's product with a huge target beside the row's ordinary entries (P2's twin).

Held (regression tests below): R4 in float32 (target row ±3.3e38) on every path, block_rows 1/2, threads 1/2; R3 in
float32 (a direction row ~1e38·A2) on every path; huge A1 rows at 2.5e38–3e38 in float32 with ordinary rows and a column
only those reach (both versions, gradient and HVP, every path incl. torch float32 and the device path, block_rows and
threads); the vector form in float32 at b = ±3.3e38 (gradient) and a direction whose ``A v`` is ~1e38 (HVP). Random
searches of the matrix form (n 3–15, d 1–4, A1 rows ×1e19–1e38 / 1e154–1e308, B rows ×1e30–3.4e38 / 1e246–1.8e308,
directions up to past the range, numpy / device / torch, random block_rows and threads): 843 float64 cases, nothing
beyond D1 and D2 (skipped there); 1061 float32 cases, nothing beyond D1–D3. The vector form, 4962 float32 cases: D1, D3,
D4 and tests/test_scale_attack.py's P2 (a softmax entry ~e^{−169}, 0 in float32, before a ds ~5e29: an HVP of 1.67e-9
came back −5.7e-9; known, not re-tested here). Not judged, leads only: a few rescaled vector HVPs 27–400× this rule
(seeds 614 and 1591 of the helper's search, A rows ~1e37 with x ~1e-35; not reduced). All five defects are older than
the fixes attacked (944d53e~1 gives the same values; D1 also 1fd62ac~1, D3–D5 also 0a54ec1~1): no regression found. The
"5e-5 off" result is most likely D2 (a subnormal V beside huge A1 rows gives exactly that size of error), not a huge B.
"""
from __future__ import annotations

import functools
import math
import warnings

import mpmath
import numpy as np
import pytest

import attnreg
import attnreg._fastsweep as fastsweep
from attnreg import vector
from attnreg.verify.oracle import row  # (ℓ, p) of one row from the definitions; complex s too

try:
    import torch
except ImportError:
    torch = None
try:
    import array_api_strict as xs
except ImportError:
    xs = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
LIBS = ["numpy", pytest.param("strict", marks=pytest.mark.skipif(xs is None, reason="no array_api_strict")),
        pytest.param("torch", marks=needs_torch), pytest.param("device", marks=needs_torch)]
VLIBS = LIBS[:3]
F32, F64 = np.float32, np.float64


# ---- the oracle --------------------------------------------------------------------------------------------------

def _ctx(tau, B):
    ctx = mpmath.MPContext()
    bmax = float(np.abs(np.asarray(B, dtype=F64)).max(initial=0.0))
    ctx.dps = int(100 + 2 * min(tau, 1e4) / 2.3 + 2 * max(0.0, math.log10(bmax) if bmax else 0.0))
    return ctx


def _f(x):
    try:
        return float(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _tau(A1, A2, X):
    return float((np.abs(A1) @ np.abs(X) @ np.abs(A2).T).max())


def oracle(A1, A2, B, X, V, version):
    """(G, G_abs, H, H_abs) as float64 arrays: G = A1ᵀPA2, G_abs = |A1|ᵀ|P||A2|; H alike with dP (complex step)."""
    n, d = A1.shape
    ctx = _ctx(_tau(A1, A2, X), B)
    m = lambda a: [[ctx.mpf(float(v)) for v in r] for r in np.asarray(a, dtype=F64)]  # noqa: E731
    A1m, A2m, Bm = m(A1), m(A2), m(B)

    def logits(Xm):
        W = [[ctx.fsum(Xm[i][q] * A2m[k][q] for q in range(d)) for k in range(n)] for i in range(d)]
        return [[ctx.fsum(A1m[j][i] * W[i][k] for i in range(d)) for k in range(n)] for j in range(n)]

    def prod(P, absolute):
        g = abs if absolute else (lambda v: v)
        T = [[ctx.fsum(g(P[j][k]) * g(A2m[k][q]) for k in range(n)) for q in range(d)] for j in range(n)]
        return np.array([[_f(ctx.fsum(g(A1m[j][i]) * T[j][q] for j in range(n))) for q in range(d)]
                         for i in range(d)])

    S, dS = logits(m(X)), logits(m(V))
    P = [row(ctx, S[j], Bm[j], version)[1] for j in range(n)]
    t = ctx.mpf(10) ** -30 / max(abs(v) for r in dS for v in r)
    dP = [[ctx.im(v) / t for v in row(ctx, [s + ctx.mpc(0, 1) * t * e for s, e in zip(S[j], dS[j])], Bm[j],
                                        version)[1]] for j in range(n)]
    return prod(P, False), prod(P, True), prod(dP, False), prod(dP, True)


def voracle(A, b, x, v, version):
    """(G, G_abs, H, H_abs) of the vector form."""
    N, D = A.shape
    ctx = _ctx(float((np.abs(A) @ np.abs(x)).max()), b)
    Am = [[ctx.mpf(float(q)) for q in r] for r in A]
    bm, xm, vm = ([ctx.mpf(float(q)) for q in w] for w in (b, x, v))
    s = [ctx.fsum(r[k] * xm[k] for k in range(D)) for r in Am]
    ds = [ctx.fsum(r[k] * vm[k] for k in range(D)) for r in Am]

    def prod(p, absolute):
        g = abs if absolute else (lambda q: q)
        return np.array([_f(ctx.fsum(g(Am[j][k]) * g(p[j]) for j in range(N))) for k in range(D)])

    p = row(ctx, s, bm, version)[1]
    t = ctx.mpf(10) ** -30 / max(abs(q) for q in ds)
    dp = [ctx.im(q) / t for q in row(ctx, [a + ctx.mpc(0, 1) * t * e for a, e in zip(s, ds)], bm, version)[1]]
    return prod(p, False), prod(p, True), prod(dp, False), prod(dp, True)


def within(got, T, Tabs, tau, n, dtype, k=16):
    """The rule of the module docstring."""
    info = np.finfo(dtype)
    u = float(info.eps) / 2
    got = np.asarray(got, dtype=F64)
    with np.errstate(all="ignore"):
        Tc = T.astype(dtype).astype(F64)
    if np.isnan(got).any():
        return False
    inf = ~np.isfinite(Tc)
    if not np.array_equal(got[inf], Tc[inf]):
        return False
    fin = ~inf
    allowed = k * (tau + n) * u * Tabs[fin] + (tau + n) * float(info.smallest_normal)
    with np.errstate(all="ignore"):
        err = np.abs(got[fin] - T[fin])
    return bool(np.all(err <= allowed))


# ---- calling the public API --------------------------------------------------------------------------------------

def _conv(lib, a, dtype):
    a = np.asarray(a, dtype=dtype)
    return xs.asarray(a) if lib == "strict" else torch.asarray(a) if lib in ("torch", "device") else a


def _np(a):
    return a.detach().numpy().astype(F64) if torch is not None and isinstance(a, torch.Tensor) else np.asarray(a, F64)


def run(lib, case, version, dtype, *, quiet=True, **kw):
    """(grad, hvp) as float64 NumPy arrays; warnings are errors unless ``quiet`` is False."""
    a = [_conv(lib, m, dtype) for m in case]
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("error" if quiet else "ignore")
        if lib == "device":
            mp.setattr(fastsweep, "host_views", lambda torch, *arrays: None)
        G = attnreg.grad(*a[:4], version=version, **kw)
        H = attnreg.hvp(*a, version=version, **kw)
    return _np(G), _np(H)


def vrun(lib, case, version, dtype, *, quiet=True):
    a = [_conv(lib, m, dtype) for m in case]
    with warnings.catch_warnings():
        warnings.simplefilter("error" if quiet else "ignore")
        return _np(vector.grad(*a[:3], version=version)), _np(vector.hvp(*a, version=version))


def exact(case, dtype):
    """The case's arrays as they are in ``dtype``, back in float64 (exactly)."""
    return tuple(np.asarray(np.asarray(m, dtype=dtype), dtype=F64) for m in case)


# ---- the cases ---------------------------------------------------------------------------------------------------

CASES = {
    # D1: huge target, ordinary direction (normalized HVP)
    "d1_f64": (([[-0.8e-20], [1e-20]], [[0.5], [-1.0]], [[0.2, 4e300], [0.5, 0.5]], [[1e20]], [[-1e30]]), F64),
    "d1_f32": (([[-0.8e-5], [1e-5]], [[0.5], [-1.0]], [[0.2, 3e38], [0.5, 0.5]], [[1e5]], [[-1e10]]), F32),
    # R4's kind of row in float32 (softmax [0.9, 0.1]); its HVP is D1
    "r4_f32": (([[1.0], [1.0], [0.3]], [[1.0], [0.0], [0.5]],
                [[3.3e38, -3.3e38, 0.0], [0.5, 0.2, 0.3], [0.1, 0.2, 0.7]], [[2.1972246]], [[0.3]]), F32),
    # D2: subnormal V, huge A1 rows
    "d2_f64": (([[1e300], [0.7]], [[1.0], [-0.5]], [[0.3, 0.7], [0.6, 0.4]], [[1e-300]], [[3.3e-320]]), F64),
    "d2_f32": (([[1e30], [0.7]], [[1.0], [-0.3]], [[0.3, 0.7], [0.6, 0.4]], [[1e-30]], [[3.3e-44]]), F32),
    # D3: underflowed softmax entry times a huge target
    "d3_f64": (([[1e300], [0.0]], [[1.0], [0.0]], [[0.4, -1e300], [0.5, 0.5]], [[8e-298]], [[1e-300]]), F64),
    "d3_f32": (([[1e30], [0.0]], [[1.0], [0.0]], [[0.4, -3e38], [0.5, 0.5]], [[1.2e-28]], [[1e-30]]), F32),
    # D5: array_api_strict warns
    "d5_f64": (([[1.0, 0], [0, 0]], [[2.0, 0], [0, -1e300]], [[2e300, 0], [0.5, 0.5]], [[0.0, 0], [0, 0]],
                [[3000.0, 7100.0], [0, 0]]), F64),
    # held: R3 in float32 (row 0 of dS ~3e37·A2)
    "r3_f32": (([[1.0, 0], [0.5, 1.0], [0, 1.0]], [[0.5, 0.2], [-0.7, 0.3], [0.1, -0.9]],
                [[0.2, 0.3, 0.5], [0.5, 0.2, 0.3], [1.0, 0.0, 0.0]], [[0.3, -1.0], [2.0, 0.5]],
                [[3e37, 0.0], [0.0, 1.0]]), F32),
}


def _huge_a1_f32():
    """Rows 0–2 of A1 at ±2.5e38–3e38 (column 1 zero there), four ordinary rows; logits O(10)."""
    rng = np.random.default_rng(5)
    n = 7
    A1 = rng.standard_normal((n, 2))
    A1[:3] = [[3.0e38, 0.0], [-2.5e38, 0.0], [2.8e38, 0.0]]
    return ((A1, rng.standard_normal((n, 2)), rng.dirichlet(np.ones(n), size=n) * 30,
             np.array([[4e-38, 0.0], [0.3, -0.8]]), np.array([[1e-37, 0.0], [0.5, 1.0]])), F32)


CASES["huge_a1_f32"] = _huge_a1_f32()

VCASES = {
    "d1_f64": (([[-0.4e-20], [0.8e-20]], [0.2, 4e300], [1e20], [-1e30]), F64),
    "d3_f64": (([[1e300], [0.0]], [0.4, -1e300], [8e-298], [1e-300]), F64),
    "d3_f32": (([[1e30], [0.0]], [0.4, -3e38], [1.2e-28], [1e-30]), F32),
    # D2 in the vector form (added with its fix): u_2 = e^700 times a subnormal ds_2 dominates dα
    "vd2_f64": (([[1e300, 0], [0, 0.7]], [0.3, 0.7], [1e-300, 1000.0], [3.3e-320, 3.3e-320]), F64),
    "vd2_f32": (([[1e30, 0], [0, 0.7]], [0.3, 0.7], [1e-30, 100.0], [3.3e-44, 3.3e-44]), F32),
    "d4_f64": (([[0, 2.0, 0], [0, 0, -1e300]], [2e300, 0.0], [0.0, 0.0, 0.0], [0, 3000.0, 7.1e6]), F64),
    "d4_f32": (([[0, 2.0, 0], [0, 0, -1e33]], [2e35, 0.0], [0.0, 0.0, 0.0], [0, 3000.0, 7100.0]), F32),
    # D4 with an ordinary b (random search seed 213, float32): both versions; truth ∓8.7e60 / ±4.0e61, ±inf in float32
    "d4c_f32": (([[-0.9935420751571655, -0.2461959719657898], [0.49059852957725525, 0.09865879267454147],
                  [-2.2473795587534455e26, 1.3566249333628457e26]],
                 [0.02642926573753357, 0.82406085729599, 0.14950984716415405],
                 [1.5455986856392045e-26, 1.3354170011682684e-27], [60369285120.0, 2433479424.0]), F32),
    # held: R4 / R3 of the vector form in float32
    "r4_f32": (([[1.0, 0.5], [0.0, 1.0], [0.3, -0.2]], [3.3e38, -3.3e38, 0.1], [2.0, -0.5], [0.3, 0.1]), F32),
    "r3_f32": (([[1.0, 0.5], [0.0, 1.0], [0.3, -0.2]], [0.5, 0.3, 0.2], [2.0, -0.5], [1e38, 3.0]), F32),
}


@functools.lru_cache(maxsize=None)
def truth(name, version):
    case, dtype = CASES[name]
    c = exact(case, dtype)
    return c, dtype, oracle(*c, version) + (_tau(c[0], c[1], c[3]), c[0].shape[0])


@functools.lru_cache(maxsize=None)
def vtruth(name, version):
    case, dtype = VCASES[name]
    c = exact(case, dtype)
    return c, dtype, voracle(*c, version) + (float((np.abs(c[0]) @ np.abs(c[2])).max()), c[0].shape[0])


def check(name, lib, version, which, **kw):
    c, dtype, (G, Ga, H, Ha, tau, n) = truth(name, version)
    g, h = run(lib, c, version, dtype, **kw)
    return within(g, G, Ga, tau, n, dtype) if which == "G" else within(h, H, Ha, tau, n, dtype)


def vcheck(name, lib, version, which):
    c, dtype, (G, Ga, H, Ha, tau, n) = vtruth(name, version)
    g, h = vrun(lib, c, version, dtype)
    return within(g, G, Ga, tau, n, dtype) if which == "G" else within(h, H, Ha, tau, n, dtype)


# ---- the oracle checked ------------------------------------------------------------------------------------------

def test_oracle_gradient_is_the_derivative_of_its_loss_and_hvp_of_its_gradient():
    """Central differences (step 1e-40 at ≥ 100 digits) of the oracle's own loss and gradient, on d3_f64's row."""
    A, b, x, v = exact(VCASES["d3_f64"][0], F64)
    ctx = _ctx(float((np.abs(A) @ np.abs(x)).max()), b)
    Am = [[ctx.mpf(float(q)) for q in r] for r in A]
    bm = [ctx.mpf(float(q)) for q in b]

    def lp(xv):
        s = [ctx.fsum(r[k] * xv[k] for k in range(len(xv))) for r in Am]
        ell, p = row(ctx, s, bm, "normalized")
        return ell, ctx.fsum(Am[j][0] * p[j] for j in range(len(p)))
    x0, h = ctx.mpf(float(x[0])), ctx.mpf(10) ** -40 * ctx.mpf(float(x[0]))
    (lp_, gp), (lm, gm) = lp([x0 + h]), lp([x0 - h])
    g = voracle(A, b, x, v, "normalized")
    assert abs(float((lp_ - lm) / (2 * h)) - g[0][0]) <= 1e-20 * abs(g[0][0])
    assert abs(float((gp - gm) / (2 * h) * ctx.mpf(float(v[0]))) - g[2][0]) <= 1e-20 * abs(g[2][0])


# ---- D1 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", ["d1_f64", "d1_f32", "r4_f32"])
def test_d1_normalized_hvp_huge_target(name, lib):
    """D1, fixed: the normalized HVP's redo scales rows of B near the range as well as rows of dS
    (``_rows.normalized_hvp_scaled``). Before: b·ds overflowed in dF∘G, nan where the HVP is finite."""
    assert check(name, lib, "normalized", "H")


@pytest.mark.parametrize("lib", VLIBS)
def test_d1_vector_hvp_huge_target(lib):
    """D1 in the vector form, fixed the same way (before: ``_vector._hvp`` scaled ds, never b)."""
    assert vcheck("d1_f64", lib, "normalized", "H")


@pytest.mark.parametrize("lib", LIBS)
def test_d1_rescaled_hvp_of_the_same_input_held(lib):
    assert check("d1_f64", lib, "rescaled", "H") and check("d1_f32", lib, "rescaled", "H")


# ---- D2 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name,version", [("d2_f64", "normalized"), ("d2_f64", "rescaled"), ("d2_f32", "normalized"),
                                          ("d2_f32", "rescaled")])
def test_d2_subnormal_direction(name, version, lib):
    """D2, fixed: a direction whose products could be subnormal is lifted by ``e^m`` first (``_scale.lift``; the HVP is
    linear in V), and the device path keeps a flagged block's scale (``_fastsweep._finish``). Before: up to 6e-3
    relative error where the rule allows ~3e-6 (the stable kernels formed ``V A2ᵀ`` in the subnormals)."""
    assert check(name, lib, version, "H")


@pytest.mark.parametrize("lib", VLIBS)
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
@pytest.mark.parametrize("name", ["vd2_f64", "vd2_f32"])
def test_d2_vector_subnormal_direction(name, version, lib):
    """D2 in the vector form (added with the fix, not by the attack): ``u_2 ds_2`` with ``u_2 = e^{700}`` and ``ds_2 =
    0.7·3.3e-320`` (subnormal, 13 bits) dominates ``dα``. Before the lift: 7e-2 (normalized) and 2.6e-5 (rescaled)
    relative error in float64, 2.8e-2 and 1.3e-2 in float32."""
    assert vcheck(name, lib, version, "H")


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", ["d2_f64", "d2_f32"])
def test_d2_gradient_of_the_same_input_held(name, lib):
    assert check(name, lib, "normalized", "G") and check(name, lib, "rescaled", "G")


# ---- D3 ----------------------------------------------------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason="D3 (older, P2's gradient twin): f = e^-800 underflows before the product with "
                   "b = -1e300: 0 where the gradient is -3.67e252 (float32: 0 for -2.30e16)")
@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", ["d3_f64", "d3_f32"])
def test_d3_underflowed_softmax_huge_target(name, lib):
    assert check(name, lib, "normalized", "G")


@pytest.mark.xfail(strict=True, reason="D3 (older) in the vector form")
@pytest.mark.parametrize("lib", VLIBS)
@pytest.mark.parametrize("name", ["d3_f64", "d3_f32"])
def test_d3_vector(name, lib):
    assert vcheck(name, lib, "normalized", "G")


# ---- D4, D5 ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lib", VLIBS)
@pytest.mark.parametrize("name", ["d4_f64", "d4_f32"])
def test_d4_vector_rescaled_hvp_bands(name, lib):
    """D4, fixed: ``vector.hvp`` keeps each band's part as ``e^κ z`` until the end. Before: the band's and ``v_lo``'s
    parts, unscaled, were opposite infinities and ``lin`` added them to nan (with a RuntimeWarning)."""
    assert vcheck(name, lib, "rescaled", "H")


@pytest.mark.parametrize("lib", VLIBS)
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_d4_vector_hvp_bands_ordinary_target(version, lib):
    assert vcheck("d4c_f32", lib, version, "H")


def test_d5_strict_rescaled_gradient_quiet():
    """D5, fixed: an all-zero row's log in ``_scale.halved`` is the most negative number over 4 (the sum of three stays
    finite); it was the most negative number itself, and ``power·top + logtop(P)`` overflowed with a warning."""
    assert check("d5_f64", "strict", "rescaled", "G")


@pytest.mark.parametrize("lib", ["numpy", pytest.param("torch", marks=needs_torch),
                                 pytest.param("device", marks=needs_torch)])
def test_d5_other_paths_quiet_and_right(lib):
    assert check("d5_f64", lib, "rescaled", "G") and check("d5_f64", lib, "rescaled", "H")


# ---- held: the fixes in float32, every path, blocks and threads --------------------------------------------------

KW = [{}, dict(block_rows=1, threads=2), dict(block_rows=2, threads=1)]


@pytest.mark.parametrize("kw", KW)
@pytest.mark.parametrize("lib", LIBS)
def test_r4_float32_gradient(lib, kw):
    assert check("r4_f32", lib, "normalized", "G", **{k: v for k, v in kw.items()})


@pytest.mark.parametrize("kw", KW)
@pytest.mark.parametrize("lib", LIBS)
def test_r3_float32_hvp(lib, kw):
    assert check("r3_f32", lib, "normalized", "H", **kw) and check("r3_f32", lib, "normalized", "G", **kw)


@pytest.mark.parametrize("kw", KW)
@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_huge_a1_rows_float32(version, lib, kw):
    c, dtype, (G, Ga, H, Ha, tau, n) = truth("huge_a1_f32", version)
    g, h = run(lib, c, version, dtype, **kw)
    assert within(g, G, Ga, tau, n, dtype) and within(h, H, Ha, tau, n, dtype)
    assert np.isfinite(g[1]).all() and np.isfinite(h[1]).all()  # the row only ordinary rows reach


@pytest.mark.parametrize("lib", VLIBS)
def test_vector_float32_r4_and_r3(lib):
    assert vcheck("r4_f32", lib, "normalized", "G") and vcheck("r3_f32", lib, "normalized", "H")
    assert vcheck("r3_f32", lib, "rescaled", "H")
