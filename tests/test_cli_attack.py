"""Eleventh attack: ``attnreg solve``, ``attnreg check-impl`` and ``attnreg audit`` against their promises.

Every run below goes through the command line (``sys.executable -m attnreg``) or the solver it calls.
A solver's "converged" is checked against an independent mpmath evaluation of the gradient (this file's
``_mp_grad_norm``: rows from :func:`attnreg.verify.oracle.row`, digits chosen from the logits; the formulas
normalized ``p = f∘(c − ⟨f, c⟩)``, rescaled ``p = u∘(h − ⟨h, b⟩)``, ``∇L = A1ᵀ P A2``; 60 digits when the attack
ran, which the figures below were measured at).

What broke (strict xfails; input, what happened, what should happen, the code at fault)
-------------------------------------------------------------------------------------------------

1. ``solve`` prints a false inequality and exits 0. Data ``n = 4, d = 2``, one-hot ``B`` (a permutation),
   saturated start ``X0 ~ 1000·N(0, 1)`` (:func:`_saturated`), ``--method lbfgs --version normalized``:
   "converged: ||∇L|| = 6.82e-10 ≤ tol = 7.5e-12 ... at the float64 rounding floor; degenerate stationary
   point", exit 0. The loss fell from 3.0 to 2.75 in the last step (it is leaving a saddle plateau) and the
   60-digit gradient is 6.82e-10, 90× the tolerance. Expected: ``max_iter``/``line search`` (exit 1), or
   more iterations. At fault: ``attnreg/solvers.py::_minimise``: ``polishing`` stays True once
   ``||∇L|| ≤ tol`` was met at some earlier iterate, and a later failed line search turns into
   ``Stop.CONVERGED`` without re-testing ``gn <= target``; ``_conclude`` then prints "≤" unconditionally
   (the reference solver, ``reference/solvers.py::_finish``, re-tests; the production one does not).
   *Fixed in* ``_minimise``: whether the current iterate meets tol is decided afresh at every step, and a failed
   line search counts as the rounding floor only then.
2. ``solve --tol`` below what float64 can deliver is certified by rounding noise. The rescaled problem of
   :func:`_res0` (n = 4, d = 1, default start) with ``--tol 1e-15``: "converged: ||∇L|| = 0 ≤ tol = 1e-15
   ... at the float64 rounding floor", exit 0; the 60-digit gradient at the written X is 1.67e-15 > tol
   (the default tol there is ~1e-10: the float gradient's absolute error is ~eps·scale). Expected: a
   tolerance below the rounding floor refused or raised to it, or "converged" only when the computed norm
   plus its error bound is ≤ tol. At fault: ``_minimise`` ("an explicit tol stops as soon as it is met")
   and the reason text, which claims the rounding floor although it was never tested.
   *Fixed in* ``_minimise`` and ``stopping.rounding``: an explicit tol is met by ``||∇L||`` plus the gradient's
   rounding error (``16·eps·scale``, an estimate); below it the run ends as a failed line search that says so.
3. ``solve`` on tiny data: ``A1, A2 ~ 1e-170·N(0, 1)``, ``B`` on the simplex, normalized: the scale
   ``||A1||·||A2|| ~ 1e-339`` makes ``tol = 0`` and the gradient underflows to 0 at ``X0 = 0``:
   "converged: ||∇L|| = 0 ≤ tol = 0 after 0 iterations ... degenerate stationary point", exit 0. The true
   gradient is ~1e-341 ≠ 0 and the loss (0.30) falls along ``X ~ 1e340``: not a stationary point. An
   overflowing scale stops as ``non-finite``; an underflowing one should too (or the data be rescaled).
   At fault: ``attnreg/stopping.py::tolerance`` / ``_minimise`` (only ``not isfinite(target)`` is tested).
   *Fixed in* ``_minimise``: a default tolerance below the smallest normal number, on data that are not zero,
   stops the run as ``non-finite`` (exit 1, "rescale the data"); zero data keep tol 0, met exactly.
4. ``solve`` on malformed archives: tracebacks (exit 1) instead of one sentence and exit 2, from
   ``attnreg/cli/solve_cmd.py::load`` (only ``ValueError`` is caught around ``archive[key]``): a member
   without the ``.npy`` suffix (``np.load`` hands back ``bytes``: ``AttributeError: 'bytes' object has no
   attribute 'dtype'``), a member with a bad CRC (``zipfile.BadZipFile``), a corrupt deflate stream
   (``zlib.error``), and a ``.npy`` header claiming shape (1e11, 5) (``numpy._ArrayMemoryError``).
   *Fixed in* ``solve_cmd.load``: each is one sentence, exit 2 (and a directory is named as one).
5. ``check-impl``: a first call that runs past ``--timeout`` is forgotten. ``smoke()`` (``attnreg/cli/
   check_impl_cmd.py``) calls the target once under the limit and *returns* on ``CallTimeout`` ("judged
   per case"), but the cases call it afresh: a target that sleeps 5 s on its first call only passes with
   ``--timeout 1`` (verdict PASS, exit 0). The same path, seen with a target that does ``import torch``
   inside the call under ``--timeout 1``: the interrupted import leaves torch half-initialised, every case
   "raised" ``RuntimeError: Trying to override a python impl for DispatchKey.Meta`` (a wrong diagnosis: the
   true story is the timeout), and the process ended with a segmentation fault (exit 139, not 0/1/2).
   *Fixed in* ``check_impl_cmd.smoke``: its call is the first case's measurement, handed to ``check.run``
   (``first=``), so its timeout ends the run (FAIL naming the case) and the half-imported target is not
   called again (no exit 139 seen since; a segfault inside torch itself is not something we can contain).
6. ``check-impl``/``audit``: a call that catches the interruption (``except BaseException`` around its
   sleep) and returns late is measured as "ok": a target whose first call takes 3 s passes with
   ``--timeout 1`` (exit 0); ``audit --timeout 1`` on a target taking 3 s per call ran for 300 s (killed)
   and never flags a point. The time is never measured after the call. At fault:
   ``verify/conformance/runner.py::measure`` (and :mod:`.timelimit`, whose limits are documented as "not
   stopped", but a late return should still count as past the limit). *Fixed in* ``runner.measure`` (the
   call is timed; a return after the limit is status ``timeout``: check-impl FAIL, audit incomplete, exit 1)
   and ``diagnose.fd_check``, whose nine calls had no limit at all (nor the output redirection).
7. ``check-impl``/``audit``: a return value that cannot be read, on a case after the first (``object()``,
   ``10**400``, a generator, a set; the first case is screened by ``smoke``): traceback, exit 1, no
   ``--json`` file / an empty ``--out`` folder. At fault: ``runner.measure`` catches only ``TargetError``
   from ``target.split``; ``target.to_float64`` raises ``TypeError``/``OverflowError``. *Fixed in*
   ``runner.measure``: status ``unreadable``, a failed case with one sentence (check-impl's diagnosis, audit's
   point and summary); on the first case it stays a usage error (exit 2).
8. ``audit``'s summary hides calls that raised. A target that raises on every call: exit 0 ("every point
   was measured"), summary "—" everywhere and "outside the bound: none". A target that raises
   ``OverflowError`` once max|S| > 40: summary "NaN/inf from —", "largest representable 32.0" (a
   property of the *true* values, which are representable up to 2048: the correct target reports 2048),
   "within bound up to 32", "outside the bound: none". At fault:
   ``verify/conformance/audit_report.py::summary`` (only ``status == "ok"`` points), ``main``'s exit code.
   *Fixed in* ``audit_report``: the summary counts the calls that raised or returned no number (a column,
   ``failed_calls``/``failed_from``), "largest representable" is taken over every point, "within bound up
   to" stops below the first failed call, "none" becomes "none of the k measured", and the audit exits 1
   with one line naming the first failed call.
9. (lower severity) ``check-impl``: a target that calls ``os._exit(0)`` ends the run with exit status 0 —
   "pass" — and no verdict printed. The target runs in-process; a child process would contain it.
   *Fixed in* ``verify/conformance/contain.py``: during each call ``os._exit`` is a stand-in raising
   ``SystemExit`` (a failed case); a forked child gets the real one. Not covered: ``posix._exit``, a
   reference taken before the call, C-level ``exit()``/``abort()``, signals (that needs a child process).
10. (lower severity) Output written at the file-descriptor level by the target (``os.write(1, ...)``, a C
    extension's printf) goes into check-impl's and audit's stdout between the report lines; only
    Python-level ``print`` is redirected (``runner.measure``). *Fixed in* ``contain.contained``: fds 1 and 2
    point at a temporary file during each call (C stdio flushed on both sides).

What held (plain tests below, or checked by hand in this session)
------------------------------------------------------------------
* With the default tolerance, every "converged" of 30 random problems (n ≤ 5, d ≤ 2) × both versions ×
  both methods was stationary to the printed tol against the 60-digit gradient; so were saturated starts
  (X0 ~ 30, 300, 1e5·N(0, 1); rescaled ones that overflow stop as ``non-finite``), n = d = 1, rows of B not
  summing to 1, ill-conditioned (cond 1e16) and rank-deficient ``A1``; the vector form with one-hot ``b``
  ("global minimum" at ||x|| = 4.5e14, loss 0 to working precision, as the docs define it) and
  ``--method reference``.
* ``--out`` holds ``reason``, ``converged``, ``grad_norm`` agreeing with the printed lines and the exit code.
* Malformed data with one sentence and exit 2: a folder (the sentence said "no such file"), a text file, a
  truncated zip, a pickled object array (never unpickled: its ``__reduce__`` did not run), bool / complex /
  str / datetime dtypes, a 0-d array, an empty archive, n = 0, d = 0, a wrong shape, a NaN ``X0``, a
  ``longdouble`` 1e400 (non-finite after conversion), extra arrays.
* ``check-impl`` with a target that raises, returns NaN, sleeps (``--timeout 1``: FAIL naming the case in
  ~3 s), prints (Python level), returns a list, returns torch tensors with ``requires_grad`` (torch imported
  at module level), returns a gradient of the wrong shape (exit 2, one sentence); a textbook softmax
  without the max shift (FAIL, "NaN/inf ... from max logit ≈ 737.1 ... exp overflows"); gradients wrong
  only on one-hot rows (FAIL on ``matrix-onehot``).
* ``audit --timeout 1`` on a sleeping target: exit 1, "audit incomplete", report written and marked.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from attnreg.verify.oracle import context, mp_rows, row


def _cli(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "attnreg", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def _mp_grad_norm(A1, A2, B, X, version):
    """||∇L||_F at float64 data in mpmath, the rows by :func:`attnreg.verify.oracle.row` (independent of attnreg's
    kernels) at the digits :func:`~attnreg.verify.oracle.context` gives the logits (``e^{±2 max|S|}`` and guards): a
    fixed 60 digits cannot resolve ``1 − f`` of a row saturated by a logit gap of 1000 (a saturated start's)."""
    ctx = context(np.abs(np.asarray(A1) @ np.asarray(X) @ np.asarray(A2).T))
    A1, A2, B, X = (mp_rows(ctx, M) for M in (A1, A2, B, X))
    n1, n2, d = len(A1), len(A2), len(X)
    AX = [[ctx.fsum(A1[j][i] * X[i][k] for i in range(d)) for k in range(d)] for j in range(n1)]
    S = [[ctx.fsum(AX[j][k] * A2[l][k] for k in range(d)) for l in range(n2)] for j in range(n1)]
    P = [row(ctx, s, b, version)[1] for s, b in zip(S, B)]
    G = [[ctx.fsum(A1[j][i] * P[j][l] * A2[l][k] for j in range(n1) for l in range(n2)) for k in range(d)]
         for i in range(d)]
    return ctx.sqrt(ctx.fsum(g ** 2 for r in G for g in r))


def _printed_tol(reason: str) -> tuple[float, str, float]:
    g, rel, t = re.search(r"\|\|∇L\|\| = (\S+) (≤|>) tol = ([^ ,;)]+)", reason).groups()
    return float(g), rel, float(t)


def _saturated():
    """n = 4, d = 2, B a permutation matrix, X0 ~ 1000·N(0, 1) (the third draw of this generator)."""
    rng = np.random.default_rng(1)
    for scale in (30, 300, 1e3):
        A1, A2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
        B = np.eye(4)[rng.permutation(4)]
        X0 = rng.standard_normal((2, 2)) * scale
    return A1, A2, B, X0


def _res0():
    """The third draw of t1's generator: n = 4, d = 1, a rescaled problem with a local minimum."""
    rng = np.random.default_rng(0)
    for _ in range(3):
        n, d = rng.integers(2, 6), rng.integers(1, 3)
        A1 = rng.standard_normal((n, d)) * rng.choice([1, 3])
        A2 = rng.standard_normal((n, d))
        B = rng.dirichlet(np.ones(n), size=n)
    return A1, A2, B


# ---------------------------------------------------------------------------------------------------- solve

def test_solve_converged_means_grad_below_tol_after_saturated_start(tmp_path):
    """Defect 1, fixed: a failed line search counts as the rounding floor only when the current ||∇L|| is below tol."""
    A1, A2, B, X0 = _saturated()
    np.savez(tmp_path / "d.npz", A1=A1, A2=A2, B=B, X0=X0)
    r = _cli("solve", tmp_path / "d.npz", "--version", "normalized", "--method", "lbfgs", "--out", tmp_path / "r.npz")
    assert r.returncode in (0, 1), r.stderr
    res = np.load(tmp_path / "r.npz")
    if r.returncode == 0:
        g, rel, t = _printed_tol(str(res["reason"]))
        assert rel == "≤" and g <= t
        assert float(_mp_grad_norm(A1, A2, B, res["X"], "normalized")) <= t


def test_solve_explicit_tol_below_floor_is_not_overclaimed(tmp_path):
    """Defect 2, fixed: an explicit tol is met by ||∇L|| plus its rounding error (``stopping.rounding``)."""
    A1, A2, B = _res0()
    np.savez(tmp_path / "d.npz", A1=A1, A2=A2, B=B)
    r = _cli("solve", tmp_path / "d.npz", "--version", "rescaled", "--tol", "1e-15", "--out", tmp_path / "r.npz")
    assert r.returncode in (0, 1, 2), r.stderr
    if r.returncode == 0:
        X = np.load(tmp_path / "r.npz")["X"]
        assert float(_mp_grad_norm(A1, A2, B, X, "rescaled")) <= 1e-15


def test_solve_tiny_data_is_not_declared_stationary(tmp_path):
    """Defect 3, fixed: a default tolerance that underflows (nonzero data) stops the run as non-finite."""
    rng = np.random.default_rng(0)
    A1, A2 = rng.standard_normal((4, 2)) * 1e-170, rng.standard_normal((4, 2)) * 1e-170
    B = rng.dirichlet(np.ones(4), size=4)
    np.savez(tmp_path / "d.npz", A1=A1, A2=A2, B=B)
    r = _cli("solve", tmp_path / "d.npz", "--version", "normalized", "--out", tmp_path / "r.npz")
    assert r.returncode in (0, 1, 2), r.stderr
    if r.returncode == 0:
        res = np.load(tmp_path / "r.npz")
        _, _, t = _printed_tol(str(res["reason"]))
        true = _mp_grad_norm(A1, A2, B, res["X"], "normalized")
        assert true > 0  # the oracle sees the gradient
        assert true <= t


def _members(A1, A2, B):
    out = {}
    for k, v in dict(A1=A1, A2=A2, B=B).items():
        buf = io.BytesIO()
        np.save(buf, v)
        out[k] = buf.getvalue()
    return out


def _bad_archive(kind, path):
    rng = np.random.default_rng(0)
    A1, A2, B = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.dirichlet(np.ones(5), size=5)
    if kind == "raw-member":
        with zipfile.ZipFile(path, "w") as z:
            for k, v in _members(A1, A2, B).items():
                z.writestr(k + ".npy", v)
            z.writestr("X0", b"hello")
    elif kind == "bad-crc":
        np.savez(path, A1=A1, A2=A2, B=B)
        data = bytearray(path.read_bytes())
        j = data.find(b"\n", data.find(b"NUMPY")) + 5  # inside A1's data
        data[j] ^= 0xFF
        path.write_bytes(bytes(data))
    elif kind == "bad-deflate":
        np.savez_compressed(path, A1=A1, A2=A2, B=B)
        data = bytearray(path.read_bytes())
        data[60] ^= 0xFF
        data[70] ^= 0x55
        path.write_bytes(bytes(data))
    elif kind == "huge-shape":
        members = _members(A1, A2, B)
        members["B"] = members["B"].replace(b"(5, 5)", b"(100000000000, 5)")
        with zipfile.ZipFile(path, "w") as z:
            for k, v in members.items():
                z.writestr(k + ".npy", v)


@pytest.mark.parametrize("kind", ["raw-member", "bad-crc", "bad-deflate", "huge-shape"])
def test_solve_malformed_archive_one_sentence(tmp_path, kind):
    """Defect 4, fixed: ``solve_cmd.load`` turns a member it cannot read into one sentence."""
    path = tmp_path / "bad.npz"
    _bad_archive(kind, path)
    r = _cli("solve", path, "--version", "normalized", "--max-iter", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def _held_archives(tmp_path):
    rng = np.random.default_rng(0)
    A1, A2, B = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.dirichlet(np.ones(5), size=5)
    obj = np.empty(1, dtype=object)
    obj[0] = _Evil()
    cases = {
        "pickle": dict(A1=obj, A2=A2, B=B), "bool": dict(A1=A1, A2=A2, B=B > 0.2),
        "complex": dict(A1=A1 + 0j, A2=A2, B=B), "str": dict(A1=A1, A2=A2, B=np.array(["a"])),
        "zerod": dict(A1=np.float64(1), A2=A2, B=B), "empty": {}, "n0": dict(A1=np.zeros((0, 2)),
                                                                            A2=np.zeros((0, 2)), B=np.zeros((0, 0))),
        "d0": dict(A1=np.zeros((5, 0)), A2=np.zeros((5, 0)), B=B), "shape": dict(A1=A1, A2=A2, B=B[:4]),
        "nanX0": dict(A1=A1, A2=A2, B=B, X0=np.full((2, 2), np.nan)),
        "longdouble": dict(A1=np.full((5, 2), np.longdouble("1e400")), A2=A2, B=B),
        "extra": dict(A1=A1, A2=A2, B=B, A=A1, b=B[0]),
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
    (tmp_path / "text.npz").write_text("hello")
    (tmp_path / "folder.npz").mkdir()
    np.savez(tmp_path / "good.npz", A1=A1, A2=A2, B=B)
    (tmp_path / "trunc.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:300])
    return [*cases, "text", "folder", "trunc"]


class _Evil:
    def __reduce__(self):
        return (print, ("UNPICKLED",))


@pytest.mark.slow  # 5.5 s of subprocesses; the malformed-file policy is also tested in test_solve_cli
def test_solve_bad_archives_held(tmp_path):
    for name in _held_archives(tmp_path):
        r = _cli("solve", tmp_path / f"{name}.npz", "--version", "normalized", "--max-iter", "1")
        assert r.returncode == 2, (name, r.stderr)
        assert "Traceback" not in r.stderr and "Warning" not in r.stderr, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == "", (name, r.stderr, r.stdout)
        assert "UNPICKLED" not in r.stdout + r.stderr


def test_solve_out_file_matches_print_and_exit(tmp_path):
    rng = np.random.default_rng(3)
    A1, A2, B = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.dirichlet(np.ones(5), size=5)
    np.savez(tmp_path / "d.npz", A1=A1, A2=A2, B=B)
    for extra, code in ((["--max-iter", "2"], 1), ([], 0)):
        r = _cli("solve", tmp_path / "d.npz", "--version", "normalized", "--out", tmp_path / "r.npz", *extra)
        assert r.returncode == code, r.stderr
        res = np.load(tmp_path / "r.npz")
        assert bool(res["converged"]) == (code == 0)
        assert " ".join(str(res["reason"]).split()) in " ".join(r.stdout.split())
        assert f"{float(res['grad_norm']):.3e}" in r.stdout
        assert not list(tmp_path.glob(".r.npz.*"))  # no temporary left behind
        if code == 0:
            g, rel, t = _printed_tol(str(res["reason"]))
            assert rel == "≤" and float(_mp_grad_norm(A1, A2, B, res["X"], "normalized")) <= t


def test_solve_default_tol_converged_points_are_stationary():
    from attnreg.solvers import solve

    rng = np.random.default_rng(5)
    for _ in range(3):
        A1, A2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
        B = rng.dirichlet(np.ones(4), size=4)
        for version in ("normalized", "rescaled"):
            r = solve(A1, A2, B, version=version)
            if r.converged:
                assert float(_mp_grad_norm(A1, A2, B, r.X, version)) <= r.info["tol"]


# ------------------------------------------------------------------------------------------ check-impl, audit

TARGETS = textwrap.dedent('''
    import numpy as np, os, time
    _calls = [0]

    def good(A1, A2, B, X):
        S = A1 @ X @ A2.T
        S = S - S.max(axis=1, keepdims=True)
        E = np.exp(S)
        F = E / E.sum(axis=1, keepdims=True)
        C = F - B
        P = F * C - (F * C).sum(axis=1, keepdims=True) * F
        return 0.5 * np.sum(C ** 2), A1.T @ P @ A2

    def noshift(A1, A2, B, X):
        E = np.exp(A1 @ X @ A2.T)
        F = E / E.sum(axis=1, keepdims=True)
        C = F - B
        P = F * C - (F * C).sum(axis=1, keepdims=True) * F
        return 0.5 * np.sum(C ** 2), A1.T @ P @ A2

    def onehot_zero(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        S = A1 @ X @ A2.T
        S = S - S.max(axis=1, keepdims=True)
        E = np.exp(S)
        F = E / E.sum(axis=1, keepdims=True)
        C = F - B
        P = F * C - (F * C).sum(axis=1, keepdims=True) * F
        P[B.max(axis=1) == 1.0] = 0
        return L, A1.T @ P @ A2

    def raises(A1, A2, B, X):
        raise RuntimeError("boom")

    def raises_big(A1, A2, B, X):
        if np.abs(A1 @ X @ A2.T).max() > 40:
            raise OverflowError("math range error")
        return good(A1, A2, B, X)

    def nan(A1, A2, B, X):
        return float("nan"), np.full((X.shape[0],) * 2, np.nan)

    def sleeper(A1, A2, B, X):
        time.sleep(30)
        return good(A1, A2, B, X)

    def slow_first(A1, A2, B, X):
        _calls[0] += 1
        if _calls[0] == 1:
            time.sleep(5)
        return good(A1, A2, B, X)

    def cat_first(A1, A2, B, X):
        _calls[0] += 1
        if _calls[0] == 1:
            t = time.time()
            while time.time() - t < 3:
                try:
                    time.sleep(0.1)
                except BaseException:
                    pass
        return good(A1, A2, B, X)

    def printer(A1, A2, B, X):
        print("PRINTED BY TARGET")
        return good(A1, A2, B, X)

    def fd_printer(A1, A2, B, X):
        os.write(1, b"WRITTEN TO FD 1\\n")
        return good(A1, A2, B, X)

    def aslist(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        return [float(L), G.tolist()]

    def wrongshape(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        return L, G.ravel()

    def late_object(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        return (object(), G) if A1.shape[0] > 16 else (L, G)

    def late_bigint(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        return (10 ** 400, G) if A1.shape[0] > 16 else (L, G)

    def late_generator(A1, A2, B, X):
        L, G = good(A1, A2, B, X)
        return (x for x in [1]) if A1.shape[0] > 16 else (L, G)

    def exit0(A1, A2, B, X):
        os._exit(0)
''')

TORCH_TARGET = textwrap.dedent('''
    import numpy as np, torch

    def fn(A1, A2, B, X):
        S = A1 @ X @ A2.T
        S = S - S.max(axis=1, keepdims=True)
        E = np.exp(S)
        F = E / E.sum(axis=1, keepdims=True)
        C = F - B
        P = F * C - (F * C).sum(axis=1, keepdims=True) * F
        return torch.tensor(0.5 * np.sum(C ** 2), requires_grad=True) * 1, torch.tensor(A1.T @ P @ A2,
                                                                                       requires_grad=True)
''')


@pytest.fixture
def targets(tmp_path):
    (tmp_path / "targets.py").write_text(TARGETS)
    return tmp_path


def _check(targets, name, *extra, examples=2, timeout=1):
    return _cli("check-impl", f"targets.py:{name}", "--examples", examples, "--timeout", timeout, *extra,
                cwd=targets)


def test_check_impl_first_call_past_timeout_fails(targets):
    """fixed: smoke()'s call is the first case's measurement; its timeout ends the run (FAIL, naming the case)."""
    r = _check(targets, "slow_first")
    assert r.returncode == 1 and "time limit" in r.stdout, r.stdout[-2000:]


def test_check_impl_late_return_counts_as_timeout(targets):
    """fixed: runner.measure times the call; a return after --timeout is a timeout (FAIL, naming the case)."""
    r = _check(targets, "cat_first")
    assert r.returncode == 1 and "time limit" in r.stdout, r.stdout[-2000:]


@pytest.mark.parametrize("name", ["late_object", "late_bigint", "late_generator"])
def test_check_impl_unreadable_late_return_no_traceback(targets, name):
    """fixed: an unreadable return is status 'unreadable', a failed case with one sentence; the JSON is written."""
    r = _check(targets, name, "--json", "out.json")
    assert "Traceback" not in r.stderr, r.stderr[-1500:]
    assert r.returncode in (1, 2) and (r.returncode == 2 or (targets / "out.json").exists())
    assert r.returncode == 1 and "cannot read what the function returned" in r.stdout
    report = json.loads((targets / "out.json").read_text())
    assert {c["status"] for c in report["cases"]} == {"ok", "unreadable"} and report["verdict"] == "fail"


def test_check_impl_target_exit_is_not_a_pass(targets):
    """fixed: os._exit is a stand-in raising SystemExit during the call (contain.contained): a failed case."""
    r = _check(targets, "exit0")
    assert r.returncode != 0 or "verdict: PASS" in r.stdout
    assert r.returncode == 1 and "called os._exit(0)" in r.stdout and "verdict: FAIL" in r.stdout


def test_check_impl_fd_output_kept_out(targets):
    """fixed: fds 1 and 2 go to a temporary file during each call (contain.contained)."""
    r = _check(targets, "fd_printer")
    assert r.returncode == 0 and "WRITTEN TO FD 1" not in r.stdout


def test_check_impl_diagnosis_calls_are_held_too(targets):
    """fixed (found with 5–10): the finite-difference calls of the diagnosis (diagnose.fd_check) ran without the
    limit and uncontained: a target printing and sleeping 5 s per call leaked 9 prints and took 45 s."""
    from attnreg.verify.conformance import check

    calls = check.count("matrix", "float64", 2)
    (targets / "t2.py").write_text(textwrap.dedent(f'''
        import time
        from targets import good
        _n = [0]

        def fn(A1, A2, B, X):
            _n[0] += 1
            print("PRINTED BY TARGET")
            if _n[0] > {calls}:
                time.sleep(5)
            L, G = good(A1, A2, B, X)
            return L, G[::-1, ::-1] * 1.7 + 0.01
    '''))
    r = _cli("check-impl", "t2.py:fn", "--examples", 2, "--timeout", 1, cwd=targets, timeout=30)
    assert r.returncode == 1 and "verdict: FAIL" in r.stdout and "PRINTED BY TARGET" not in r.stdout + r.stderr


def test_check_impl_interrupted_torch_import_is_a_timeout(targets):
    """fixed (the torch variant of 5): an import of torch interrupted by --timeout is reported as the timeout, and
    the half-imported module is not called again (it was: 'RuntimeError: ... DispatchKey.Meta', then exit 139)."""
    pytest.importorskip("torch")
    (targets / "ti.py").write_text("from targets import good\n\ndef fn(A1, A2, B, X):\n    import torch  # noqa\n"
                                   "    return good(A1, A2, B, X)\n")
    r = _cli("check-impl", "ti.py:fn", "--examples", 2, "--timeout", 0.2, cwd=targets)
    assert r.returncode == 1 and "time limit of 0.2 s on case matrix-small" in r.stdout, r.stdout[-1500:] + r.stderr
    assert "DispatchKey" not in r.stdout and "Traceback" not in r.stderr


@pytest.mark.slow  # 12 s of subprocesses: what held, not what was fixed
@pytest.mark.parametrize("name, code, needle", [
    ("good", 0, "verdict: PASS"),
    ("noshift", 1, "exp overflows"),
    ("onehot_zero", 1, "matrix-onehot"),
    ("raises", 1, "raised"),
    ("nan", 1, "NaN/inf"),
    ("printer", 0, "verdict: PASS"),
    ("aslist", 0, "verdict: PASS"),
])
def test_check_impl_misbehaving_targets_held(targets, name, code, needle):
    r = _check(targets, name, "--json", "out.json")
    assert r.returncode == code, r.stdout[-2000:] + r.stderr[-2000:]
    assert needle in r.stdout and "Traceback" not in r.stderr and "PRINTED BY TARGET" not in r.stdout
    report = json.loads((targets / "out.json").read_text())
    assert report["verdict"] == ("pass" if code == 0 else "fail")


def test_check_impl_sleeper_times_out_naming_case(targets):
    r = _check(targets, "sleeper")
    assert r.returncode == 1 and "did not return within the time limit of 1 s on case matrix-small" in r.stdout


def test_check_impl_wrong_shape_is_usage_error(targets):
    r = _check(targets, "wrongshape")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # 3.5 s (imports torch in a subprocess)
def test_check_impl_torch_requires_grad_return_held(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "tt.py").write_text(TORCH_TARGET)
    r = _cli("check-impl", "tt.py:fn", "--examples", "2", "--timeout", "20", cwd=tmp_path)
    assert r.returncode == 0 and "verdict: PASS" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


@pytest.mark.slow
def test_audit_all_raising_target_is_not_clean(targets):
    """fixed: raised calls are counted in the summary, and the audit exits 1 with one line naming the first."""
    r = _cli("audit", "targets.py:raises", "--out", "aud", "--timeout", "5", cwd=targets)
    md = (targets / "aud" / "report.md").read_text()
    assert r.returncode != 0 or "| none |" not in md
    assert r.returncode == 1 and "| none |" not in md and "24, from max|S| = 1 |" in md
    assert r.stderr.startswith("audit: 96 of 96 calls raised") and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_audit_summary_counts_raised_points(targets):
    """fixed: 'largest representable' is taken over every point (a property of the truth); raised calls counted."""
    _cli("audit", "targets.py:raises_big", "--out", "aud", "--timeout", "5", cwd=targets)
    summary = json.loads((targets / "aud" / "report.json").read_text())["summary"]["normalized"]["float64"]
    assert summary["largest_representable"] == 2048.0
    assert summary["failed_calls"] == 12 and summary["failed_from"] == 64.0 and summary["within_bound_up_to"] == 32.0


@pytest.mark.slow
def test_audit_unreadable_return_no_traceback(targets):
    """fixed: an unreadable return is a recorded point (status 'unreadable'); the report is written, exit 1."""
    r = _cli("audit", "targets.py:late_object", "--out", "aud", "--timeout", "5", cwd=targets)
    assert "Traceback" not in r.stderr and (targets / "aud" / "report.json").exists()
    assert r.returncode == 1 and "cannot read what the function returned" in r.stderr


@pytest.mark.slow
def test_audit_late_return_stops_the_sweep(targets):
    """fixed: a call that catches the interruption and returns 2 s late stops the audit as a timeout does."""
    r = _cli("audit", "targets.py:cat_first", "--out", "aud", "--timeout", "1", cwd=targets)
    assert r.returncode == 1 and r.stderr.startswith("audit incomplete: the call at n = 8, max|S| = 1, float64")
    assert "returned after" in r.stderr and "**Incomplete:**" in (targets / "aud" / "report.md").read_text()


@pytest.mark.slow
def test_audit_fd_output_kept_out(targets):
    """fixed: output at the fd level stays out of audit's stdout (contain.contained)."""
    r = _cli("audit", "targets.py:fd_printer", "--out", "aud", "--timeout", "5", cwd=targets)
    assert r.returncode == 0 and "WRITTEN TO FD 1" not in r.stdout + r.stderr


@pytest.mark.slow
def test_audit_sleeper_incomplete_held(targets):
    r = _cli("audit", "targets.py:slow_first", "--out", "aud", "--timeout", "1", cwd=targets)
    assert r.returncode == 1 and "audit incomplete" in r.stderr and "Traceback" not in r.stderr
    assert "**Incomplete:**" in (targets / "aud" / "report.md").read_text()
    assert json.loads((targets / "aud" / "report.json").read_text())["points"]


@pytest.mark.slow
def test_audit_noshift_onset_held(targets):
    r = _cli("audit", "targets.py:noshift", "--out", "aud", "--timeout", "5", cwd=targets)
    assert r.returncode == 0
    s = json.loads((targets / "aud" / "report.json").read_text())["summary"]["normalized"]
    assert s["float64"]["nonfinite_from"] == 1024.0 and s["float16"]["nonfinite_from"] == 16.0
