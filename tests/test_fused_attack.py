r"""An attack on the fused numba row kernels (attnreg/_fused.py, attnreg/_fused_numba.py) and their dispatch
(attnreg/_fastrows.py ``_fusable``/``_window``, attnreg/_fastsweep.py ``fused``).

Truth is an independent mpmath oracle (:func:`mp_row`, 60 digits, straight from the definitions: softmax,
``c = f − b``, ``p = f∘(c − ⟨f, c⟩)``, the textbook derivative ``df∘g + f∘(df − ⟨f, df⟩ − ⟨df, c⟩)`` for the
normalized HVP; ``u = e^s``, ``h = u − αb``, ``p = u∘(h − ⟨h, b⟩)``, ``dp = du∘g + u∘(dh − ⟨dh, b⟩)`` rescaled),
and the NumPy kernels (``attnreg._fused.ENABLED = False``) on the same input.

Defects found (each has a test below that failed on the code under test, bdc914b; all four fixed since: 1 by
``error_model="numpy"``, 2 by ``wanted()`` taking native byte order only, 3 by compiling without the cache where no
location can be written, 4 by ``available()`` loading the kernels and leaving the NumPy ones on any failure):

1. **ZeroDivisionError from the rescaled HVP** (``test_defect1_*``). A row whose logits all lie below
   ``log(smallest subnormal) ≈ −745`` has ``α = Σ e^s = 0`` in float64. The rescaled window does not shift such a
   row (it is flagged instead), and ``_fused_numba.rescaled_hvp`` computes ``inv = 1.0 / t`` under numba's default
   ``error_model='python'``, which raises ``ZeroDivisionError: division by zero`` instead of giving ``inf``.
   Reproducer (n = 300, default ``MIN_N``): ``A1 = 0.3·N(0,1)`` (300 × 2) with row 5 set to ``[−800, 0]``,
   ``A2[:, 0] = 1``, ``A2[:, 1] = 0.3·N(0,1)``, ``X = I₂``, ``B`` Dirichlet rows, ``V ~ N(0,1)``:
   ``attnreg.hvp(A1, A2, B, X, V, version="rescaled")`` raises; the NumPy kernels return a finite HVP
   (``max|H| = 19597.93…``), and the loss, gradient and normalized HVP of the same input are fine. It reaches the CLI:
   ``attnreg solve --version rescaled`` (Newton-CG, d = 24, one row of ``A1`` at ``−800·e₁``, ``A2[:, 0] = 1``) ends
   in a traceback. The same at n = 8 with ``MIN_N = 1``: the oracle's HVP is ``[[−3.776428317330067,
   0.1805076516041908], [−2.866549819966704, 0.01076061165183709]]``, the NumPy kernels' within 2e−16 of it, the fused
   path raises. Kernel level: ``_fastrows.rescaled_hvp`` on a block with one row of logits ``−800 + N(0,1)`` raises
   where the NumPy kernel flags that row.
2. **Big-endian float64 inputs crash** (``test_defect2_*``). ``wanted()`` tests ``dtype.char == "d"``, which a
   ``>f8`` array also has; the pool buffers take ``A1``'s dtype, so ``S`` (and ``B``) reach numba as ``>f8`` and
   numba raises ``TypingError: … Unsupported array dtype: >f8``. All inputs ``>f8`` (n = 300, d = 4, the validation
   accepts one common dtype; ``_problem(300, 4, seed=0)``): ``attnreg.loss_and_grad(..., version="normalized")``
   raises; the NumPy kernels give ``0.847174693048249`` (the native-order copy's value, bit for bit). Data read from
   FITS files or written on a big-endian machine is ``>f8`` (the CLI converts its .npz arrays, so it is not hit).
3. **No writable numba cache location: every float64 call with n ≥ 256 raises** (``test_defect3_*``). The kernels
   are decorated ``cache=True``; when neither the package's ``__pycache__`` nor the user cache directory
   (``$XDG_CACHE_HOME``/``~/.cache``) is writable and ``NUMBA_CACHE_DIR`` is unset (a read-only install with a
   read-only home: containers with a read-only root filesystem, AWS Lambda), numba raises at decoration time,
   ``RuntimeError: cannot cache function '_sum': no locator available for file …/attnreg/_fused_numba.py``, and
   ``attnreg.loss`` fails where the NumPy kernels would have answered (25.929751351659… in the test's problem).
4. **numba installed but not importable: every float64 call with n ≥ 256 raises** (``test_defect4_*``).
   ``available()`` only looks for the package (``find_spec``); a numba whose import fails (the usual case being a
   NumPy newer than the numba supports: ``ImportError: Numba needs NumPy 2.3 or less``) makes ``kernels()`` raise
   inside the call instead of leaving the NumPy kernels in charge. Simulated by a stub ``numba`` package raising that
   ImportError first on ``sys.path``.

What held (regression tests below pass):

* The written entries are exactly the NumPy statements given the kernels' own row sums (all four kernels, n = 777,
  bit for bit), so the only difference is the order of the sums.
* Hard rows against the oracle (n = 256, 300, 1000, 2053, 4099; loss+grad and HVP, both versions, window proved safe
  and looked at): ordinary rows; dominated rows at ``f_max·(1 ± 1e−9)``, ``(1 ± 1e−14)`` around ½; one-hot targets
  on/off the argmax; target entries ½, ``nextafter(½, 0)``, ``nextafter(½, 1)``; negative, 1e3, 1e−300, subnormal and
  zero targets; logits at the top and bottom of the safe window (proved safe and not), a row spanning the whole
  window; HVP directions of scale 1, 1e300, 1e−300, 1e−320: the same flags, and on unflagged rows the fused error
  is never above 8× the NumPy kernels' error (or 4u) except where the truth is far below the terms (see the next item).
* The sum order, measured: a row of n equal entries ``e^{0.3}`` sums to 16 ulps off at n = 4096 (NumPy 1), 37 at
  n = 10007 (NumPy 1), 171 at n = 65536 (NumPy 1); up to 88 ulps for the value 0.1 at n = 10007. For random rows
  (logit spread 1e−12 … 1) it stays within 1–4 ulps. All inside the documented bound (``γ_m`` per term, m ≈ n/16 + 4),
  so not a defect by the brief's rule, but it is the realised cost of the reassociated sums: on a uniform row with
  ``B = 1/n`` (deep cancellation) the loss row comes out 5.9e4× its (≈1e−36) true value against 3.8e2× for NumPy,
  and the witness ``⟨f, c⟩`` of a flat HVP row 15× against 1.8× — absolute errors inside ``γ_n`` of the terms.
* Flags at exact ties (``2·e_max`` vs ``α`` within an ulp): the fused and NumPy kernels' flags differ on 61 of 400
  adversarial rows (n = 300: ``e_max = 1``, the rest summing to 1), because ``α`` is summed in another order; the
  values are right either way (the flagged route goes to the stable kernels, the unflagged one is accurate at
  ``f_max ≈ ½``). The docstring's "the same flags" holds only away from such ties; harmless.
* Layouts: Fortran-order, reversed, sliced-from-a-bigger-array, read-only, unaligned (``frombuffer`` offset 1) and
  memmap ``B``, unaligned ``A1``: the same bits as the C-order call. torch CPU float64 tensors (also a transposed
  ``B``): the same bits as NumPy.
* threads = 1 vs 2, run to run, several Python threads at once (first compilation included, fresh
  ``NUMBA_CACHE_DIR``), after ``os.fork`` and in a fork pool, two processes compiling into one fresh cache at once:
  the same bits everywhere (compilation ≈ 2 s).
* n = 255/256/257, d = 1, block_rows 1, 7, 64: agree with the NumPy kernels within a few ulps.
* ``python -W error -m attnreg solve`` (both versions, Newton-CG and L-BFGS, n = 300) on large logits, huge and tiny
  targets, one-hot targets: no warning on stderr. Non-finite ``B`` raises the same error as with the NumPy kernels.
* The vector form (``attnreg.vector``) does not reach these kernels (only ``matrix`` imports ``_fastsweep``).

Not defects of the fused path, noted: ``NUMBA_DISABLE_JIT=1`` runs the kernels as Python loops (about 1 µs per
entry: n = 512 loss+grad 0.27 s against 0.06 s, n = 4096 tens of seconds); logits that overflow float64 (``A1`` ~
1e10, ``A2`` ~ 1e300, d = 1) give nan on both kernel sets (the README's known xfail); setting ``_fused.ENABLED``
from another thread during a call could pick the NumPy kernels without their scratch buffer (``C = None``), a
race not exercised here (since fixed: a kernel given no scratch takes the fused kernels whatever ``ENABLED`` says;
tests/test_fused.py).
"""
from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import mpmath
import numpy as np
import pytest

pytest.importorskip("numba")

import attnreg  # noqa: E402
from attnreg import _fastrows, _fused  # noqa: E402

from test_fused import _run  # noqa: E402

U = np.finfo(np.float64).eps / 2
BIG = float(np.finfo(np.float64).max)
TINY = float(np.finfo(np.float64).smallest_normal)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------------------------------------------------
# the oracle: mpmath from the definitions, in a private context (the global one is left alone)

def _ctx():
    ctx = mpmath.MPContext()
    ctx.dps = 60
    return ctx


def mp_row(ctx, version, hvp, s, b, ds=None):
    """``(witness, p or dp)`` of one row: the witness is the row's loss (loss+grad), ``⟨f, c⟩`` (normalized HVP) or
    ``Σ h²`` (rescaled HVP), as the kernels return it. ``s`` are the logits the kernel exponentiates."""
    def mpf(x):  # floats exactly; mpf (the matrix route's exact logits) as they are
        return x if isinstance(x, ctx.mpf) else ctx.mpf(float(x))
    s = [mpf(x) for x in s]
    b = [mpf(x) for x in b]
    e = [ctx.exp(x) for x in s]
    a = ctx.fsum(e)
    if version == "normalized":
        f = [x / a for x in e]
        c = [fi - bi for fi, bi in zip(f, b)]
        r = ctx.fsum(fi * ci for fi, ci in zip(f, c))
        if not hvp:
            return ctx.fsum(ci * ci for ci in c) / 2, [fi * (ci - r) for fi, ci in zip(f, c)]
        ds = [mpf(x) for x in ds]
        mu = ctx.fsum(fi * di for fi, di in zip(f, ds))
        df = [fi * (di - mu) for fi, di in zip(f, ds)]
        fdf = ctx.fsum(fi * x for fi, x in zip(f, df))
        dfc = ctx.fsum(x * ci for x, ci in zip(df, c))
        return r, [x * (ci - r) + fi * (x - fdf - dfc) for x, fi, ci in zip(df, f, c)]
    h = [ui - a * bi for ui, bi in zip(e, b)]
    hb = ctx.fsum(hi * bi for hi, bi in zip(h, b))
    g = [hi - hb for hi in h]
    if not hvp:
        return ctx.fsum(x * x for x in h) / 2, [ui * gi for ui, gi in zip(e, g)]
    ds = [mpf(x) for x in ds]
    du = [ui * di for ui, di in zip(e, ds)]
    da = ctx.fsum(du)
    dh = [x - da * bi for x, bi in zip(du, b)]
    dhb = ctx.fsum(x * bi for x, bi in zip(dh, b))
    return ctx.fsum(x * x for x in h), [x * gi + ui * (y - dhb) for x, gi, ui, y in zip(du, g, e, dh)]


def mp_matrix(version, A1, A2, B, X, V=None):
    """The public API's quantities in mpmath: ``(L, ∇L)`` or, given ``V``, the HVP ``A1ᵀ dP A2`` (d × d lists)."""
    ctx = _ctx()
    M = lambda a: ctx.matrix([[ctx.mpf(float(x)) for x in row] for row in np.atleast_2d(a)])  # noqa: E731
    a1, a2, x = M(A1), M(A2), M(X)
    S = a1 * x * a2.T
    dS = None if V is None else a1 * M(V) * a2.T
    n = A1.shape[0]
    P, total = ctx.matrix(n, n), ctx.mpf(0)
    for i in range(n):
        s = [S[i, k] for k in range(n)]
        ds = None if V is None else [dS[i, k] for k in range(n)]
        w, p = mp_row(ctx, version, V is not None, s, B[i], ds)
        total += w
        for k in range(n):
            P[i, k] = p[k]
    G = a1.T * P * a2
    return total, [[G[i, j] for j in range(G.cols)] for i in range(G.rows)]


def rel_err(got, exact):
    """Largest entrywise error relative to the largest exact entry (inf for a non-finite entry)."""
    got = np.atleast_1d(np.asarray(got, dtype=float)).ravel()
    ex = exact if isinstance(exact, list) else [exact]
    ex = [x for r in ex for x in (r if isinstance(r, list) else [r])]
    if not np.all(np.isfinite(got)):
        return math.inf
    scale = max(abs(x) for x in ex)
    err = max(abs(mpmath.mpf(float(g)) - x) for g, x in zip(got, ex))
    return float(err / scale) if scale else float(err)


# --------------------------------------------------------------------------------------------------------------------
# helpers

def _kernel(version, hvp, safe, S, B, dS=None, *, fused):
    """One NumPy-kernel or fused-kernel run of attnreg._fastrows on rows ``S`` (logits): ``(witness, flags, P)``
    (tests/test_fused.py's ``_run``, with every row length reaching the fused kernels)."""
    S, B = np.array(S, dtype=float), np.array(B, dtype=float)
    dS = np.zeros_like(S) if dS is None else np.array(dS, dtype=float)
    old = _fused.MIN_N
    _fused.MIN_N = 1
    try:
        return _run(version, hvp, safe, S, B, dS, fused=fused)
    finally:
        _fused.MIN_N = old


def _exponentiated(version, safe, s):
    """The logits a kernel exponentiates: normalized rows outside the window are shifted by their maximum."""
    lo, hi = _fastrows.limits(BIG, TINY, len(s), version)
    if version == "normalized" and not safe and (s.max() > hi or s.min() < lo):
        return s - s.max()
    return s


def _compare(version, hvp, safe, S, B, dS=None):
    """Per row: NumPy-kernel and fused flags and errors against the oracle (P normwise, witness relative)."""
    ctx = _ctx()
    w0, f0, P0 = _kernel(version, hvp, safe, S, B, dS, fused=False)
    w1, f1, P1 = _kernel(version, hvp, safe, S, B, dS, fused=True)
    out = []
    for i in range(S.shape[0]):
        wt, pt = mp_row(ctx, version, hvp, _exponentiated(version, safe, S[i]), B[i], None if dS is None else dS[i])

        def werr(w):
            if not math.isfinite(w):
                return math.inf
            return float(abs(ctx.mpf(float(w)) - wt) / abs(wt)) if wt else abs(float(w))
        out.append(dict(f0=bool(f0[i]), f1=bool(f1[i]), e0=rel_err(P0[i], pt), e1=rel_err(P1[i], pt),
                        w0=werr(w0[i]), w1=werr(w1[i])))
    return out


def _problem(n, d, seed):
    rng = np.random.default_rng(seed)
    A1, A2 = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal((n, d)) / math.sqrt(d)
    return A1, A2, rng.dirichlet(np.ones(n), size=n), rng.standard_normal((d, d)), rng.standard_normal((d, d))


def _everything(A1, A2, B, X, V, **kw):
    out = []
    for version in attnreg.VERSIONS:
        L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version, **kw)
        out += [np.asarray(L), np.asarray(G), np.asarray(attnreg.hvp(A1, A2, B, X, V, version=version, **kw)),
                np.asarray(attnreg.loss(A1, A2, B, X, version=version, **kw)),
                np.asarray(attnreg.grad(A1, A2, B, X, version=version, **kw))]
    return out


def _digest(results):
    h = hashlib.sha256()
    for r in results:
        h.update(np.ascontiguousarray(r).tobytes())
    return h.hexdigest()


def _numpy_kernels(fn):
    old = _fused.ENABLED
    _fused.ENABLED = False
    try:
        return fn()
    finally:
        _fused.ENABLED = old


def _close(got, want, rel=64 * 2000 * U):
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        fin = np.isfinite(w)
        assert np.array_equal(np.isfinite(g), fin) and np.array_equal(g[~fin], w[~fin]), (g, w)  # inf kept, no nan
        if fin.any():
            assert np.abs(g[fin] - w[fin]).max() <= rel * max(np.abs(w[fin]).max(), 1e-300), (g, w)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------------------------------
# Defect 1: rescaled HVP, a row whose exp underflows entirely: ZeroDivisionError

def _underflow_problem(n, seed=0):
    rng = np.random.default_rng(seed)
    A1 = rng.standard_normal((n, 2)) * 0.3
    A1[5 % n] = [-800.0, 0.0]                                 # logits of that row: all −800 (e^−800 = 0 in float64)
    A2 = np.ones((n, 2))
    A2[:, 1] = rng.standard_normal(n) * 0.3
    return A1, A2, rng.dirichlet(np.ones(n), size=n), np.eye(2), rng.standard_normal((2, 2))


def test_defect1_rescaled_hvp_row_with_all_exp_underflowing_default_threshold():
    """n = 300 (the default MIN_N): the fused rescaled HVP raises ZeroDivisionError; the NumPy kernels answer."""
    A1, A2, B, X, V = _underflow_problem(300)
    want = _numpy_kernels(lambda: attnreg.hvp(A1, A2, B, X, V, version="rescaled"))
    assert np.all(np.isfinite(want))
    got = attnreg.hvp(A1, A2, B, X, V, version="rescaled")   # ZeroDivisionError: division by zero (numba)
    _close([got], [want])


def test_defect1_rescaled_hvp_against_the_oracle(monkeypatch):
    """The same row at n = 8 with MIN_N = 1, against the 60-digit oracle (the NumPy kernels' value is right)."""
    monkeypatch.setattr(_fused, "MIN_N", 1)
    A1, A2, B, X, V = _underflow_problem(8)
    _, H = mp_matrix("rescaled", A1, A2, B, X, V)
    want = _numpy_kernels(lambda: attnreg.hvp(A1, A2, B, X, V, version="rescaled"))
    assert rel_err(want, H) < 1e-13
    got = attnreg.hvp(A1, A2, B, X, V, version="rescaled")
    assert rel_err(got, H) < 1e-13


def test_defect1_the_kernel_flags_the_row_instead_of_raising():
    """Kernel level: rows of logits ≤ −800 (outside the window, not proved safe) are flagged, as by the NumPy kernel."""
    rng = np.random.default_rng(1)
    n = 300
    S = rng.standard_normal((4, n))
    S[2] = -800.0 + rng.standard_normal(n)
    B, dS = rng.dirichlet(np.ones(n), size=4), rng.standard_normal((4, n))
    _, f0, _ = _kernel("rescaled", True, False, S, B, dS, fused=False)
    _, f1, _ = _kernel("rescaled", True, False, S, B, dS, fused=True)
    assert f0[2] and np.array_equal(f0, f1)


def test_defect1_reaches_the_cli(tmp_path):
    """``attnreg solve --version rescaled`` (Newton-CG takes HVPs at d = 24): a traceback on valid data."""
    rng = np.random.default_rng(0)
    n, d = 300, 24
    A1, A2 = rng.standard_normal((n, d)) * 0.05, rng.standard_normal((n, d)) * 0.05
    A2[:, 0] = 1.0
    A1[5] = 0.0
    A1[5, 0] = -800.0
    path = tmp_path / "underflow.npz"
    np.savez(path, A1=A1, A2=A2, B=rng.dirichlet(np.ones(n), size=n), X0=np.eye(d))
    r = subprocess.run([sys.executable, "-m", "attnreg", "solve", "--version", "rescaled", "--max-iter", "2",
                        str(path)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr and "ZeroDivisionError" not in r.stderr, r.stderr[-2000:]
    assert r.returncode in (0, 1)


# --------------------------------------------------------------------------------------------------------------------
# Defect 2: big-endian float64 inputs

def test_defect2_big_endian_float64_inputs():
    """All inputs ``>f8`` (one dtype, accepted by the validation): numba's TypingError; the NumPy kernels answer as
    for the native-order copy."""
    A1, A2, B, X, V = _problem(300, 4, seed=0)
    want = _numpy_kernels(lambda: _everything(A1, A2, B, X, V))
    be = [a.astype(">f8") for a in (A1, A2, B, X, V)]
    assert _numpy_kernels(lambda: float(attnreg.loss(*be[:4], version="normalized"))) == float(want[3])
    got = _everything(*be)                                   # numba TypingError: Unsupported array dtype: >f8
    _close(got, want)


def test_defect2_big_endian_target_only_is_refused_cleanly():
    """Held: a ``>f8`` ``B`` beside native ``A1`` is refused by the validation with a TypeError (one dtype)."""
    A1, A2, B, X, _ = _problem(300, 4, seed=0)
    with pytest.raises(TypeError, match="dtype"):
        attnreg.loss(A1, A2, B.astype(">f8"), X, version="normalized")


# --------------------------------------------------------------------------------------------------------------------
# Defects 3 and 4: an unusable numba must not break the call (the NumPy kernels are there)

_LOSS_SCRIPT = textwrap.dedent("""
    import numpy as np, attnreg, sys
    assert attnreg.__file__.startswith(sys.argv[1]), attnreg.__file__
    rng = np.random.default_rng(0)
    n, d = 300, 3
    A1, A2, X = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    B = rng.dirichlet(np.ones(n), size=n)
    print(repr(float(attnreg.loss(A1, A2, B, X, version="normalized", threads=1))))
""")


def _expected_loss():
    rng = np.random.default_rng(0)
    n, d = 300, 3
    A1, A2, X = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    B = rng.dirichlet(np.ones(n), size=n)
    return _numpy_kernels(lambda: float(attnreg.loss(A1, A2, B, X, version="normalized", threads=1)))


def test_defect3_no_writable_numba_cache_location(tmp_path):
    """A copy of the package whose ``__pycache__`` cannot be created (a regular file stands there: this works as
    root too), a home and XDG cache under a regular file, no NUMBA_CACHE_DIR: numba raises "no locator available"
    from the import of attnreg._fused_numba, so the call fails."""
    pkg = tmp_path / "site"
    shutil.copytree(os.path.join(ROOT, "attnreg"), pkg / "attnreg",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (pkg / "attnreg" / "__pycache__").write_text("not a directory")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    script = tmp_path / "run.py"
    script.write_text(_LOSS_SCRIPT)
    env = _env(PYTHONPATH=str(pkg), HOME=str(blocker), XDG_CACHE_HOME=str(blocker / "cache"),
               PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, str(script), str(pkg)], cwd=str(tmp_path), env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]             # RuntimeError: cannot cache function '_sum': no locator
    assert abs(float(r.stdout.strip()) - _expected_loss()) <= 4 * 300 * U * _expected_loss()


def test_defect4_numba_present_but_not_importable(tmp_path):
    """A numba whose import raises (here a stub package first on the path raising numba's own NumPy-version
    ImportError): ``available()`` says yes, ``kernels()`` raises inside the call."""
    stub = tmp_path / "stub" / "numba"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('raise ImportError("Numba needs NumPy 2.3 or less. Got NumPy 2.4.")\n')
    script = tmp_path / "run.py"
    script.write_text(_LOSS_SCRIPT)
    r = subprocess.run([sys.executable, str(script), ROOT], cwd=ROOT, env=_env(PYTHONPATH=str(tmp_path / "stub")),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]             # ImportError: Numba needs NumPy 2.3 or less
    assert abs(float(r.stdout.strip()) - _expected_loss()) <= 4 * 300 * U * _expected_loss()


# --------------------------------------------------------------------------------------------------------------------
# What held

def test_written_entries_are_the_numpy_statements_given_the_sums():
    """Each fused kernel writes exactly ``((f − b) − ⟨f,c⟩)·f`` etc. from its own sums (bit for bit)."""
    K = _fused.kernels()
    rng = np.random.default_rng(3)
    n = 777
    for _ in range(5):
        e = np.exp(rng.standard_normal(n) * 2)
        b, ds = rng.dirichlet(np.ones(n)), rng.standard_normal(n)
        t = K._sum(e)
        inv = 1.0 / t
        f = e * inv
        _, fc, _ = K._stats_normalized(e, b, inv, t)
        S = e[None].copy()
        K.normalized(S, b[None].copy(), np.empty(1), np.empty(1, bool), True)
        assert np.array_equal(S[0], ((f - b) - fc) * f)
        _, hb, _ = K._stats_rescaled(e, b, t)
        S = e[None].copy()
        K.rescaled(S, b[None].copy(), np.empty(1), np.empty(1), np.empty(1, bool), True)
        assert np.array_equal(S[0], ((e - b * t) - hb) * e)
        r, mu, _ = K._stats_normalized_hvp(e, b, ds, inv, t)
        z = (ds - mu) * (((f - b) + f) - r)
        S, D = e[None].copy(), ds[None].copy()
        K.normalized_hvp(S, b[None].copy(), D, np.empty(1), np.empty(1, bool))
        assert np.array_equal(D[0], (z - K._dot_scaled(e, z, inv)) * f)
        _, tt, hT, da, duT, _ = K._stats_rescaled_hvp(e, b, ds, t)
        kappa = (duT - da * (tt * inv)) * inv
        T, du = b * t, ds * e
        S, D = e[None].copy(), ds[None].copy()
        K.rescaled_hvp(S, b[None].copy(), D, np.empty(1), np.empty(1), np.empty(1, bool))
        assert np.array_equal(D[0], ((e - T) - hT * inv) * du + ((du - T * (da * inv)) - kappa) * e)


def _hard_rows(n, rng):
    rows = []
    rows.append(("ordinary", rng.standard_normal(n), rng.dirichlet(np.ones(n))))
    rows.append(("spread", rng.standard_normal(n) * 5, rng.dirichlet(np.ones(n) * 0.1)))
    for mult in (1 - 1e-9, 1 + 1e-9, 1 - 1e-14, 1 + 1e-14):  # f_max just below / above ½
        s = rng.standard_normal(n)
        s[0] = math.log(np.exp(s[1:]).sum() * mult)
        rows.append((f"dominated×{mult}", s, rng.dirichlet(np.ones(n))))
    s = rng.standard_normal(n)
    rows.append(("one-hot at argmax", s, np.eye(n)[np.argmax(s)]))
    s = rng.standard_normal(n)
    rows.append(("one-hot elsewhere", s, np.eye(n)[np.argmin(s)]))
    for name, v in (("b=½", 0.5), ("b<½", np.nextafter(0.5, 0)), ("b>½", np.nextafter(0.5, 1))):
        b = rng.dirichlet(np.ones(n))
        b[3] = v
        rows.append((name, rng.standard_normal(n), b))
    rows.append(("B<0", rng.standard_normal(n), -rng.dirichlet(np.ones(n))))
    rows.append(("B 1e3", rng.standard_normal(n), 1e3 * rng.dirichlet(np.ones(n))))
    rows.append(("B 1e-300", rng.standard_normal(n), 1e-300 * rng.dirichlet(np.ones(n))))
    rows.append(("B subnormal", rng.standard_normal(n), 5e-324 * rng.integers(0, 3, n)))
    rows.append(("B 0", rng.standard_normal(n), np.zeros(n)))
    return rows


@pytest.mark.parametrize("hvp", [False, True], ids=["loss+grad", "hvp"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_hard_rows_against_the_oracle(version, hvp):
    """Same flags; on unflagged rows the fused error is within 8× the NumPy kernels' (or 4u) of the oracle."""
    _hard_rows_check(version, hvp, 256, np.random.default_rng(11))


def _hard_rows_check(version, hvp, n, rng):
    rows = _hard_rows(n, rng)
    S, B = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    dS = rng.standard_normal(S.shape) if hvp else None
    outs = _compare(version, hvp, False, S, B, dS)
    assert sum(not o["f0"] for o in outs) >= 8               # not vacuous
    for (name, _, _), o in zip(rows, outs):
        assert o["f0"] == o["f1"], name
        if not o["f0"]:
            assert o["e1"] <= 8 * max(o["e0"], 4 * U), (name, o)
            assert o["w1"] <= 8 * max(o["w0"], 4 * U), (name, o)


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_window_edges_and_extreme_directions(version):
    """Logits at the safe window's top and bottom (proved safe and not), a row across the window, rescaled rows at the
    calm thresholds (``Σh²`` at ``e^{±0.8·log max}`` ± 1e−3 and ± 1e−12 in the log); HVP directions of scale 1e300,
    1e−300, 1e−320: same flags, fused within 8× the NumPy kernels' error (or 4u)."""
    rng = np.random.default_rng(5)
    n = 300
    lo, hi = _fastrows.limits(BIG, TINY, n, version)
    S = np.array([rng.standard_normal(n) + hi - 3.5, rng.standard_normal(n) + lo + 3.5, np.linspace(lo, hi, n)])
    S[0] += hi - S[0].max()
    S[1] += lo - S[1].min()
    B = rng.dirichlet(np.ones(n), size=3)
    if version == "rescaled":  # rows whose Σh² sits just inside / outside the calm thresholds e^{±0.8·log max}
        s0, b0 = rng.standard_normal(n), rng.dirichlet(np.ones(n))
        log_hh0 = math.log(float(np.sum((np.exp(s0) - np.exp(s0).sum() * b0) ** 2)))
        edge = 0.8 * math.log(BIG)
        rows = [s0 + (target - log_hh0) / 2 + off for target in (edge, math.log(n) - edge)
                for off in (-1e-3, -1e-12, 1e-12, 1e-3)]
        S, B = np.vstack([S] + rows), np.vstack([B] + [b0] * len(rows))
    checked = 0
    for safe in (True, False):
        for hvp, scale in ((False, 1.0), (True, 1.0), (True, 1e300), (True, 1e-300), (True, 1e-320)):
            dS = rng.standard_normal(S.shape) * scale
            for o in _compare(version, hvp, safe, S, B, dS if hvp else None):
                checked += not o["f0"]
                assert o["f0"] == o["f1"]
                if not o["f0"]:
                    assert o["e1"] <= 8 * max(o["e0"], 4 * U), o
    print(version, "unflagged rows checked:", checked)
    assert checked >= 10 if version == "normalized" else checked >= 4


def test_deep_cancellation_uniform_row_within_the_sum_order_bound():
    """A constant row of logits with ``B = fl(1/n)`` (n = 4099): the loss row is 5.9e4× its ≈1e−36 true value
    (NumPy kernels: 3.8e2×), the measured price of the reassociated ``α``; still inside the bound: each ``c_j`` off by
    at most ``γ_m f_j`` (m = n/16 + 4, plus the few roundings of ``f``), so ``ℓ ≤ ½ Σ (|c_j| + γ f_j)²``."""
    n = 4099
    S, B = np.full((1, n), 0.3), np.full((1, n), 1 / n)
    w1, f1, _ = _kernel("normalized", False, True, S, B, fused=True)
    w0, f0, _ = _kernel("normalized", False, True, S, B, fused=False)
    assert not f1[0] and not f0[0]
    ctx = _ctx()
    truth, _ = mp_row(ctx, "normalized", False, S[0], B[0])
    c = abs(ctx.mpf(1) / n - ctx.mpf(B[0, 0]))
    gamma = (n / 16 + 8) * U
    assert w1[0] <= float(n * (c + gamma / n) ** 2 / 2)
    print("loss row / truth: fused %.2g, NumPy kernels %.2g" % (w1[0] / truth, w0[0] / truth))


def test_row_sums_of_equal_entries_within_the_documented_bound():
    """The reassociated sum of n equal entries: measured 37 ulps at n = 10007 (NumPy's pairwise sum: 1), inside
    ``γ_m``, m = n/16 + 4 (the docstring's depth)."""
    K = _fused.kernels()
    from fractions import Fraction
    for n in (4096, 10007):
        for v in (math.exp(0.3), 0.1, 1 / 3):
            exact = float(Fraction(v) * n)
            err = abs(K._sum(np.full(n, v)) - exact)
            m = n / 16 + 4
            assert err <= m * U * exact * (1 + 1e-6)


def test_ties_at_one_half_values_right_by_either_route():
    """Rows with ``2·e_max`` within an ulp of ``α``: the two kernel sets may flag differently (61 of 400 here);
    through the public API (A1 = A2 = I, so ∇L = P) the gradient rows are right either way."""
    rng = np.random.default_rng(11)
    n = 256
    S = np.log(rng.dirichlet(np.ones(n - 1) * 50, size=n))
    S = np.concatenate([np.zeros((n, 1)), S], axis=1)
    S[:, 1:] += rng.integers(-3, 4, (n, 1)) * 2.0**-52
    B = rng.dirichlet(np.ones(n), size=n)
    _, f0, _ = _kernel("normalized", False, True, S, B, fused=False)
    _, f1, _ = _kernel("normalized", False, True, S, B, fused=True)
    differ = np.flatnonzero(f0 != f1)
    assert differ.size > 0                                   # the ties are there (not vacuous)
    eye = np.eye(n)
    _, G1 = attnreg.loss_and_grad(eye, eye, B, S, version="normalized", threads=1)
    _, G0 = _numpy_kernels(lambda: attnreg.loss_and_grad(eye, eye, B, S, version="normalized", threads=1))
    ctx = _ctx()
    for i in differ[:8]:
        _, p = mp_row(ctx, "normalized", False, S[i], B[i])
        assert rel_err(G1[i], p) < 8 * n * U and rel_err(G0[i], p) < 8 * n * U


def test_layouts_same_bits():
    """Fortran, reversed, sliced, read-only, unaligned, memmap B and an unaligned A1: the C-order call's bits."""
    A1, A2, B, X, V = _problem(260, 3, seed=0)
    base = _digest(_everything(A1, A2, B, X, V, threads=1))

    def unaligned(a):
        buf = np.zeros(a.nbytes + 8, dtype=np.uint8)
        u = np.frombuffer(buf.data, dtype=np.float64, count=a.size, offset=1).reshape(a.shape)
        u[...] = a
        return u
    big = np.zeros((B.shape[0] + 5, B.shape[1] + 7))
    big[2:-3, 3:-4] = B
    ro = B.copy()
    ro.flags.writeable = False
    layouts = [np.asfortranarray(B), B[::-1, ::-1].copy()[::-1, ::-1], big[2:-3, 3:-4], ro, unaligned(B)]
    assert not layouts[-1].flags.aligned
    for Bx in layouts:
        assert _digest(_everything(A1, A2, Bx, X, V, threads=1)) == base
    assert _digest(_everything(unaligned(A1), A2, B, X, V, threads=1)) == base


def test_torch_cpu_tensors_same_bits():
    torch = pytest.importorskip("torch")
    A1, A2, B, X, V = _problem(300, 5, seed=1)
    want = _digest(_everything(A1, A2, B, X, V, threads=2))
    t = [torch.from_numpy(a) for a in (A1, A2, B, X, V)]
    assert _digest([r.numpy() if hasattr(r, "numpy") else r for r in _everything(*t, threads=2)]) == want
    t[2] = torch.from_numpy(np.ascontiguousarray(B.T)).T     # a transposed (strided) B
    assert _digest([r.numpy() if hasattr(r, "numpy") else r for r in _everything(*t, threads=2)]) == want


@pytest.mark.parametrize("n,d", [(255, 1), (256, 1), (257, 3), (1031, 4)])
def test_threshold_sizes_thread_counts_and_the_numpy_kernels(n, d):
    A1, A2, B, X, V = _problem(n, d, seed=n)
    r1 = _everything(A1, A2, B, X, V, threads=1)
    assert _digest(_everything(A1, A2, B, X, V, threads=2)) == _digest(r1)
    assert _digest(_everything(A1, A2, B, X, V, threads=1)) == _digest(r1)
    _close(r1, _numpy_kernels(lambda: _everything(A1, A2, B, X, V, threads=1)), rel=64 * U)
    for rows in (1, 7, 64):
        _close(_everything(A1, A2, B, X, V, threads=2, block_rows=rows), r1, rel=64 * U)


def test_python_threads_and_fork_keep_the_bits():
    A1, A2, B, X, V = _problem(300, 3, seed=2)
    want = _digest(_everything(A1, A2, B, X, V, threads=2, block_rows=64))
    got = []
    ths = [threading.Thread(target=lambda: got.append(_digest(_everything(A1, A2, B, X, V, threads=2,
                                                                            block_rows=64)))) for _ in range(3)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert got == [want] * 3
    if not hasattr(os, "fork") or "jax" in sys.modules:  # a fork beside JAX's threads can deadlock (JAX warns):
        return  # in a pytest worker that ran JAX only the threads are checked
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = _digest(_everything(A1, A2, B, X, V, threads=2, block_rows=64)) == want
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_non_finite_targets_raise_as_with_the_numpy_kernels():
    A1, A2, B, X, V = _problem(300, 3, seed=4)
    for bad in (np.nan, np.inf, -np.inf):
        Bx = B.copy()
        Bx[7, 11] = bad
        for version in attnreg.VERSIONS:
            for call in (lambda: attnreg.loss_and_grad(A1, A2, Bx, X, version=version),
                         lambda: attnreg.hvp(A1, A2, Bx, X, V, version=version)):
                with pytest.raises(Exception) as fused_exc:
                    call()
                with pytest.raises(Exception) as numpy_exc:
                    _numpy_kernels(call)
                assert type(fused_exc.value) is type(numpy_exc.value)
                assert str(fused_exc.value) == str(numpy_exc.value)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_huge_and_tiny_targets_match_the_numpy_kernels(scale):
    A1, A2, B, X, V = _problem(300, 3, seed=6)
    Bx = B * scale
    _close(_everything(A1, A2, Bx, X, V), _numpy_kernels(lambda: _everything(A1, A2, Bx, X, V)), rel=64 * U)


@pytest.mark.slow
def test_fresh_cache_two_processes_compiling_at_once(tmp_path):
    """Two processes compile into one fresh NUMBA_CACHE_DIR at once, a third loads it: the same bits, no stderr."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import hashlib, numpy as np, attnreg, warnings
        warnings.simplefilter("error")
        rng = np.random.default_rng(0)
        n, d = 300, 3
        A1, A2 = rng.standard_normal((n, d)) / 3, rng.standard_normal((n, d)) / 3
        X, V, B = rng.standard_normal((d, d)), rng.standard_normal((d, d)), rng.dirichlet(np.ones(n), size=n)
        h = hashlib.sha256()
        for v in attnreg.VERSIONS:
            L, G = attnreg.loss_and_grad(A1, A2, B, X, version=v, threads=2)
            h.update(np.float64(L).tobytes() + G.tobytes() + attnreg.hvp(A1, A2, B, X, V, version=v).tobytes())
        print(h.hexdigest())
    """))
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    procs = [subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    third = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)
    outs.append((third.stdout, third.stderr))
    assert all(p.returncode == 0 for p in procs) and third.returncode == 0
    assert len({o for o, _ in outs}) == 1 and all(e == "" for _, e in outs), outs


@pytest.mark.slow
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_cli_solve_leaks_no_warning(tmp_path, version):
    rng = np.random.default_rng(1)
    n, d = 300, 6
    for name, X0, B in (("large logits", np.eye(d) * 40 / math.sqrt(d), rng.dirichlet(np.ones(n), size=n)),
                        ("huge targets", np.eye(d), 1e300 * rng.dirichlet(np.ones(n), size=n)),
                        ("one-hot", np.eye(d) * 2, np.eye(n)[rng.integers(0, n, n)])):
        path = tmp_path / "data.npz"
        np.savez(path, A1=rng.standard_normal((n, d)), A2=rng.standard_normal((n, d)), B=B, X0=X0)
        for method in ("newton-cg", "lbfgs"):
            r = subprocess.run([sys.executable, "-W", "error", "-m", "attnreg", "solve", "--version", version,
                                "--method", method, "--max-iter", "3", str(path)], cwd=ROOT, env=_env(),
                               capture_output=True, text=True, timeout=120)
            assert r.returncode in (0, 1) and "Warning" not in r.stderr and "Traceback" not in r.stderr, \
                (name, method, r.stderr[-1500:])


@pytest.mark.slow
@pytest.mark.parametrize("n", [1000, 4099])
@pytest.mark.parametrize("hvp", [False, True], ids=["loss+grad", "hvp"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_hard_rows_against_the_oracle_long_rows(version, hvp, n):
    _hard_rows_check(version, hvp, n, np.random.default_rng(n))
