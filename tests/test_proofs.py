"""attnreg.proofs: every lemma's steps (exact sympy identities and named-rule chains), its statement's numeric
second route at 50 digits, the dependency graph, the Bound interface the claims checker consumes, and that the
checker itself rejects wrong proofs."""
import dataclasses
import importlib
import random
import re
from pathlib import Path

import pytest
import sympy as sp

from attnreg import proofs
from attnreg.proofs import LEMMAS, ORDER, Bound, Goal, Lemma, Step, bound_lemmas, verify
from attnreg.proofs._checker import holds
from attnreg.proofs._core import INSTANCE, Estimate, by, cite, given
from attnreg.proofs._numeric import context
from attnreg.proofs._sample import bound_ratio
from attnreg.proofs._statement import stated
from attnreg.proofs.symbols import KRON, M, R, d, dA, ds, dx, n, norm_A, norm_b, norm_x, quantity

pytestmark = pytest.mark.xdist_group("lemmas")  # one worker verifies every lemma once (a cache per process)

IDS = list(LEMMAS)
SLOW = [i for i in IDS if LEMMAS[i].slow_sizes]
VOCAB = re.compile(r"norm\((A|A1|A2|x|X|b|kron\(A1,A2\))\) <= .+|simplex\(b\)|norm_inf\(A\(x-y\)\) <= .+"
                   r"|norm_inf\(\(A-A'\)x\) <= .+|(R|n|d) (>=|<=) .+")


def test_at_least_twenty_lemmas_in_an_explicit_order():
    assert len(LEMMAS) >= 20 and list(LEMMAS) == list(ORDER) and len(set(ORDER)) == len(ORDER)
    for name in IDS:  # a module per lemma, named after its id, or a family module that generates it by id
        module = importlib.import_module(proofs.HOME[name])
        if module in proofs.FAMILIES:
            assert module.__name__ != f"attnreg.proofs.{name}" and module.LEMMAS[name] is LEMMAS[name]
        else:
            assert module.__name__ == f"attnreg.proofs.{name}" and module.LEMMA is LEMMAS[name]
        assert LEMMAS[name].id == name
    generated = [i for i in IDS if importlib.import_module(proofs.HOME[i]) in proofs.FAMILIES]
    assert len(generated) >= 18 and all(set(f.LEMMAS) <= set(IDS) for f in proofs.FAMILIES)  # no orphan lemma


def test_requires_are_known_and_the_graph_is_acyclic():
    seen = set()
    for name in ORDER:  # every requirement comes earlier in ORDER: a topological order, so no cycle
        assert set(LEMMAS[name].requires) <= seen, f"{name} requires {set(LEMMAS[name].requires) - seen}"
        seen.add(name)


@pytest.mark.parametrize("name", IDS)
def test_module_shape(name):
    lemma = LEMMAS[name]
    assert lemma.doc.splitlines()[0].startswith(f"Lemma {name} ({lemma.title}): ")
    for section in ("Statement", "Check"):
        assert lemma.section(section).strip(), f"{name}: empty {section}"
    # the derivation is the steps, rendered by `attnreg proofs show`: no hand-written copy in the docstring
    assert not any(line.strip() == "Derivation" for line in lemma.doc.splitlines()), f"{name}: a Derivation section"
    lines = len(Path(importlib.import_module(proofs.HOME[name]).__file__).read_text().splitlines())
    assert lines <= 300


@pytest.mark.parametrize("name", IDS)
def test_every_step_is_verified_symbolically(name):
    lemma = LEMMAS[name]
    v = verify(lemma)
    assert v.ok, v.detail
    assert v.sizes[0] == (3, 2) and all(a >= 3 and b >= 2 for a, b in v.sizes)  # the checker's sizes, not the lemma's
    steps = lemma.steps(*v.sizes[0])
    assert steps and all(isinstance(s, Step | Estimate) for s in steps)
    if lemma.kind == "identity":
        assert all(isinstance(s, Step) for s in steps)
    else:  # the composed constant is at most the stated one
        assert v.composed is not None and len(v.trail) == sum(isinstance(s, Estimate) for s in steps)


@pytest.mark.parametrize("name", IDS)
def test_numeric_route_at_fifty_digits(name):
    ctx = context(50)
    assert ctx.dps >= 50
    result = LEMMAS[name].numeric(ctx, random.Random(1))
    assert result.ok, result.detail
    assert result.measured <= result.bound


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_steps_at_the_slow_sizes(name):
    """Every step again at the lemma's slow sizes, which are larger than the checker's (n = 4, d = 3): more
    verified, not the same sizes again (a slow size below n = 3, d = 2 fails the lemma; see the test below)."""
    lemma = LEMMAS[name]
    v = verify(lemma, lemma.slow_sizes)
    assert v.ok, v.detail
    assert set(lemma.slow_sizes) <= set(v.sizes) and len(v.sizes) > 1 and not v.ignored
    assert v.steps == len(v.sizes) * len(lemma.steps(3, 2))


def test_slow_sizes_are_larger_and_can_fail():
    """The slow sizes verify more than the default tier: an identity that holds at n = 3 and fails at n = 4
    (e₄(x_0, …, x_{n−1}) = 0, no 4-subset of 3 indices) passes at the checker's sizes and fails at the slow one."""
    assert SLOW and all(a >= 3 and b >= 2 and (a, b) != (3, 2) for name in SLOW for a, b in LEMMAS[name].slow_sizes)
    t = sp.Symbol("t")

    def e4(n_, d_):
        xs = [sp.Symbol(f"x_{i}", real=True) for i in range(n_)]
        poly = sp.expand(sp.prod([1 + t * xi for xi in xs]))
        return [Step("e₄(x) = 0", "test", poly.coeff(t, 4), sp.Integer(0))]

    lem = dataclasses.replace(_lemma("t_e4", [], claim="e₄(x) = 0", shows=(1,)), steps=e4, slow_sizes=((4, 2),))
    base = verify(lem, known={"t_e4": lem}, numeric=False).failures
    stated = [f for f in base if f.startswith("statement: ")]  # a step that is not proved cannot be stated either
    assert len(base) == 2 and "checked at fixed sizes only, has no index form" in base[0]  # it holds at n = 3
    assert stated == [base[1]] and base[1].endswith("is not a step proved for every n and d (no linked index form, "
                                                    "not reviewed: proofs/_linked.py, proofs/_fixed.py), so it cannot "
                                                    "be stated")
    v = verify(lem, lem.slow_sizes, known={"t_e4": lem}, numeric=False)
    assert not v.symbolic_ok and "step 1 at n=4, d=2: e₄(x) = 0" in "; ".join(v.failures)


# ---- the interface the claims use ------------------------------------------------------------------

def test_bound_lemmas_and_their_bounds():
    found = bound_lemmas()
    assert found == [lem for lem in LEMMAS.values() if lem.bound is not None] and len(found) >= 20
    assert proofs.symbols.n is n and all(s.is_positive for s in (n, d, R))
    for lem in found:
        b = lem.bound
        assert isinstance(b, Bound) and b.lemma == lem.id and b.assume == lem.assume
        assert b.constant().free_symbols <= {n, d, R}
        assert all(VOCAB.fullmatch(a) for a in b.assume), b.assume
        assert b.wrt_norm == ("fro" if b.wrt in ("x", "X") else None if b.wrt is None else b.wrt_norm)
        assert b.wrt_norm in ((None,) if b.wrt is None else ("spectral", "fro"))  # no distance without a wrt
        assert (b.version is not None) == (b.quantity in ("c", "h", "loss", "grad")) and b.loss_scale == "half"
        g = lem.goal  # the goal the chain proves is exactly the Bound's statement
        if b.kind == "lipschitz":
            wrt = sp.simplify(g.rhs / b.constant())
            assert g.rel == "<=" and isinstance(wrt, sp.Symbol) and wrt.is_positive
        else:
            assert (g.rel, g.rhs) == ("<=" if b.kind == "upper" else ">=", b.constant())
    with pytest.raises(Exception):
        found[0].bound.quantity = "u"  # frozen


def test_stated_constants():
    C = {lem.id: lem.bound.constant() for lem in bound_lemmas()}
    assert C["grad_lipschitz_normalized"] == sp.Rational(13, 4) * R ** 2
    assert sp.simplify(C["grad_lipschitz_rescaled"] - (3 * n + 3 * sp.sqrt(n) + 2) * sp.exp(2 * R ** 2) * R ** 2) == 0
    assert (C["alpha_lower"], C["alpha_upper"]) == (n * sp.exp(-R ** 2), n * sp.exp(R ** 2))
    assert C["f_lipschitz_x"] == R / 2
    # block structure: the matrix constants are the per-row (vector) ones, not n or sqrt(n) times larger
    for q in ("f", "u", "alpha", "h"):
        assert C[f"matrix_{q}_lipschitz_X"] == C[f"{q}_lipschitz_x"]
    for v in ("normalized", "rescaled"):
        assert C[f"matrix_grad_lipschitz_{v}"] == C[f"grad_lipschitz_{v}"]


@pytest.mark.parametrize("over", [dict(quantity="q"), dict(kind="lipschitz"), dict(quantity="grad"),
                                  dict(version="normalized"), dict(value=n * sp.Symbol("z"))])
def test_bound_rejects_what_is_outside_the_vocabulary(over):
    fields = dict(quantity="alpha", form="vector", kind="upper", value=n * sp.exp(R ** 2), lemma="x") | over
    with pytest.raises(ValueError):
        Bound(**fields)


def test_numeric_route_catches_a_too_small_constant():
    b = LEMMAS["f_lipschitz_x"].bound
    small = Bound(quantity=b.quantity, form=b.form, kind=b.kind, wrt=b.wrt, value=R / 50, assume=b.assume, lemma="t")
    assert bound_ratio(context(50), random.Random(0), b).ok
    assert not bound_ratio(context(50), random.Random(0), small).ok


# ---- the checker can fail ----------------------------------------------------------------------

Q, P = quantity("‖q‖", "q"), norm_b  # an assumption step bounds the symbol declared for its norm
x = sp.Symbol("x", real=True)


def _lemma(name, steps, goal=None, requires=(), assume=(), claim="a claim.", shows=()):
    """A test lemma; a bound one states its goal (its claim is replaced by it, proofs/_statement.py), so that each
    case is refused for what it is about, not for its claim."""
    doc = f"Lemma {name} (test): {claim}\n\nStatement\n    s\nDerivation\n    d\nCheck\n    c\n"
    lemma = Lemma(doc=doc, steps=lambda n_, d_: steps, numeric=None, goal=goal, requires=requires, assume=assume,
                  shows=shows)
    return stated(lemma) if goal is not None else lemma


def _fails(lemma, known=None):
    """The symbolic failures of ``lemma`` (its numeric layers are not run: these test lemmas have none)."""
    v = verify(lemma, known=dict(LEMMAS, **(known or {}), **{lemma.id: lemma}), numeric=False)
    return not v.symbolic_ok and v.failures


def _why(lemma, known=None) -> str:
    """The failures of a lemma that must fail ("" if it verifies)."""
    return "; ".join(_fails(lemma, known) or ())


def _forged(base, steps, rhs, **changes):
    """``base`` with other steps and the goal ``lhs <= rhs`` (its Bound dropped, so the goal may change), stating
    that goal (its claim, proofs/_statement.py), so that it is refused for what each case is about."""
    goal = Goal(base.goal.lhs, "<=", rhs)
    return stated(dataclasses.replace(base, steps=steps, goal=goal, bound=None, **changes))


def test_exact_identities_are_decided_not_sampled():
    assert holds(sp.exp(x + 2 * sp.Symbol("y")), sp.exp(x) * sp.exp(sp.Symbol("y")) ** 2)
    assert not holds(sp.exp(x), 1 + x + x ** 2 / 2)  # agrees near 0 to second order, but is not an identity
    assert _fails(_lemma("t_wrong_identity", [Step("exp′ = 2 exp", "wrong", sp.exp(x).diff(x), 2 * sp.exp(x))]))


def test_wrong_chains_are_rejected(monkeypatch):
    from attnreg.proofs import _reviewed

    # ‖q‖ is made up: its trusted step is accepted only once listed as a reviewed application
    monkeypatch.setattr(_reviewed, "REVIEWED", _reviewed.REVIEWED | {("submultiplicative", "‖q‖", "<=", "‖b‖")})
    half = sp.Rational(1, 2)
    goal = Goal(Q, "<=", half)
    assert not _fails(_lemma("t_ok", [by("submultiplicative", Q, "<=", P, "w"), given(P, "<=", 1, "norm(b) <= 1")],
                             Goal(Q, "<=", 1), assume=("norm(b) <= 1",)))
    cases = {
        "t_too_big": [by("triangle", Q, "<=", P, "w"), given(P, "<=", 1, "norm(b) <= 1")],  # composes to 1 > 1/2
        "t_wrong_way": [by("triangle", Q, ">=", P / 2, "w"), given(P, "<=", 1, "norm(b) <= 1")],
        "t_not_monotone": [by("triangle", Q, "<=", 1 - P, "w"), given(P, "<=", half, "norm(b) <= 1")],
        "t_assumed_other": [by("triangle", Q, "<=", P / 2, "w"), given(P, "<=", half, "norm(b) <= 1")],  # not 1
        "t_assumed_wrong_norm": [by("triangle", Q, "<=", norm_x / 2, "w"), given(norm_x, "<=", 1, "norm(b) <= 1")],
        "t_lemma_uncited": [by("lemma", Q, "<=", half, "Lemma softmax_jacobian_half")],
        "t_rows_uncited": [by("stacked_rows", Q, "<=", half, "per row")],
        "t_identity_no_side": [by("identity", Q, "=", half, "nothing")],
        "t_identity_not_equal": [by("identity", Q, "<=", half, "w", side=(Step("x = x", "yes", x, x),))],
        "t_unknown_rule": [by("magic", Q, "<=", half, "w")],
        "t_unassumed": [by("triangle", Q, "<=", P / 2, "w"), given(P, "<=", 1, "norm(x) <= 1")],
        "t_uncited_use": [by("triangle", Q, "<=", half, "w", uses=("tensor_trick",))],
        "t_bad_side": [by("triangle", Q, "<=", half, "w", side=(Step("x = 2x", "no", x, 2 * x),))],
        "t_leftover": [by("triangle", Q, "<=", P / 2, "w")],
    }
    for name, steps in cases.items():
        assert _fails(_lemma(name, steps, goal, assume=("norm(b) <= 1",))), name


def test_citations_must_match_and_carry_their_hypotheses():
    jac = LEMMAS["softmax_jacobian_half"]
    good = cite(jac, {})
    forged = Estimate("lemma", good.lhs, "<=", sp.Rational(1, 4), "forged", good.uses, cite=good.cite)
    assert not _fails(_lemma("t_cite_ok", [good], Goal(good.lhs, "<=", sp.Rational(1, 2)),
                             requires=("softmax_jacobian_half",)))
    assert _fails(_lemma("t_cite_forged", [forged], Goal(good.lhs, "<=", sp.Rational(1, 4)),
                         requires=("softmax_jacobian_half",)))
    box = LEMMAS["exp_lipschitz_box"]  # its hypothesis norm_inf(s) <= M must be assumed or discharged
    assert _fails(_lemma("t_cite_open", [cite(box, {})], box.goal, requires=("exp_lipschitz_box",)))


def test_forged_lemmas_are_rejected():
    """The reviewer's forgeries (an assumption stating less than its hypothesis, a wrong discharge, a renamed
    parameter, uncited rules), each rejected for the reason it is wrong."""
    fx, ux, cx = LEMMAS["f_lipschitz_x"], LEMMAS["u_lipschitz_x"], LEMMAS["c_lipschitz_x"]
    for real in (fx, ux, cx):  # the untouched chains verify (and the forgeries below share their ids)
        assert verify(real).ok
    # 1. "norm(A) <= R" used as ‖A‖ ≤ R/100 (and as a bound on another norm)
    small = _forged(fx, lambda n_, d_: [*fx.steps(n_, d_)[:-1], given(norm_A, "<=", R / 100, "norm(A) <= R")],
                    R / 200 * dx)
    assert "the hypothesis 'norm(A) <= R' says <= R" in _why(small)
    other = _forged(fx, lambda n_, d_: [*fx.steps(n_, d_)[:-1], given(norm_x, "<=", R, "norm(A) <= R")],
                    R / 2 * dx)
    assert "not a symbol for norm(A)" in _why(other)
    # 2. the box hypothesis of exp_lipschitz_box discharged "by logit_box" at a radius logit_box does not prove
    from attnreg.proofs.exp_lipschitz_box import DU, LEMMA as EXPBOX
    DU_X = ux.goal.lhs
    from attnreg.proofs._chains import DSX

    def box(radius, by_="logit_box"):
        return lambda n_, d_: [cite(EXPBOX, {DU: DU_X, ds: DSX, M: radius}, "x",
                                    discharge={"norm_inf(s) <= M": by_}), *ux.steps(n_, d_)[1:]]
    assert "but logit_box proves ‖Ax‖_∞ <= R**2" in _why(_forged(ux, box(R), R * sp.exp(R) * R))
    assert "M := 0 is not shown positive" in _why(_forged(ux, box(sp.Integer(0)), R))
    fake = _lemma("t_fake_box", [by("triangle", Q, "<=", R ** 2, "w")], Goal(Q, "<=", R ** 2))  # R², but not of ‖s‖_∞
    wrong_lhs = _forged(ux, box(R ** 2, "t_fake_box"), ux.goal.rhs, requires=("exp_lipschitz_box", "t_fake_box"))
    assert "but t_fake_box proves ‖q‖ <= R**2" in _why(wrong_lhs, {"t_fake_box": fake})
    # 3. a citation that renames R without discharging the hypotheses that mention it
    renamed = _forged(cx, lambda n_, d_: [cx.steps(n_, d_)[0], cite(fx, {R: R / 100})], R / 200 * dx)
    assert "'norm(A) <= R' mentions R, which the citation renames" in _why(renamed)
    # a citation may not turn a bound in ‖x − y‖ into one in ‖A − A′‖, nor ‖A‖ into ‖x‖
    fa = LEMMAS["f_lipschitz_A"]
    moved = dataclasses.replace(fa, steps=lambda n_, d_: [cite(fx, {fx.goal.lhs: fa.goal.lhs, dx: dA})],
                                requires=("f_lipschitz_x",), bound=None, assume=("norm(A) <= R",))
    assert "renames ‖x − y‖ to ‖A − A′‖" in _why(moved)
    swapped = _forged(fx, lambda n_, d_: [*fx.steps(n_, d_)[:-1], cite(LEMMAS["logit_box"], {norm_A: norm_x})],
                      fx.goal.rhs, requires=("softmax_lipschitz_logits", "logit_box"))
    assert "renames ‖A‖ to ‖x‖" in _why(swapped)
    # 4. a rule that needs a citation, or an identity without its side condition (also in the test above)
    uncited = _forged(fx, lambda n_, d_: [by("lemma", fx.goal.lhs, "<=", dx / 1000, "Lemma softmax_lipschitz_logits",
                                             uses=("softmax_lipschitz_logits",))], dx / 1000)
    assert "by rule 'lemma' cites no lemma" in _why(uncited)
    assert "needs relation '=' and a side identity" in _why(_forged(fx, lambda n_, d_: [
        by("identity", fx.goal.lhs, "=", 0 * dx, "nothing")], sp.Integer(0)))
    # the instance rule still works, and still needs R := the norm its hypothesis bounds
    fac = LEMMAS["matrix_grad_lipschitz_normalized_factors"]
    assert verify(fac).ok and dict(fac.steps(*fac.sizes[0])[0].discharge) == {"norm(kron(A1,A2)) <= R": INSTANCE}
    twice = cite(LEMMAS["matrix_grad_lipschitz_normalized"], {R: 2 * KRON},
                 discharge={"norm(kron(A1,A2)) <= R": INSTANCE})  # R := 2‖A1 ⊗ A2‖ is not an instance of it
    bad = _forged(fac, lambda n_, d_: [twice, *fac.steps(n_, d_)[1:]], 4 * fac.goal.rhs)
    assert "is not discharged by R := ‖kron(A1,A2)‖" in _why(bad)


def test_a_bound_must_state_its_lemmas_goal():
    fx = LEMMAS["f_lipschitz_x"]
    with pytest.raises(ValueError, match="does not state its goal"):  # wrt x, but the goal is in ‖A − A′‖
        dataclasses.replace(fx, goal=Goal(fx.goal.lhs, "<=", R / 2 * dA))
    for label in (dict(quantity="u"), dict(wrt="A"), dict(value=R / 4), dict(kind="upper", wrt=None)):
        with pytest.raises(ValueError):
            dataclasses.replace(fx, bound=dataclasses.replace(fx.bound, **label))
    with pytest.raises(ValueError, match="does not state its goal"):  # a grad Bound labelled with the other version
        g = LEMMAS["grad_lipschitz_normalized"]
        dataclasses.replace(g, bound=dataclasses.replace(g.bound, version="rescaled"))


def test_a_lemma_fails_when_a_lemma_it_requires_fails(monkeypatch, capsys):
    from attnreg.cli import main

    jac = LEMMAS["softmax_jacobian_half"]
    broken = dataclasses.replace(jac, steps=lambda n_, d_: [Step("1 = 2", "forged", sp.Integer(1), sp.Integer(2)),
                                                            *jac.steps(n_, d_)])
    monkeypatch.setitem(proofs.LEMMAS, "softmax_jacobian_half", broken)
    assert not verify(broken).ok
    v = verify(LEMMAS["f_lipschitz_x"])  # f_lipschitz_x → softmax_lipschitz_logits → softmax_jacobian_half
    assert not v.ok and v.failures == ("requires softmax_lipschitz_logits, which fails",)
    found = {lem.id for lem in bound_lemmas()}
    assert "u_lipschitz_x" in found and not found & {"f_lipschitz_x", "c_lipschitz_x", "grad_lipschitz_normalized",
                                                     "matrix_grad_lipschitz_normalized_factors"}
    assert {lem.id for lem in bound_lemmas(verified=False)} >= {"f_lipschitz_x", "u_lipschitz_x"}
    assert main(["proofs", "check", "f_lipschitz_x", "--no-numeric"]) == 1
    assert "requires softmax_lipschitz_logits, which fails" in capsys.readouterr().out


def test_identities_compare_shapes_and_verdicts_are_not_reused_across_lemmas():
    col, row_ = sp.Matrix([x, 0, 1]), sp.Matrix([[x, 0, 1]])
    assert holds(col, sp.Matrix([x, 0, 1])) and not holds(col, row_) and not holds(col, [x, 0, 1])
    assert not holds(sp.Matrix([[x, 0], [1, 2]]), sp.Matrix([[x, 0, 1, 2]]))
    fx = LEMMAS["f_lipschitz_x"]
    assert verify(fx).ok  # cached; a lemma with the same id but other steps is checked afresh
    forged = dataclasses.replace(fx, steps=lambda n_, d_: [Step("1 = 2", "no", sp.Integer(1), sp.Integer(2)),
                                                           *fx.steps(n_, d_)])
    assert not verify(forged).ok


def test_a_citation_shows_its_renaming_and_discharges():
    from attnreg.proofs.render import render

    out = render(LEMMAS["u_lipschitz_x"])
    assert "M := R^2" in out and "‖s − s′‖ := ‖Ax − Ay‖" in out
    assert "hypothesis norm_inf(s) <= M (here ≤ R^2) of exp_lipschitz_box: by Lemma logit_box: ‖Ax‖_∞ ≤ R^2" in out
    fac = render(LEMMAS["matrix_grad_lipschitz_normalized_factors"])
    assert "R := ‖A1 ⊗ A2‖" in fac and "norm(b) <= 1 of matrix_grad_lipschitz_normalized: assumed here" in fac


def test_docstring_examples():
    import doctest

    failed, attempted = doctest.testmod(proofs, optionflags=doctest.ELLIPSIS)
    assert failed == 0 and attempted > 0


# one lemma of each family module and of each kind of hand-written lemma; every lemma in the slow tier
RENDERED = ("tensor_trick", "u_lipschitz_x", "matrix_f_lipschitz_A1", "grad_rescaled", "hessian_normalized",
            "f_deriv", "matrix_alpha_upper", "softmax_jacobian_half", "grad_lipschitz_normalized_A", "kron_blocks")
RENDER_CASES = [n_ if n_ in RENDERED else pytest.param(n_, marks=pytest.mark.slow) for n_ in IDS]


def test_the_default_tier_renders_one_lemma_of_each_family():
    from attnreg.proofs import HOME

    homes = {HOME[i].rsplit(".", 1)[-1] for i in RENDERED}
    assert set(RENDERED) <= set(IDS) and homes >= {"lifts", "twins", "derivatives", "alpha_bounds"}


@pytest.mark.parametrize("name", RENDER_CASES)
def test_every_lemma_renders_its_derivation_from_its_steps(name):
    """The prose of a proof is its steps: `attnreg proofs show` numbers one item per step (no hand-written
    Derivation in the docstring to disagree with it), after the Explanation and before Check and Trust base."""
    from attnreg.proofs.render import render

    lemma = LEMMAS[name]
    out = render(lemma)
    proof = out.split("## Proof\n", 1)[1].split("\n## ", 1)[0]
    numbered = [line for line in proof.splitlines() if re.match(r"\d+\. ", line)]
    assert len(numbered) == len(lemma.steps(*lemma.sizes[0])) > 0, name
    assert out.startswith(f"# Lemma {name} ({lemma.title})") and "## Explanation (prose, not checked)\n" in out, name
    assert f"**Statement (formal, checked).** {lemma.claim}\n" in out, name
    assert lemma.section("Statement").splitlines()[0].strip() in out and "Derivation" not in out, name


def test_the_rendered_numeric_route_follows_the_verdict_not_its_text():
    """The numeric route's word came from searching "FAILED" in its text: a passing route whose detail names
    a failure elsewhere read FAILED, a failing one whose detail lacked the word read confirmed."""
    from attnreg.proofs.render import render

    lemma = LEMMAS["u_lipschitz_x"]
    real = verify(lemma)
    assert real.numeric_ok is True and "Numeric route (confirmed)" in render(lemma, verdict=real)
    passing = dataclasses.replace(real, numeric="lemma's route confirmed: the FAILED form of the bound is refuted")
    assert "Numeric route (confirmed)" in render(lemma, verdict=passing)
    failing = dataclasses.replace(real, ok=False, numeric="checker's sampling: ratio 3.2 > 1", numeric_ok=False)
    assert "Numeric route (FAILED)" in render(lemma, verdict=failing)
    assert "Numeric route" not in render(lemma, verdict=dataclasses.replace(real, numeric="", numeric_ok=None))
