"""Certified Lipschitz bounds: enclosures against the mpmath reference, soundness on sampled points, the
issue's targets on the example specs, counterexamples, and results independent of the number of workers."""
import dataclasses
import json
from pathlib import Path

import flint
import mpmath
import numpy as np
import pytest

from attnreg.verify.certify import bnb, certificate, check_formulas, checker, confirm, enclose, spec
from attnreg.verify.certify import problem as P
from attnreg.verify.certify.jet import Jet
from attnreg.verify.tolerances import tol

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _problem(form, quantity, version, seed=3, n=3, d=2):
    rng = np.random.default_rng(seed)
    txt = lambda a: [[repr(float(v)) for v in r] for r in a] if a.ndim == 2 else [repr(float(v)) for v in a]  # noqa
    if form == "vector":
        data = dict(A=txt(rng.standard_normal((n, d))), b=txt(rng.dirichlet(np.ones(n))))
    else:
        data = dict(A1=txt(rng.standard_normal((n, d))), A2=txt(rng.standard_normal((n, d))),
                    B=txt(rng.dirichlet(np.ones(n), size=n)))
    p = d if form == "vector" else d * d
    return dict(quantity=quantity, form=form, version=version, data=data), p, rng


KINDS = [(form, q, v) for form in ("vector", "matrix")
         for q, v in (("f", None), ("grad", "normalized"), ("grad", "rescaled"))]


@pytest.mark.parametrize("form,quantity,version", KINDS)
def test_both_enclosures_match_the_reference_and_its_derivatives(form, quantity, version):
    """At a point, M from the run's formulas and from the checker's equals the mpmath reference's M
    (straightforward (diag f − ffᵀ)A and AᵀKA), and both derivative routes equal a 40-digit central difference."""
    prob, p, rng = _problem(form, quantity, version)
    x = [repr(float(v)) for v in 0.4 * rng.standard_normal(p)]
    old, flint.ctx.prec = flint.ctx.prec, 128
    try:
        rows = P.rows(prob)
        xa = [flint.arb(v) for v in x]
        M_run = enclose.point(enclose.formula(quantity, version), rows, xa)
        jets = enclose.formula(quantity, version)(rows, [Jet.variable(xa[k], k, p) for k in range(p)])
        M_chk, dM_chk = check_formulas.matrix_and_derivatives(rows, xa, quantity, version)
    finally:
        flint.ctx.prec = old
    ctx = mpmath.MPContext()
    ctx.dps = 40
    xm = [ctx.mpf(v) for v in x]
    ref = confirm.matrix_at(ctx, prob, xm)
    scale = float(ctx.mnorm(ref, 1))
    point_tol, fd_tol = tol("certify.point_vs_reference").factor, tol("certify.fd_derivative").factor
    old, flint.ctx.prec = flint.ctx.prec, 160
    try:
        for i in range(ref.rows):
            for j in range(ref.cols):
                for M in (M_run, M_chk):
                    gap = abs(M[i][j] - flint.arb(mpmath.nstr(ref[i, j], 45)))
                    assert gap.upper() < point_tol * scale
    finally:
        flint.ctx.prec = old
    h = ctx.mpf("1e-15")
    for k in range(p):
        up, dn = list(xm), list(xm)
        up[k] += h
        dn[k] -= h
        D = (confirm.matrix_at(ctx, prob, up) - confirm.matrix_at(ctx, prob, dn)) / (2 * h)
        dscale = max(1.0, float(ctx.mnorm(D, 1)))
        for i in range(D.rows):
            for j in range(D.cols):
                assert abs(float(dM_chk[k][i][j].mid()) - float(D[i, j])) < fd_tol * dscale
                g = jets[i][j].g[k] if isinstance(jets[i][j], Jet) else 0
                assert abs(float(g.mid() if g else 0) - float(D[i, j])) < fd_tol * dscale


@pytest.mark.parametrize("form,quantity,version", KINDS)
def test_box_bounds_dominate_sampled_points(form, quantity, version):
    """Soundness: on boxes of several sizes, ||M(x)||₂ at random points (mpmath, 30 digits) never exceeds the
    run's bound for the box, and the checker verifies that bound."""
    prob, p, rng = _problem(form, quantity, version, seed=5)
    prob["domain"] = dict(center=[repr(float(v)) for v in 0.2 * rng.standard_normal(p)], radius="0.5", norm="inf")
    prob["precision_bits"] = 96
    ctx = mpmath.MPContext()
    ctx.dps = 30
    for box in (P.root(p), P.split(P.root(p))[1], P.split(P.split(P.split(P.root(p))[0])[1])[0]):
        (bound, lower, _), = bnb.evaluate(prob, [box])
        old, flint.ctx.prec = flint.ctx.prec, 96
        try:
            assert checker._holds(prob, checker._rows(prob), box, bound, checker.MAX_DEPTH)
        finally:
            flint.ctx.prec = old
        lo = [float(ctx.mpf(c) + ctx.mpf("0.5") * (ctx.mpf(2 * i) / 2 ** lvl - 1))
              for c, (i, lvl) in zip(prob["domain"]["center"], box)]
        width = [float(ctx.mpf(1) / 2 ** lvl) for _, lvl in box]
        worst = 0
        for _ in range(12):
            x = [a + w * t for a, w, t in zip(lo, width, rng.random(p))]
            worst = max(worst, float(confirm.spectral(ctx, confirm.matrix_at(ctx, prob, [ctx.mpf(v) for v in x]))))
        assert worst <= float(bound)
        assert float(lower) <= float(bound)


def _sampled_lower_f(A, radius=0.5, k=81):
    """Best ||(diag f − ffᵀ)A||₂ over a k×k grid of the box (float64): the sampling lower bound."""
    best, where = 0.0, None
    for x0 in np.linspace(-radius, radius, k):
        for x1 in np.linspace(-radius, radius, k):
            s = A @ np.array([x0, x1])
            f = np.exp(s - s.max())
            f /= f.sum()
            v = np.linalg.norm((np.diag(f) - np.outer(f, f)) @ A, 2)
            if v > best:
                best, where = v, (x0, x1)
    return best, where


def test_example_f_is_certified_and_tight():
    """Done-when: Lip(f) ≤ 1.01·½||A||₂ certified on ||x||∞ ≤ 0.5; with a target 5 % above the sampled lower
    bound it is still certified, so the certified bound is within 1.1× (here 1.05×) of the sampled lower bound."""
    s = spec.load(EXAMPLES / "certify-f.toml")
    A = np.array(s.data["A"], dtype=float)
    body = bnb.run(s)
    assert body["status"] == "certified"
    assert float(body["bound"]) <= 1.01 * 0.5 * np.linalg.norm(A, 2)
    sampled, _ = _sampled_lower_f(A)
    # the spec's refine_to = 1.05: a sandwich lower ≤ sup ≤ bound ≤ 1.05 lower, consistent with sampling
    low = float(body["lower_bound"]["value"])
    assert low <= sampled * (1 + 1e-12) and sampled <= float(body["bound"]) <= 1.05 * low * (1 + 1e-12)
    tight = bnb.run(dataclasses.replace(s, target=repr(float(1.05 * sampled))))
    assert tight["status"] == "certified"
    assert sampled <= float(tight["bound"]) <= 1.05 * sampled
    assert float(tight["lower_bound"]["value"]) <= sampled * (1 + 1e-12)  # no lower bound above the true sup


def test_example_grad_is_certified():
    s = spec.load(EXAMPLES / "certify-grad.toml")
    A = np.array(s.data["A"], dtype=float)
    body = bnb.run(s)
    assert body["status"] == "certified" and float(body["bound"]) <= 3.25 * np.linalg.norm(A, 2) ** 2


def test_target_below_the_sampled_lower_bound_gives_a_confirmed_counterexample():
    s = spec.load(EXAMPLES / "certify-f.toml")
    A = np.array(s.data["A"], dtype=float)
    sampled, _ = _sampled_lower_f(A)
    body = bnb.run(dataclasses.replace(s, target=repr(float(0.99 * sampled))))
    assert body["status"] == "not certified" and body["stop"] == "counterexample"
    cx = body["counterexample"]
    assert cx["dps"] == 50 and mpmath.mpf(cx["value"]) > mpmath.mpf(cx["target"])
    x = np.array([float(v) for v in cx["point"]])  # float64 recomputation agrees with the 50-digit one
    s_ = A @ x
    f = np.exp(s_ - s_.max()) / np.exp(s_ - s_.max()).sum()
    assert np.linalg.norm((np.diag(f) - np.outer(f, f)) @ A, 2) > 0.99 * sampled
    assert body["worst_box"]["bound"] and float(body["bound"]) >= float(cx["value"][:15])


def test_budget_spent_reports_best_bound_and_worst_box():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.5911", max_boxes=40)
    body = bnb.run(s)
    assert body["status"] == "not certified" and body["stop"] == "max_boxes"
    assert body["worst_box"]["bound"] == body["bound"] and float(body["bound"]) > 0.5911
    assert checker.check(json.loads(certificate.dumps(certificate.build(body)))).startswith("not certified")


def test_results_do_not_depend_on_the_number_of_workers():
    from attnreg.verify.executor import executor

    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    one = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2, start_after=0) as pool:  # the worker starts at the first round
        assert pool.caller_works and pool.slots == 2
        two = certificate.dumps(certificate.build(bnb.run(s, pool)))
        assert pool.started
    assert one == two


RUNS = {  # every way a run ends, with subtrees cut by the task budget K and by the goal
    "refined": dict(refine_to="1.01"),
    "counterexample": dict(target="0.585", refine_to=None),
    "max_boxes": dict(target="0.5911", max_boxes=150, refine_to=None),
    "grad": dict(),
}


@pytest.mark.parametrize("name", sorted(RUNS))
@pytest.mark.parametrize("slots,caller_works", [(2, True), (3, False), (7, True)])
def test_results_do_not_depend_on_how_tasks_are_shared(name, slots, caller_works):
    """Byte-for-byte the same certificate in this process alone and on pools cut into other numbers of parts
    (threads here: only the task lists and the merge order matter, and they must not depend on the pool)."""
    from concurrent.futures import ThreadPoolExecutor

    from attnreg.verify.executor import Pool

    path = EXAMPLES / ("certify-grad.toml" if name == "grad" else "certify-f.toml")
    s = dataclasses.replace(spec.load(path), **RUNS[name])
    one = certificate.dumps(certificate.build(bnb.run(s)))
    with ThreadPoolExecutor(slots) as ex:
        many = certificate.dumps(certificate.build(bnb.run(s, Pool(ex, slots, "threads", caller_works))))
    assert one == many
    assert json.loads(one)["stop"] == {"counterexample": "counterexample", "max_boxes": "max_boxes"}.get(name,
                                                                                                     "certified")


def test_a_task_is_a_function_of_its_box_goal_and_budget():
    """The subdivision inside a task is deterministic per box: the same task gives the same subtree whether
    it runs alone or among others, and a larger budget only refines what a smaller one left."""
    s = spec.load(EXAMPLES / "certify-f.toml")
    prob = s.problem()
    kids = P.split(P.root(2), 0)
    rnd = ("0.7934", "1.01", "0.578", "0.7935")
    alone = [bnb.expand(prob, rnd, [(k, 40)])[0] for k in kids]
    assert bnb.expand(prob, rnd, [(k, 40) for k in kids]) == alone
    small, big = bnb.expand(prob, rnd, [(kids[0], 9), (kids[0], 41)])
    assert small[1] <= 9 and big[1] <= 41 and big[1] > small[1]
    cover = lambda leaves: {b for b, _, _ in leaves}  # noqa: E731
    assert all(any(all(a[1] >= c[1] and a[0] >> (a[1] - c[1]) == c[0] for a, c in zip(fine, coarse))
                   for coarse in cover(small[0])) for fine in cover(big[0]))


def test_matrix_form_is_certified_and_checked():
    prob, p, _ = _problem("matrix", "grad", "normalized", seed=7, n=2, d=2)
    s = spec.from_dict(dict(quantity="grad", form="matrix", version="normalized", center=[["0", "0"], ["0", "0"]],
                            radius="0.25", target="3.25 * norm(A1)^2 * norm(A2)^2", budget_seconds=60,
                            precision_bits=96, **prob["data"]))
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    assert cert["status"] == "certified"
    assert checker.check(cert).startswith("certified")


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("certify-*.toml")), ids=lambda p: p.name)
def test_every_example_certifies_on_two_workers_and_checks(path, tmp_path):
    from attnreg.cli import main

    out = tmp_path / "cert.json"
    assert main(["certify", "run", str(path), "--out", str(out), "--workers", "2"]) == 0
    assert main(["certify", "check", str(out), "--spec", str(path)]) == 0


def test_registered_certify_check_fails_when_the_run_understates_its_bounds(monkeypatch):
    """Mutation: a run whose norm bound is 20 % too small writes box bounds the checker cannot verify."""
    from attnreg.verify import catalogue, registry
    from attnreg.verify.certify import specnorm

    (c,) = [c for c in catalogue.select("certify.f.vector") if c.name == "certify.f.vector"]
    assert registry.run(c, seed=0).status is registry.Status.PASS
    real = specnorm.upper
    monkeypatch.setattr(specnorm, "upper", lambda M: real(M) * 0.8)
    result = registry.run(c, seed=0)
    assert result.status is registry.Status.FAIL and "rejected" in result.detail


HARD = {
    # logit gaps up to ±80 across the box: softmax saturates; the target is below the true constant
    "saturated-f": dict(quantity="f", form="vector", A=[["40", "0"], ["0", "40"], ["-40", "-40"]],
                        center=["0.3", "0.2"], radius="0.5", target="1"),
    "one-hot-target": dict(quantity="grad", form="vector", version="normalized",
                           A=[["3", "0"], ["0", "3"], ["-3", "1"]], b=["1", "0", "0"], center=["0", "0"],
                           radius="0.5", target="3.25 * norm(A)^2"),
    # u = exp(s) up to e^30: the rescaled Hessian is ~1e23 and has no shift invariance
    "rescaled-large-logits": dict(quantity="grad", form="vector", version="rescaled",
                                  A=[["30", "0"], ["0", "30"], ["-30", "5"]], b=["0.2", "0.5", "0.3"],
                                  center=["0.5", "0.5"], radius="0.25", target="1e40"),
}


@pytest.mark.parametrize("name", sorted(HARD))
def test_hardest_inputs_are_sound_and_checked(name):
    """Saturated rows, one-hot targets, huge logits: the run ends as it should, the checker accepts its
    certificate, and no sampled point (40 digits) exceeds the certified bound."""
    raw = HARD[name]
    s = spec.from_dict(dict(raw, budget_seconds=60))
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    assert cert["status"] == ("not certified" if name == "saturated-f" else "certified")
    if name == "saturated-f":
        assert cert["stop"] == "counterexample" and mpmath.mpf(cert["counterexample"]["value"]) > 1
    checker.check(cert)
    ctx = mpmath.MPContext()
    ctx.dps = 40
    rng = np.random.default_rng(11)
    c, r = [float(v) for v in raw["center"]], float(raw["radius"])
    worst = max(float(confirm.spectral(ctx, confirm.matrix_at(ctx, cert, [ctx.mpf(ci + r * t) for ci, t in
                                                                      zip(c, rng.uniform(-1, 1, 2))])))
                for _ in range(20))
    assert worst <= float(cert["bound"])


def _random_problem(rng, trial):
    form = ("vector", "matrix")[int(rng.integers(0, 2))]
    n, d = int(rng.integers(1, 5)), int(rng.integers(1, 3))
    quantity, version = [("f", None), ("grad", "normalized"), ("grad", "rescaled")][trial % 3]
    scale = float(rng.choice([0.3, 1, 3, 10]))
    txt = lambda a: [[repr(float(x)) for x in r] for r in a]  # noqa: E731
    if form == "vector":
        data = dict(A=txt(scale * rng.standard_normal((n, d))), b=[repr(float(x)) for x in rng.dirichlet(np.ones(n))])
    else:
        data = dict(A1=txt(np.sqrt(scale) * rng.standard_normal((n, d))),
                    A2=txt(np.sqrt(scale) * rng.standard_normal((n, d))), B=txt(rng.dirichlet(np.ones(n), size=n)))
    p = d if form == "vector" else d * d
    radius = float(rng.choice([0.01, 0.1, 0.5, 1.0]))
    center = [repr(float(x)) for x in 0.5 * rng.standard_normal(p)]
    return dict(quantity=quantity, form=form, version=version, data=data, target="1",
                domain=dict(center=center, radius=repr(radius), norm="inf"),
                precision_bits=int(rng.choice([53, 128]))), p


def _sweep(trials, seed):
    """Random problems (n = 1..4 incl. the constant softmax n = 1, d = 1..2, both forms, all quantities, data
    scales 0.3..10, radii 0.01..1, 53 or 128 bits): on the root box and a random sub-box, no sampled point
    (30 digits) exceeds the run's bound, the centre's lower bound holds, and the checker verifies the bound."""
    rng = np.random.default_rng(seed)
    ctx = mpmath.MPContext()
    ctx.dps = 30
    for trial in range(trials):
        prob, p = _random_problem(rng, trial)
        box = P.root(p)
        for _ in range(int(rng.integers(0, 5))):
            box = P.split(box)[int(rng.integers(0, 2))]
        c, r = [float(v) for v in prob["domain"]["center"]], float(prob["domain"]["radius"])
        for b, (ub, lb, _) in zip((P.root(p), box), bnb.evaluate(prob, [P.root(p), box])):
            lo = [ci + r * (2 * i / 2 ** lvl - 1) for ci, (i, lvl) in zip(c, b)]
            for _ in range(6):
                x = [a + r * 2 / 2 ** lvl * t for a, (_, lvl), t in zip(lo, b, rng.random(p))]
                assert confirm.spectral(ctx, confirm.matrix_at(ctx, prob, [ctx.mpf(v) for v in x])) <= ctx.mpf(ub)
            centre = [ctx.mpf(v) for v in P.centre_text(prob, b)]
            assert confirm.spectral(ctx, confirm.matrix_at(ctx, prob, centre)) >= ctx.mpf(lb)
            old, flint.ctx.prec = flint.ctx.prec, prob["precision_bits"]
            try:
                assert checker._holds(prob, checker._rows(prob), b, ub, checker.MAX_DEPTH), (trial, prob, b, ub)
            finally:
                flint.ctx.prec = old


def test_random_problems_are_sound_and_checkable():
    _sweep(12, seed=2026)


@pytest.mark.slow
def test_random_problems_are_sound_and_checkable_many():
    _sweep(150, seed=123)


def test_rounds_report_the_cpu_each_process_spent():
    """The benchmark's CPU-time view: one entry per round after the root, keyed by process, in seconds."""
    import os

    s = spec.load(EXAMPLES / "certify-f.toml")
    rounds = []
    body = bnb.run(s, cpu=rounds)
    assert rounds and all(set(r) == {os.getpid()} and r[os.getpid()] > 0 for r in rounds)
    assert certificate.dumps(certificate.build(body)) == certificate.dumps(certificate.build(bnb.run(s)))
