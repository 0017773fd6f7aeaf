"""Solvers: the reference (damped Newton, mpmath) and the production ones (L-BFGS, Newton-CG).

The cross-validation on realisable, non-realisable, identifiable-modulo-a-family and escaping problems
lives in the registry (``attnreg verify -k solve``, verify/checks/solvers.py); these tests cover the
parts: the structured Hessian, the line search, the directions, the stop reasons, validation, backends.
"""
from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attnreg
from attnreg import reference
from attnreg._lbfgs import LBFGS
from attnreg._line_search import C1, C2, wolfe
from attnreg._newton_cg import NewtonCG
from attnreg.solvers import solve_vector
from attnreg.solve_result import Point, SolveResult, Stop
from attnreg.stopping import Asymptote, Escape
from attnreg.reference import hessian_lowrank, newton
from attnreg.verify.checks import solver_problems as sp


def _lists(ctx, *arrays):
    return [[[ctx.mpf(float(v)) for v in row] for row in np.atleast_2d(a)] for a in arrays]


@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_lowrank_hessian_equals_dense_reference_hessian(version):
    rng = np.random.default_rng(3)
    ctx = reference.make_context(40)
    A1, A2, X = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.standard_normal((2, 2))
    B = rng.dirichlet(np.ones(5), size=5)
    args = _lists(ctx, A1, A2, B, X)
    H = hessian_lowrank.matrix_hessian(ctx, *args, version)
    H0 = reference.forms.matrix_hessian(ctx, *args, version)
    scale = max(abs(v) for r in H0 for v in r)
    assert max(abs(a - b) for r, r0 in zip(H, H0) for a, b in zip(r, r0)) <= scale * ctx.mpf(10) ** -35
    A, b, x = args[0], args[2][0], [ctx.mpf(0.3), ctx.mpf(-0.7)]
    Hv = hessian_lowrank.vector_hessian(ctx, A, b, x, version)
    Hv0 = reference.forms.vector_hessian(ctx, A, b, x, version)
    assert max(abs(a - b) for r, r0 in zip(Hv, Hv0) for a, b in zip(r, r0)) <= ctx.mpf(10) ** -35


def test_shifted_cholesky_solves_and_refuses_indefinite():
    ctx = reference.make_context(30)
    H = [[ctx.mpf(4), ctx.mpf(1)], [ctx.mpf(1), ctx.mpf(3)]]
    g = [ctx.mpf(1), ctx.mpf(2)]
    p = newton.shifted_cholesky_solve(ctx, H, g, ctx.mpf(1))
    residual = [ctx.fdot(row, p) + (1 * pi) + gi for row, pi, gi in zip(H, p, g)]
    assert max(abs(r) for r in residual) < ctx.mpf(10) ** -28
    assert newton.shifted_cholesky_solve(ctx, [[ctx.mpf(1), 0], [0, ctx.mpf(-2)]], g, ctx.mpf(1)) is None


def test_wolfe_on_a_quadratic_and_through_overflow():
    # φ(t) = (t − 3)², φ'(0) = −6: the accepted t satisfies both strong Wolfe conditions.
    phi = lambda t: ((t - 3) ** 2, 2 * (t - 3), t)  # noqa: E731
    t, pay = wolfe(phi, 9.0, -6.0, 1.0)
    f, d, _ = phi(t)
    assert f <= 9 + C1 * t * -6 and abs(d) <= C2 * 6 and pay == t
    # Beyond t = 0.5 the function overflows: the step must come back below it.
    phi_inf = lambda t: (math.inf, math.nan, t) if t > 0.5 else ((t - 3) ** 2, 2 * (t - 3), t)  # noqa: E731
    t, _ = wolfe(phi_inf, 9.0, -6.0, 1.0)
    assert 0 < t <= 0.5


def test_newton_cg_direction_descends_under_negative_curvature():
    H = np.diag([2.0, -1.0, 0.5])
    g = np.array([1.0, 1.0, -1.0])
    p = NewtonCG(lambda x, v: H @ v, xp=np, max_cg=10).direction(None, g)
    assert g @ p < 0
    for scale in (1.0, 1e-6):  # positive definite: CG stops at residual η||g||, η = min(½, √||g||)
        gs = scale * g
        p_pd = NewtonCG(lambda x, v: np.abs(H) @ v, xp=np, max_cg=10).direction(None, gs)
        gn = np.linalg.norm(gs)
        assert np.linalg.norm(np.abs(H) @ p_pd + gs) <= min(0.5, np.sqrt(gn)) * gn


def test_lbfgs_direction_is_newton_on_a_quadratic_after_enough_pairs():
    H = np.diag([1.0, 10.0])
    search = LBFGS(xp=np, memory=5)
    x = np.array([1.0, 1.0])
    for s in (np.array([1.0, 0.0]), np.array([0.0, 1.0])):
        search.update(s, H @ s)
    np.testing.assert_allclose(search.direction(x, H @ x), -x, rtol=1e-12)


def test_escape_fires_on_the_ray_and_not_on_a_fit():
    ray = Escape()
    reasons = [ray.update(1 + k, 2 - 0.5 * k, 0.4) for k in range(12)]
    # 6 iterates = 5 steps of the run (the window); α_max = e^{-0.5} < 1 and 12× below its start
    assert reasons[:5] == [None] * 5 and "shrinking α" in reasons[5] and "0.607" in reasons[5]
    fit = Escape()  # α falls too, but the normalized loss falls with it: a genuine fit
    assert all(fit.update(1 + k, 2 - 0.5 * k, 0.4 * 0.3**k) is None for k in range(12))


def test_asymptote_fires_on_steady_outward_steps_and_not_on_newton_convergence():
    # Newton on a loss flattening out: steps of constant length, ||∇L|| halving, the loss levelling off.
    flat = Asymptote()
    reasons = [flat.update(100 + 10 * k, 10, 0.5**k, 0.35 + 1e-6 * 0.5**k) for k in range(12)]
    assert reasons[:8] == [None] * 8 and "levelled off" in reasons[8]
    # Converging to a finite minimiser: the steps shrink (quadratically, or by ⅔ if degenerate).
    for ratio in (lambda k: 0.5 ** (2**k), lambda k: (2 / 3) ** k):
        near = Asymptote()
        x = 1.0
        for k in range(12):
            x += ratio(k)
            assert near.update(x, ratio(k), ratio(k), 0.35) is None


def test_reference_result_shape_history_callback_and_global_context_untouched():
    p = sp.realisable(1, 6, 2)
    dps, prec = mpmath.mp.dps, mpmath.mp.prec
    seen = []
    r = reference.solve(p.A1, p.A2, p.B, version="normalized", dps=30, callback=lambda *a: seen.append(a))
    assert (mpmath.mp.dps, mpmath.mp.prec) == (dps, prec)
    assert isinstance(r, SolveResult) and r.method == "reference" and r.converged
    assert (r.X.rows, r.X.cols) == (2, 2) and r.iterations == len(seen) == len(r.history) - 1
    assert [k for k, *_ in seen] == list(range(1, r.iterations + 1))
    losses = [float(v) for _, v, _ in r.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:]))
    assert r.grad_norm <= r.info["tol"] and r.reason.startswith("converged")


def test_reference_vector_form_and_production_agree():
    A, b, xs = sp.vector_realisable(2, 7, 3)
    r = reference.vector.solve(A, b, version="rescaled", dps=30)
    q = solve_vector(A, b, version="rescaled", method="newton-cg")
    x_ref = np.array([float(r.X[i]) for i in range(3)])
    np.testing.assert_allclose(q.X, x_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x_ref, xs, rtol=0, atol=1e-12)  # b rounded to float64 moves x* by ~1e-16


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg"])
def test_stop_reasons(method):
    p = sp.realisable(4, 8, 2)
    r = attnreg.solve(p.A1, p.A2, p.B, version="normalized", method=method, max_iter=0)
    assert not r.converged and r.reason.startswith("max_iter") and r.iterations == 0
    r = attnreg.solve(p.A1, p.A2, p.B, version="normalized", method=method, tol=1e-3)
    assert r.converged and r.grad_norm <= 1e-3 and r.info["tol"] == 1e-3
    q = reference.solve(p.A1, p.A2, p.B, version="normalized", dps=20, max_iter=1)
    assert not q.converged and q.reason.startswith("max_iter") and q.iterations == 1


def test_vector_escape_is_reported_by_every_solver():
    rng = np.random.default_rng(9)
    A, b = rng.standard_normal((6, 2)), rng.dirichlet(np.ones(6))
    A[:, 0] = 1.0
    runs = [solve_vector(A, b, version="rescaled", method=m) for m in ("lbfgs", "newton-cg")]
    runs.append(reference.vector.solve(A, b, version="rescaled", dps=20))
    assert all(not r.converged and r.reason.startswith("unbounded") for r in runs)


def test_family_direction_is_found_only_when_it_exists():
    assert sp.family_direction(sp.realisable(0, 9, 3).A2) is None
    w = sp.family_direction(sp.family(0, 9, 3).A2)
    assert w is not None and np.allclose(sp.family(0, 9, 3).A2 @ w, 1.0)


def _backends():
    out = [("numpy", np.asarray)]
    import array_api_strict

    out.append(("array_api_strict", array_api_strict.asarray))
    try:
        import torch
    except ImportError:  # torch is optional (pip install attnreg[torch])
        return out
    return out + [("torch", torch.asarray)]


@pytest.mark.parametrize("name,asarray", _backends(), ids=[b[0] for b in _backends()])
@pytest.mark.parametrize("method", ["lbfgs", "newton-cg"])
def test_production_arrays_in_same_type_out(name, asarray, method):
    p = sp.realisable(5, 9, 3)
    A1, A2, B = (asarray(a) for a in (p.A1, p.A2, p.B))
    calls = []
    r = attnreg.solve(A1, A2, B, version="rescaled", method=method, callback=lambda *a: calls.append(a))
    assert type(r.X) is type(A1) and r.X.dtype == A1.dtype and tuple(r.X.shape) == (3, 3)
    assert isinstance(r.loss, float) and isinstance(r.grad_norm, float) and len(calls) == r.iterations
    X = np.asarray(r.X.cpu() if hasattr(r.X, "cpu") else r.X)
    assert np.linalg.norm(X - p.X_star) <= 1e-8 * np.linalg.norm(p.X_star)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 20), d=st.integers(1, 4),
       version=st.sampled_from(attnreg.VERSIONS))
def test_newton_cg_recovers_realisable_x_star(seed, n, d, version):
    # Rescaled starts near X*: from 0 it can stop at a genuine local minimum (next test).
    p = sp.realisable(seed, max(n, d + 2), d)
    X0 = None if version == "normalized" else p.X_star + 0.01 * np.random.default_rng(seed).standard_normal((d, d))
    r = attnreg.solve(p.A1, p.A2, p.B, X0, version=version, method="newton-cg")
    assert r.converged, r.reason
    assert np.linalg.norm(r.X - p.X_star) <= 1e-8 * max(np.linalg.norm(p.X_star), 1e-3)


def test_rescaled_spurious_local_minimum_is_found_by_both_solvers_and_called_so():
    # Found by Hypothesis (seed=4, n=4, d=1): from X0 = 0 the rescaled loss has a local minimum at
    # x ≈ −0.0647 with L_R ≈ 6.83 (the profile of L_R falls to it from both sides), away from X* ≈ −1.608
    # where L_R = 0. Both solvers stop there and say it is a local minimum with the loss far from 0;
    # the default start (the normalized solution first) reaches X*.
    p = sp.realisable(4, 4, 1)
    r = attnreg.solve(p.A1, p.A2, p.B, np.zeros((1, 1)), version="rescaled", method="newton-cg")
    q = reference.solve(p.A1, p.A2, p.B, [[0.0]], version="rescaled", dps=30)
    assert r.converged and q.converged and abs(float(q.X[0, 0]) - r.X[0, 0]) <= 1e-10
    assert abs(r.X[0, 0] - p.X_star[0, 0]) > 1 and 6.8 < r.loss < 6.9
    h = attnreg.hessian(p.A1, p.A2, p.B, r.X, version="rescaled")
    assert h[0, 0] > 0  # a minimum, not a saddle
    for res in (r, q):
        assert res.point is Point.LOCAL_MINIMUM and "local minimum" in res.reason
        assert "normalized solution" in res.reason
    for res in (attnreg.solve(p.A1, p.A2, p.B, version="rescaled"),
                reference.solve(p.A1, p.A2, p.B, version="rescaled", dps=30)):
        assert res.converged and sp.reached(res.X, p.X_star) and "normalized" in res.info["stages"][0]


@pytest.mark.parametrize("call,match", [
    (lambda a: attnreg.solve(*a, version="plain"), "version"),
    (lambda a: attnreg.solve(*a, version="normalized", method="bfgs"), "method"),
    (lambda a: attnreg.solve(*a, version="normalized", tol=-1.0), "tol"),
    (lambda a: attnreg.solve(*a, version="normalized", max_iter=True), "max_iter"),
    (lambda a: attnreg.solve(*a, version="normalized", method="lbfgs", memory=0), "memory"),
    (lambda a: attnreg.solve(a[0], a[1][:3], a[2], version="normalized"), "A2"),
    (lambda a: attnreg.solve(*a, np.full((2, 2), np.nan), version="normalized"), "X"),
    (lambda a: reference.solve(*a, version="normalized", dps=5), "dps"),
    (lambda a: reference.solve(*a, version="normalized", max_iter=-1), "max_iter"),
    (lambda a: reference.solve(a[0], a[1], a[2][:2], version="normalized"), "B"),
])
def test_bad_input_is_one_clear_error(call, match):
    p = sp.realisable(0, 5, 2)
    with pytest.raises(ValueError, match=match):
        call((p.A1, p.A2, p.B))


def test_bad_callback_is_a_type_error():
    p = sp.realisable(0, 5, 2)
    with pytest.raises(TypeError, match="callback"):
        attnreg.solve(p.A1, p.A2, p.B, version="normalized", callback=3)


@pytest.mark.slow
@pytest.mark.parametrize("version", attnreg.VERSIONS)
def test_reference_at_n64_d8_reaches_the_50_digit_floor(version):
    p = sp.realisable(11, 64, 8)
    ctx = reference.make_context(80)
    X_star = ctx.matrix(p.X_star.tolist()) * (1 + ctx.mpf(1) / 7 * ctx.mpf(10) ** -17)  # off the float64 grid
    r = reference.solve(p.A1, p.A2, reference.f(p.A1, p.A2, X_star, dps=70), version=version, dps=50)
    err = ctx.mnorm(ctx.matrix(r.X) - X_star, "f") / ctx.mnorm(X_star, "f")
    assert r.converged and r.grad_norm <= 1e-40 and err <= 1e-35


def test_tiny_gradients_are_not_mistaken_for_convergence():
    """||∇L|| ~ 1e-174 once underflowed to 0 in sqrt(Σg²) and the solver reported convergence at step 0."""
    A, b = np.array([[1.0], [2.0]]), np.array([0.9, 0.1])
    r = attnreg.vector.solve(A, b, np.array([-200.0]), version="rescaled")
    assert r.grad_norm > 0 and not r.converged and r.reason.startswith("unbounded")


def test_reference_float_rung_overflow_goes_on_at_higher_precision():
    r = reference.vector.solve([[800.0], [1.0]], [0.5, 0.5], [1.0], version="rescaled", dps=20, max_iter=3)
    assert isinstance(r.reason, str)  # no UnboundLocalError when the float rung overflows at once


def test_explicit_tol_stops_the_reference_solver():
    p = sp.realisable(0, 6, 2)
    r = reference.solve(p.A1, p.A2, p.B, version="normalized", dps=30, tol=1e-3)
    assert r.converged and float(r.grad_norm) <= 1e-3 and float(r.info["tol"]) == 1e-3
    assert r.info["ladder"][-1][1] == 0  # the top rung took no step: the lower rungs already met tol


# ---- the cases of the adversarial review: convergence means what it says -------------------------

def _issue_problem(seed, n=8, d=4):
    rng = np.random.default_rng(seed)
    A1, A2, Xs = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    return A1, A2, attnreg.f(A1, A2, Xs), Xs


def test_loose_tolerance_no_longer_ends_a_run_with_the_loss_still_falling():
    """Seed 8040 from X0 = 0: once "converged" at ||∇L|| = 0.456 ≤ tol = 0.698 with L_R = 0.342 although
    continuing lowers the loss. Now the run polishes to the floor and says what it found; the default
    start reaches X*."""
    A1, A2, B, Xs = _issue_problem(8040)
    r = attnreg.solve(A1, A2, B, np.zeros((4, 4)), version="rescaled", max_iter=500)
    assert r.stop in (Stop.CONVERGED, Stop.UNBOUNDED, Stop.MAX_ITER)
    if r.converged:  # a genuine stationary point: gradient far below the old stop, and named for what it is
        assert r.grad_norm < 1e-3 and r.point is not Point.GLOBAL_MINIMUM and "not fitted" in r.reason
    r = attnreg.solve(A1, A2, B, version="rescaled", max_iter=500)
    assert r.converged and r.point is Point.GLOBAL_MINIMUM and sp.reached(r.X, Xs)


def test_partial_escape_is_not_convergence():
    """Seed 8042 from X0 = 0: production once "converged" at ||X|| = 356 with L_N = 2.99 and
    min log α_j = −17.4, the reference at ||X|| = 1996; neither detector fired."""
    A1, A2, B, Xs = _issue_problem(8042)
    runs = [attnreg.solve(A1, A2, B, np.zeros((4, 4)), version="rescaled", max_iter=500, method=m)
            for m in ("newton-cg", "lbfgs")]
    runs.append(reference.solve(A1, A2, B, np.zeros((4, 4)), version="rescaled", dps=30))
    for r in runs:
        assert not r.converged and r.stop is Stop.UNBOUNDED and r.point is Point.UNBOUNDED, r.reason
        assert r.reason.startswith("unbounded: ")


def test_partial_escape_rule():
    from attnreg.stopping import partial_escape

    eps = 2.0**-52
    assert partial_escape([5.0, -17.4, 3.0], [0.0, 2.9, 0.0], eps) is not None  # a row gone, unfitted
    assert partial_escape([5.0, -17.4, 3.0], [0.0, 0.0, 0.0], eps) is None  # gone but fitted (X*)
    assert partial_escape([5.0, -10.0, 3.0], [0.0, 2.9, 0.0], eps) is None  # weight e^-30 > eps: still seen


@pytest.mark.parametrize("method", ["newton-cg", "lbfgs"])
def test_overflowing_scale_is_never_convergence(method):
    A1, A2, B, _ = _issue_problem(8040)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning leaks
        r = attnreg.solve(A1 * 1e200, A2, B, version="normalized", method=method)
    assert not r.converged and r.point is Point.NOT_STATIONARY
    assert r.stop is Stop.NON_FINITE or (math.isfinite(r.info["tol"]) and r.grad_norm > r.info["tol"])


def test_stop_is_an_enum_and_the_reason_starts_with_its_value():
    p = sp.realisable(4, 8, 2)
    for r in (attnreg.solve(p.A1, p.A2, p.B, version="normalized", max_iter=0),
              attnreg.solve(p.A1, p.A2, p.B, version="normalized")):
        assert isinstance(r.stop, Stop) and r.reason.startswith(r.stop.value + ":")
        assert r.converged == (r.stop is Stop.CONVERGED)
    assert r.point is Point.GLOBAL_MINIMUM


def test_saddle_is_classified():
    from attnreg.stopping import classify

    point, text = classify(Stop.CONVERGED, loss_normalized=0.3, n=4, eps=2.0**-52, eigenvalues=(-1.0, 5.0), size=4)
    assert point is Point.SADDLE and "negative curvature" in text
    point, _ = classify(Stop.CONVERGED, loss_normalized=0.3, n=4, eps=2.0**-52, eigenvalues=(1e-20, 5.0), size=4)
    assert point is Point.DEGENERATE


@pytest.mark.parametrize("k", [0, 1])
def test_recovery_quick(k):
    """A handful of the recovery benchmark's problems (benchmarks/solver_recovery.py): X* from the default
    start, both versions, production and reference."""
    for n, d in ((6, 2), (16, 3), (8, 4)):
        p = sp.recovery(n, d, k)
        for version in attnreg.VERSIONS:
            r = attnreg.solve(p.A1, p.A2, p.B, version=version)
            assert r.converged and sp.reached(r.X, p.X_star), (n, d, k, version, r.reason)
    p = sp.recovery(8, 3, k)
    for version in attnreg.VERSIONS:
        q = reference.solve(p.A1, p.A2, p.B, version=version, dps=30)
        assert q.converged and sp.reached(q.X, p.X_star), (version, q.reason)


@pytest.mark.slow
def test_recovery_rates_meet_the_targets():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "solver_recovery.py"
    spec = importlib.util.spec_from_file_location("solver_recovery", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for solver, seeds in (("production", 6), ("reference", 3)):
        for version in attnreg.VERSIONS:
            hits, total, misses = bench.run(solver, version, seeds)
            assert hits >= 0.95 * total, (solver, version, misses)
            assert all(stop != "converged" or point != "global minimum" for _, stop, point, _, _ in misses)
