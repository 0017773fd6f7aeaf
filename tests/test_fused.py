"""The fused row kernels (attnreg/_fused.py, numba): the same flags as the NumPy kernels and values within
what the other order of the row sums can move; then the fast path's accuracy tests again, on these kernels.

Every test here runs with ``MIN_N = 1`` (the fused kernels take every float64 NumPy row), so the small inputs
of the accuracy tests, chosen where the arithmetic is hardest, reach them. The tests imported below are run
by their own modules on the NumPy kernels (their rows are shorter than the default ``MIN_N``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")  # .[test] installs it: in CI these run

import attnreg  # noqa: E402
from attnreg import _fastrows, _fused  # noqa: E402

from test_fast_kernels import (  # noqa: E402,F401  (collected here again, on the fused kernels)
    device_path,
    test_bound_skips_the_shift_only_when_it_proves_the_window as test_fused_bound_skips_the_shift,
    test_fast_and_generic_agree_within_the_error_bound as test_fused_and_generic_agree_within_the_error_bound,
    test_fast_hvp_as_accurate_as_the_stable_one as test_fused_hvp_as_accurate_as_the_stable_one,
    test_fast_hvp_on_unflagged_rows_against_the_reference as test_fused_hvp_on_unflagged_rows_against_the_reference,
    test_huge_finite_B_is_not_an_error as test_fused_huge_finite_B_is_not_an_error,
    test_nonfinite_B_found_without_scanning_it_first as test_fused_nonfinite_B_found_without_scanning_it_first,
    test_rescaled_hvp_flags_every_row_with_a_target_entry_above_half as test_fused_rescaled_hvp_target_flags,
    test_same_bits_for_thread_counts_that_leave_each_lane_one_blas_thread as test_fused_same_bits_any_lane_count,
    test_threads_same_bits_run_to_run_and_for_any_thread_count as test_fused_same_bits_run_to_run,
    test_torch_cpu_tensors_take_the_numpy_kernels as test_fused_torch_cpu_tensors_take_them_too,
)
from test_fastpath_attack import (  # noqa: E402,F401
    test_deep_cancellation_target_next_to_the_softmax as test_fused_deep_cancellation_target,
    test_hard_rows_against_the_reference as test_fused_hard_rows_against_the_reference,
    test_non_finite_B_in_one_row_raises as test_fused_non_finite_B_in_one_row_raises,
    test_normalized_loss_just_below_overflow_is_finite as test_fused_normalized_loss_just_below_overflow,
    test_probe_bound_at_the_window_edge as test_fused_probe_bound_at_the_window_edge,
    test_rescaled_loss_inf_only_beyond_the_range as test_fused_rescaled_loss_inf_only_beyond_the_range,
    test_rescaled_overflowing_gradient_is_inf_not_nan as test_fused_rescaled_overflowing_gradient_is_inf_not_nan,
)
from test_fast_kernels_review import (  # noqa: E402,F401
    test_calls_from_other_threads_keep_their_bits as test_fused_calls_from_other_threads_keep_their_bits,
    test_rows_at_the_skip_the_shift_bound as test_fused_rows_at_the_skip_the_shift_bound,
)

U = np.finfo(np.float64).eps / 2
BIG = float(np.finfo(np.float64).max)


@pytest.fixture(autouse=True)
def fused_everywhere(monkeypatch):
    monkeypatch.setattr(_fused, "ENABLED", True)
    monkeypatch.setattr(_fused, "MIN_N", 1)


def hard_rows(n, seed):
    """Logits and targets, a row of each kind the kernels treat apart: ordinary; dominated (``f_max > ½``);
    one-hot targets on and off the argmax; a target entry of 0.9; logits near the safe window's top and bottom;
    a target row so large that ``Σ c²`` overflows; a nan target; a row of nearly equal logits."""
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((12, n)) * 2
    B = rng.dirichlet(np.ones(n), size=12)
    dS = rng.standard_normal((12, n))
    S[1, 3 % n] += 30.0                                   # dominated
    B[2] = np.eye(n)[np.argmax(S[2])]                  # one-hot on the argmax
    B[3] = np.eye(n)[(np.argmax(S[3]) + 1) % n]        # one-hot elsewhere
    B[4, 5 % n] = 0.9                                    # a target entry above ½
    S[5] += 690.0 - S[5].max()                         # near the window's top (shifted when not proved safe)
    S[6] += -740.0 - S[6].min()                        # near its bottom
    B[7] *= 1e305                                      # Σc² overflows: flagged
    B[8, 1 % n] = np.nan
    S[9] = 1e-3 * S[9]                                 # nearly uniform softmax
    return S, B, dS


def _run(version, hvp, safe, S, B, dS, *, fused):
    n = S.shape[1]
    o = _fastrows.NumpyOps(np)
    lo, hi = _fastrows.limits(BIG, float(np.finfo(np.float64).smallest_normal), n, version)
    S, B, dS, C, T = S.copy(), B.copy(), dS.copy(), np.empty_like(S), np.empty_like(S)
    old = _fused.ENABLED
    _fused.ENABLED = fused
    try:
        with o.quiet():
            if hvp and version == "normalized":
                P, flags, w = _fastrows.normalized_hvp(o, S, B, C, dS, safe=safe, lo=lo, hi=hi)
            elif hvp:
                P, flags, w = _fastrows.rescaled_hvp(o, S, B, C, dS, T, safe=safe, lo=lo, hi=hi, big=BIG)
            elif version == "normalized":
                (w, flags), P = _fastrows.normalized(o, S, B, C, safe=safe, lo=lo, hi=hi), S
            else:
                (w, flags), P = _fastrows.rescaled(o, S, B, C, safe=safe, lo=lo, hi=hi, big=BIG), S
    finally:
        _fused.ENABLED = old
    return np.array(w), np.array(flags), np.array(P)


def _sum_order_bound(version, S, B, safe, lo, hi):
    """Per entry of ``P``: what a different order of the row sums can move it by (both kernels), to first order
    in ``γ = n·u`` (each sum ``Σ t_k`` is off by at most ``γ Σ|t_k|``). Normalized, ``α``'s error moves ``f`` and
    ``c = f − b`` by ``2γ f_j`` and ``r = ⟨f, c⟩`` by ``γ Σ f_k (|c_k| + 4 f_k)``, so ``p_j = f_j (c_j − r)`` by
    ``γ f_j (2|c_j − r| + 2 f_j + Σ f_k(|c_k| + 4 f_k))``. Rescaled, ``h_j = u_j − α b_j`` moves by ``γ α |b_j|`` and
    ``⟨h, b⟩`` by ``γ (Σ|h_k b_k| + α Σ b_k²)``, so ``p_j = u_j (h_j − ⟨h, b⟩)`` by
    ``γ u_j (α|b_j| + Σ|h b| + α Σ b²)``. Doubled (each kernel has its own order) and doubled again for the
    second-order terms."""
    n = S.shape[1]
    m = S.max(axis=1, keepdims=True)
    if not safe and version == "normalized":
        S = S - np.where((m > hi) | (S.min(axis=1, keepdims=True) < lo), m, 0)
    with np.errstate(all="ignore"):
        e = np.exp(S)
        alpha = e.sum(axis=1, keepdims=True)
        g = n * U
        if version == "normalized":
            f = e / alpha
            c = f - B
            r = (f * c).sum(axis=1, keepdims=True)
            spread = (f * (np.abs(c) + 4 * f)).sum(axis=1, keepdims=True)
            return 4 * g * f * (2 * np.abs(c - r) + 2 * f + spread)
        h = e - alpha * B
        return 4 * g * e * (alpha * np.abs(B) + np.abs(h * B).sum(axis=1, keepdims=True)
                            + alpha * (B * B).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("safe", [True, False], ids=["proved-safe", "window-looked-at"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("n", [1, 2, 37, 300, 1031])
def test_same_flags_and_the_gradient_within_the_sum_order_bound(n, version, safe):
    S, B, dS = hard_rows(n, seed=n)
    lo, hi = _fastrows.limits(BIG, float(np.finfo(np.float64).smallest_normal), n, version)
    w0, f0, P0 = _run(version, False, safe, S, B, dS, fused=False)
    w1, f1, P1 = _run(version, False, safe, S, B, dS, fused=True)
    assert np.array_equal(f0, f1)
    ok = ~f0
    assert ok.sum() >= 4 or n <= 2                     # not vacuous (at n ≤ 2 every row is dominated: flags only)
    # the loss rows: sums of squares, relative γ each
    assert np.all(np.abs(w1[ok] - w0[ok]) <= 4 * n * U * np.abs(w0[ok]) + 1e-300)
    bound = _sum_order_bound(version, S, B, safe, lo, hi)
    assert np.all(np.abs(P1[ok] - P0[ok]) <= bound[ok] + 1e-300)
    assert np.all(~np.isfinite(w1[f0]) | f1[f0])       # flagged rows: left to the stable kernels


@pytest.mark.parametrize("safe", [True, False], ids=["proved-safe", "window-looked-at"])
@pytest.mark.parametrize("version", attnreg.VERSIONS)
@pytest.mark.parametrize("n", [37, 300])
def test_hvp_kernels_same_flags_and_witness(n, version, safe):
    """The HVP kernels: the same flags; the witness (``⟨f, c⟩`` or ``Σ h²``) and ``dP`` close to the NumPy kernels'
    (their accuracy against the reference is the imported tests' business: ``test_fused_hvp_*``)."""
    S, B, dS = hard_rows(n, seed=n + 1)
    w0, f0, P0 = _run(version, True, safe, S, B, dS, fused=False)
    w1, f1, P1 = _run(version, True, safe, S, B, dS, fused=True)
    assert np.array_equal(f0, f1)
    ok = ~f0 & np.isfinite(w0)
    assert ok.sum() >= 4
    assert np.allclose(w1[ok], w0[ok], rtol=64 * n * U, atol=64 * n * U * np.abs(w0[ok]).max())
    scale = np.abs(P0[ok]).max(axis=1, keepdims=True)
    assert np.all(np.abs(P1[ok] - P0[ok]) <= 1e3 * n * U * scale)


def test_the_default_threshold_and_dtypes(monkeypatch):
    """Float64 rows of at least ``MIN_N`` entries take the fused kernels, shorter rows and float32 the NumPy ones;
    ``ENABLED = False`` turns them off."""
    monkeypatch.setattr(_fused, "MIN_N", 64)
    calls = []
    real = _fused.kernels
    monkeypatch.setattr(_fused, "kernels", lambda: calls.append(1) or real())
    rng = np.random.default_rng(0)

    def call(n, dtype=np.float64):
        A1, A2 = rng.standard_normal((n, 3)).astype(dtype), rng.standard_normal((n, 3)).astype(dtype)
        B, X = rng.random((n, n)).astype(dtype), rng.standard_normal((3, 3)).astype(dtype)
        calls.clear()
        attnreg.loss_and_grad(A1, A2, B, X, version="normalized", threads=1)
        return bool(calls)

    assert call(64) and not call(63) and not call(64, np.float32)
    monkeypatch.setattr(_fused, "ENABLED", False)
    assert not call(64)


def test_a_strided_target_is_read_as_given():
    """A block of a Fortran-order ``B`` is copied to rows before the kernels read it: the same values as a
    row-major ``B``."""
    rng = np.random.default_rng(3)
    n, d = 70, 4
    A1, A2, X = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    B = rng.dirichlet(np.ones(n), size=n)
    for version in attnreg.VERSIONS:
        L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version, block_rows=16)
        Lf, Gf = attnreg.loss_and_grad(A1, A2, np.asfortranarray(B), X, version=version, block_rows=16)
        assert Lf == L and np.array_equal(Gf, G)


def test_the_fused_path_is_what_a_long_row_call_takes_by_default(monkeypatch):
    """At the default ``MIN_N`` a call with rows of that length takes the fused kernels, and its loss and gradient
    agree with the NumPy kernels' within the error bound of the sums' order (γ_n relative, far above the
    observed few ulps)."""
    monkeypatch.undo()
    assert _fused.MIN_N <= 256
    calls, real = [], _fused.kernels
    rng = np.random.default_rng(5)
    n, d = 256, 8
    A1, A2 = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal((n, d)) / math.sqrt(d)
    X, B = rng.standard_normal((d, d)), rng.dirichlet(np.ones(n), size=n)
    for version in attnreg.VERSIONS:
        monkeypatch.setattr(_fused, "kernels", lambda: calls.append(1) or real())
        L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version)
        assert calls
        monkeypatch.setattr(_fused, "ENABLED", False)
        L0, G0 = attnreg.loss_and_grad(A1, A2, B, X, version=version)
        monkeypatch.undo()
        assert abs(L - L0) <= 4 * n * U * abs(L0)
        assert np.allclose(G, G0, rtol=0, atol=4 * n * U * np.abs(G0).max())


def test_a_kernel_given_no_scratch_takes_the_fused_kernels(monkeypatch):
    """The sweep allocates no scratch when it chooses the fused kernels; a kernel called so takes them even if
    ``ENABLED`` changed since (another thread): it must not reach the NumPy kernels without their buffer."""
    S, B, dS = hard_rows(300, seed=7)
    lo, hi = _fastrows.limits(BIG, float(np.finfo(np.float64).smallest_normal), 300, "normalized")
    want = _run("normalized", False, True, S, B, dS, fused=True)
    monkeypatch.setattr(_fused, "ENABLED", False)
    S2 = S.copy()
    w, flags = _fastrows.normalized(_fastrows.NumpyOps(np), S2, B, None, safe=True, lo=lo, hi=hi)
    assert np.array_equal(flags, want[1]) and np.array_equal(S2[~flags], want[2][~flags])
