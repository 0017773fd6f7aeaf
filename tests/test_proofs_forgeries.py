"""The forgeries a formal-methods reviewer wrote as new lemma modules, and variants: each is rejected by the
checker with the reason printed (by ``verify``, by ``attnreg proofs check``, and kept out of ``bound_lemmas()``)."""
import dataclasses
import random

import pytest
import sympy as sp

from attnreg import proofs
from attnreg.cli import main
from attnreg.proofs import LEMMAS, Goal, Lemma, Step, bound_lemmas, verify
from attnreg.proofs._chains import DSX
from attnreg.proofs._checker import compose
from attnreg.proofs._statement import stated
from attnreg.proofs._core import Estimate, by, cite, given
from attnreg.proofs._forms import jac, parts
from attnreg.proofs._goals import goal_ratio
from attnreg.proofs._numeric import Numeric, context
from attnreg.proofs._ops import SYM, vec
from attnreg.proofs.symbols import R, ds, dx, matrix, n, quantity, vector

pytestmark = pytest.mark.xdist_group("lemmas")  # forgeries cite the real lemmas: verified once, on one worker

DOC = "Lemma {} (forgery): {}\n\nStatement\n    s\nDerivation\n    d\nCheck\n    c\n"


def forged(name, steps, goal=None, requires=(), assume=(), sizes=((3, 2),), numeric=None):
    """A new lemma module. A bound lemma's claim is its goal with its hypotheses; an identity lemma's is what its
    identity steps state, all of them shown (built at the checker's n = 3, d = 2), so that each forgery is refused
    for the hole it is about, not for its claim (proofs/_statement.py)."""
    build = (lambda n_, d_: steps(n_, d_)) if callable(steps) else (lambda n_, d_: steps)
    shows, claim = (), "a false statement."
    if goal is None:
        built = list(build(3, 2))
        shows = tuple(k for k, s in enumerate(built, 1) if isinstance(s, Step))
        claim = "; ".join(built[k - 1].claim for k in shows) or claim
    lemma = Lemma(doc=DOC.format(name, claim), steps=build, goal=goal, requires=requires, assume=assume, sizes=sizes,
                  numeric=numeric, shows=shows)
    return stated(lemma) if goal is not None else lemma


def why(lemma, *, numeric=False) -> str:
    """The reasons ``lemma`` is rejected ("" would mean it was accepted)."""
    v = verify(lemma, known=dict(LEMMAS, **{lemma.id: lemma}), numeric=numeric)
    accepted = v.ok if numeric else v.symbolic_ok
    return "" if accepted else "; ".join(v.failures)


def rejected_by_cli(lemma, monkeypatch, capsys, *args) -> str:
    monkeypatch.setitem(proofs.LEMMAS, lemma.id, lemma)
    assert main(["proofs", "check", lemma.id, *args]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    return out


# ---- dimensions are never renamed --------------------------------------------------------------

def test_renaming_n_is_rejected(monkeypatch, capsys):
    ax, au = LEMMAS["alpha_lipschitz_x"], LEMMAS["alpha_upper"]
    lip = forged("f_alpha_lip_n1", [cite(ax, {n: 1})], Goal(ax.goal.lhs, "<=", R * sp.exp(R ** 2) * dx),
                 requires=("alpha_lipschitz_x",), assume=ax.assume)
    assert "renames the dimension n to 1" in why(lip)
    up = forged("f_alpha_upper_64", [cite(au, {n: 64})], Goal(au.goal.lhs, "<=", 64 * sp.exp(R ** 2)),
                requires=("alpha_upper",), assume=au.assume)
    assert "renames the dimension n to 64" in why(up)
    assert "renames the dimension n" in rejected_by_cli(up, monkeypatch, capsys, "--no-numeric")
    # the same forgery with a claims-vocabulary Bound, registered as if it were a lemma module: not proved anywhere
    from attnreg.proofs import Bound

    b64 = Bound(quantity="alpha", form="vector", kind="upper", value=64 * sp.exp(R ** 2), assume=au.assume,
                lemma="f_alpha_upper_64b")
    up_b = Lemma(doc=DOC.format("f_alpha_upper_64b", "a false statement."), steps=lambda n_, d_: [cite(au, {n: 64})],
                 goal=Goal.of(b64, au.goal.lhs), bound=b64, requires=("alpha_upper",))
    monkeypatch.setitem(proofs.LEMMAS, up_b.id, up_b)
    assert up_b in bound_lemmas(verified=False) and up_b not in bound_lemmas()
    assert "renames the dimension n to 64" in "; ".join(verify(up_b).failures)
    # variants: d, a non-positive symbol spelled n, and n sent to an expression
    assert "renames the dimension d" in why(forged("f_d", [cite(au, {sp.Symbol("d", positive=True): 1})],
                                                   au.goal, requires=("alpha_upper",), assume=au.assume))
    assert "renames the dimension n" in why(forged("f_n_plain", [cite(au, {sp.Symbol("n"): 2})], au.goal,
                                                   requires=("alpha_upper",), assume=au.assume))
    assert "renames the dimension n" in why(forged("f_n_expr", [cite(au, {n: sp.sqrt(n)})],
                                                   Goal(au.goal.lhs, "<=", sp.sqrt(n) * sp.exp(R ** 2)),
                                                   requires=("alpha_upper",), assume=au.assume))


# ---- a citation maps a quantity symbol to a quantity symbol, at one pair of points ----------------

def test_citation_maps_symbols_to_symbols():
    DQ = LEMMAS["f_lipschitz_x"].goal.lhs
    from attnreg.proofs.softmax_lipschitz_logits import DF, LEMMA as SOFT

    steps = lambda n_, d_: [cite(SOFT, {DF: DQ, ds: DSX / 2}), *LEMMAS["f_lipschitz_x"].steps(n_, d_)[1:]]  # noqa: E731
    quarter = forged("f_quarter", steps, Goal(DQ, "<=", R / 4 * dx), requires=("softmax_lipschitz_logits",),
                     assume=("norm(A) <= R",))
    assert "maps the quantity ‖s − s′‖ to ‖Ax − Ay‖/2" in why(quarter)
    # variants: the distance renamed to another symbol (‖x − y‖ skips ‖A‖), pairs mixed, an unknown quantity
    skip = forged("f_skip_A", [cite(SOFT, {DF: DQ, ds: dx})], Goal(DQ, "<=", dx / 2),
                  requires=("softmax_lipschitz_logits",))
    assert "‖x − y‖ is not an instance of ‖s − s′‖" in why(skip)
    from attnreg.proofs._chains import DSA

    mixed = forged("f_mixed", [cite(SOFT, {DF: DQ, ds: DSA}), *LEMMAS["f_lipschitz_A"].steps(3, 2)[1:]],
                   Goal(DQ, "<=", R / 2 * quantity("‖A − A′‖", "")), requires=("softmax_lipschitz_logits",),
                   assume=("norm(x) <= R",))
    assert "different pairs of points" in why(mixed)
    other = quantity("‖w(x) − w(y)‖", "w")
    assert "not an instance" in why(forged("f_other", [cite(SOFT, {DF: other, ds: DSX})], Goal(other, "<=", DSX / 2),
                                           requires=("softmax_lipschitz_logits",)))


# ---- identity steps must relate the two quantities of the step -----------------------------------

def test_identity_needs_a_side_identity_about_its_quantities():
    DGS = LEMMAS["grad_lipschitz_normalized"].steps(3, 2)[1].lhs  # ‖g(Ax) − g(Ay)‖
    from attnreg.proofs.softmax_jacobian_half import NJ

    f = parts(SYM, vector("s", 3)).f
    J = jac(SYM, f)
    unrelated = (Step("J = Jᵀ", "symmetric", J, J.T),)
    e = by("identity", DGS, "=", NJ * DSX / 2, "forged", side=unrelated)
    lem = forged("f_identity", [e], Goal(DGS, "<=", NJ * DSX / 2))
    assert "is not of the form rule 'identity' gives" in why(lem)
    # variants: one quantity on each side, but the checker has no definition of them, or they differ
    assert "has no definition of ‖g(Ax) − g(Ay)‖" in why(forged("f_identity_undefined", [
        by("identity", DGS, "=", DSX, "forged", side=unrelated)], Goal(DGS, "<=", DSX)))
    c_x, f_A = quantity("‖c(x) − c(y)‖", ""), quantity("‖f(A) − f(A′)‖", "")
    assert "not shown equal" in why(forged("f_identity_wrong", [
        by("identity", c_x, "=", f_A, "forged", side=unrelated)], Goal(c_x, "<=", f_A)))


# ---- what a rule says is checked -----------------------------------------------------------------

def test_probability_rule_and_rule_shapes():
    from attnreg.proofs.softmax_jacobian_half import NJ, ROWSUM
    from attnreg.proofs.softmax_lipschitz_logits import DF, SUPJ

    chain = [by("schur_test", NJ, "<=", ROWSUM, "J symmetric"), by("probability", ROWSUM, "<=", sp.Rational(1, 4), "f")]
    quarter = forged("f_prob", chain, Goal(NJ, "<=", sp.Rational(1, 4)), numeric=lambda ctx, rng: Numeric(
        True, 0.0, 1.0, "the author's own route, which samples nothing"))
    assert "not of the form rule 'probability' gives" in why(quarter)
    assert "rule 'probability' gives ‖p‖ ≤ 1" in why(forged("f_prob_lhs", [
        by("schur_test", NJ, "<=", ROWSUM, "J"), by("probability", ROWSUM, "<=", 1, "f")], Goal(NJ, "<=", 1)))
    # no rule brings in its own constant or parameter, nor a lower bound it cannot give
    for bad in (by("triangle", NJ, "<=", SUPJ / 4 + DF, "w"), by("submultiplicative", NJ, "<=", SUPJ / 4, "w"),
                by("hadamard", NJ, "<=", R * SUPJ, "w"), by("mean_value", NJ, "<=", n * SUPJ, "w")):
        assert "is not of the form rule" in why(forged("f_shape", [bad], Goal(NJ, "<=", bad.rhs))), bad
    assert "cannot give the relation '>='" in why(forged("f_ge", [by("triangle", NJ, ">=", SUPJ + DF, "w")],
                                                        Goal(NJ, ">=", SUPJ + DF)))


def test_the_checker_samples_the_goal_itself():
    """The ¼-Lipschitz softmax with an author's route that always passes: the checker's own sampling refutes it."""
    from attnreg.proofs.softmax_lipschitz_logits import DF

    liar = lambda ctx, rng: Numeric(True, 0.0, 1.0, "trust me")  # noqa: E731
    lem = forged("f_soft_quarter", [], Goal(DF, "<=", ds / 4), numeric=liar)
    r = goal_ratio(context(50), random.Random(0), lem)
    assert not r.ok and r.measured > 1.9  # ½ / ¼: the tie at the top is sampled
    assert "checker's sampling FAILED" in why(lem, numeric=True)
    unknown = forged("f_unknown_goal", [], Goal(quantity("‖w(s) − w(s′)‖", ""), "<=", ds), numeric=liar)
    assert "cannot evaluate" in goal_ratio(context(50), random.Random(0), unknown).detail


# ---- sizes are the checker's ---------------------------------------------------------------------

def test_sizes_are_the_checkers(monkeypatch, capsys):
    s = vector("s", 1)
    f = parts(SYM, s).f
    tiny = forged("f_tiny", lambda n_, d_: [Step("∂f/∂s = 0", "forged", parts(SYM, vector("s", n_)).f.jacobian(
        vector("s", n_)), sp.zeros(n_, n_))], sizes=((1, 1),))
    assert f.jacobian(s) == sp.zeros(1, 1)  # true at n = 1, the size the forgery chose
    assert "∂f/∂s = 0" in why(tiny) and verify(tiny, known={"f_tiny": tiny}, numeric=False).sizes[0] == (3, 2)
    assert verify(tiny, known={"f_tiny": tiny}, numeric=False).ignored == ((1, 1),)
    assert "declares n=1, d=1, below the checker's smallest n = 3, d = 2" in why(tiny)
    # sizes below the checker's are refused even when every step holds: the lemma's text relies on them
    fine = dataclasses.replace(forged("f_tiny", [Step("1 = 1", "x", 1, 1)], sizes=((1, 1),)), slow_sizes=((2, 2),))
    assert "declares n=1, d=1, n=2, d=2, below the checker's smallest" in why(fine)
    empty = dataclasses.replace(tiny, sizes=())
    assert "∂f/∂s = 0" in why(empty)
    # J² = tr(J) J holds at n = 2 and fails for n ≥ 3
    def square(n_, d_):
        J = jac(SYM, parts(SYM, vector("s", n_)).f)
        return [Step("J² = tr(J) J", "forged", J * J, J.trace() * J)]
    two = forged("f_square", square, sizes=((2, 1),))
    assert all(sp.simplify(e) == 0 for e in (lambda J: J * J - J.trace() * J)(jac(SYM, parts(SYM, vector("s", 2)).f)))
    assert "J² = tr(J) J" in why(two)
    # vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(Xᵀ) holds at d = 1 only
    def col(n_, d_):
        A1, A2, X = matrix("A1", n_, d_), matrix("A2", n_, d_), matrix("X", d_, d_)
        return [Step("vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(Xᵀ)", "forged", vec(A1 * X * A2.T, SYM),
                     SYM.kron(A1, A2) * vec(X.T, SYM))]
    assert "vec(A1 X A2ᵀ)" in why(forged("f_col", col, sizes=((3, 1),)))
    assert "vec(A1 X A2ᵀ)" in rejected_by_cli(forged("f_col", col, sizes=((3, 1),)), monkeypatch, capsys,
                                               "--no-numeric")


def test_a_step_built_only_below_the_checkers_sizes_is_refused(monkeypatch, capsys):
    """Lemma matrix_hvp built its end-to-end Hessian only at n = 2 and was proved at n = 3 without it: a step
    that exists at a size the checker never uses is refused, whatever the lemma's sizes say."""
    def steps(n_, d_):
        out = [Step("1 = 1", "x", sp.Integer(1), sp.Integer(1))]
        if (n_, d_) == (2, 1):
            out.append(Step("J² = tr(J) J", "forged", sp.Integer(0), sp.Integer(0)))
        return out
    lem = forged("f_small_only", steps)
    assert "built at n=2, d=1 but not at the checker's n=3, d=2, so never verified: J² = tr(J) J" in why(lem)
    assert "never verified" in rejected_by_cli(lem, monkeypatch, capsys, "--no-numeric")


@pytest.mark.slow  # 17–28 s of sympy at the checker's sizes; the other forgeries stay in the default tier
def test_a_wrong_matrix_hessian_is_rejected(monkeypatch, capsys):
    """matrix_hvp with K_j replaced by K_j + (J_j² − tr(J_j) J_j) (zero at n = 2, not at n = 3), or with the term of
    the last row missing from Σ_j A_[j]ᵀ K_j A_[j]: rejected by `attnreg proofs check` at the checker's sizes."""
    from attnreg.proofs._checker import holds
    from attnreg.proofs._sizes import built

    hvp = LEMMAS["matrix_hvp"]

    def plus_square(n_, d_):
        out = list(built(hvp, (n_, d_)))  # the real lemma's steps (built once), one of them changed
        S, B = matrix("S", n_, n_), matrix("B", n_, n_)
        J = [jac(SYM, parts(SYM, S[j, :].T, B[j, :].T).f) for j in range(n_)]
        out[1] = dataclasses.replace(out[1], rhs=out[1].rhs + sp.diag(*[Jj * Jj - Jj.trace() * Jj for Jj in J]))
        return out

    square = forged("f_hvp_square", plus_square, requires=hvp.requires)
    small = plus_square(2, 1)[1]
    assert holds(small.lhs, small.rhs)  # at n = 2 the wrong Hessian passes
    assert "step 2 at n=3, d=2: ∇²_S Σ_j ℓ_N(s_j) = blockdiag(K_N(s_j))" in rejected_by_cli(
        square, monkeypatch, capsys, "--no-numeric")

    def missing(n_, d_):
        out = list(built(hvp, (n_, d_)))
        A1, A2 = matrix("A1", n_, d_), matrix("A2", n_, d_)
        Kj = [matrix(f"K{j}_", n_, n_) for j in range(n_)]
        rhs = sum((SYM.kron(A1[j, :], A2).T * Kj[j] * SYM.kron(A1[j, :], A2) for j in range(n_ - 1)),
                  sp.zeros(d_ * d_, d_ * d_))
        out[3] = dataclasses.replace(out[3], rhs=rhs)
        return out

    assert "step 4 at n=3, d=2: (A1 ⊗ A2)ᵀ blockdiag(K_j) (A1 ⊗ A2) = Σ_j A_[j]ᵀ K_j A_[j]" in why(
        forged("f_hvp_missing", missing, requires=hvp.requires))


# ---- every layer, one verdict --------------------------------------------------------------------

def test_a_lemma_failing_its_numeric_route_is_not_proved(monkeypatch, capsys):
    jac_lemma = LEMMAS["softmax_jacobian_half"]
    wrong = lambda ctx, rng: Numeric(False, 2.0, 1.0, "the lemma's own route fails")  # noqa: E731
    broken = dataclasses.replace(jac_lemma, numeric=wrong)
    v = verify(broken)
    assert v.symbolic_ok and not v.ok and "lemma's route FAILED" in v.detail
    monkeypatch.setitem(proofs.LEMMAS, "softmax_jacobian_half", broken)
    assert not verify(LEMMAS["f_lipschitz_x"]).ok  # rests on it
    assert "f_lipschitz_x" not in {lem.id for lem in bound_lemmas()}
    assert main(["proofs", "check", "softmax_jacobian_half"]) == 1
    assert "lemma's route FAILED" in capsys.readouterr().out
    assert main(["proofs"]) == 0
    listed = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert listed["softmax_jacobian_half"] == "FAILED" and listed["f_lipschitz_x"] == "FAILED"
    assert listed["tensor_trick"] == "proved"


def test_no_numeric_never_says_proved(capsys):
    assert main(["proofs", "check", "tensor_trick", "--no-numeric"]) == 0
    out = capsys.readouterr().out
    assert "steps-ok" in out and "proved" not in out.split("\n")[0] and "nothing is reported proved" in out


def test_equal_estimates_get_the_direction_check():
    q, p = quantity("‖q‖", "q"), quantity("‖p‖", "p")
    est = [Estimate("submultiplicative", q, "<=", 1 / p, "w"), Estimate("homogeneity", p, "=", sp.Integer(1), "w")]
    ok, _, _, reason = compose(Goal(q, "<=", 1), est)
    assert not ok and "not monotone" in reason
    assert compose(Goal(q, "<=", 1), [Estimate("homogeneity", q, "=", p, "w"), given(p, "<=", 1, "x")])[0]


# The rescaled gradient-Lipschitz chain takes z3 about 20 s (nonlinear in n with square roots): slow tier.
Z3_SLOW = {"rescaled_grad_lipschitz_logits"}


@pytest.mark.parametrize("name", [pytest.param(k, marks=pytest.mark.slow) if k in Z3_SLOW else k
                                  for k, v in LEMMAS.items() if v.goal is not None])
def test_z3_confirms_every_chain_and_rejects_a_smaller_goal(name):
    pytest.importorskip("z3")
    from attnreg.proofs._z3 import witness

    ok, detail = witness(LEMMAS[name])
    assert ok, detail


# ---- Coq: the exported files compile, and a changed constant does not --------------------------------

def test_export_cli(tmp_path, capsys):
    assert main(["proofs", "export", "--coq", str(tmp_path / "coq")]) == 0
    names = {p.name for p in (tmp_path / "coq").iterdir()}
    assert {"Makefile", "SoftmaxRowSum.v", "Chain_normalized_grad_lipschitz_logits.v",
            "Chain_grad_lipschitz_normalized.v", "Chain_softmax_jacobian_half.v"} <= names
    (tmp_path / "f").write_text("x")
    assert main(["proofs", "export", "--coq", str(tmp_path / "f")]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.slow
def test_coq_files_compile(tmp_path):
    import shutil
    import subprocess

    if shutil.which("coqc") is None or shutil.which("make") is None:
        pytest.skip("coqc (Debian package coq) is not installed")
    from attnreg.proofs.export_coq import export

    export(tmp_path)
    done = subprocess.run(["make", "-C", str(tmp_path)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    # RowAbsSumStatement.v restates the reviewed theorem in a clean context; it rests only on Coq's standard reals
    from attnreg.proofs.export_coq import STANDARD_AXIOMS, STATEMENT_FILE, assumed
    said = subprocess.run(["coqc", "-q", STATEMENT_FILE], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert said.returncode == 0 and assumed(said.stdout) == STANDARD_AXIOMS, said.stdout + said.stderr
    # the witness can fail: the normalized chain with its constant 7/4 + 3‖b‖/2 changed to 7/5 + 3‖b‖/2
    name = "Chain_normalized_grad_lipschitz_logits.v"
    text = (tmp_path / name).read_text()
    goal = [line for line in text.splitlines() if line.strip().startswith("q0 <=") and line.endswith(".")][-1]
    assert "(7 / 4)" in goal
    (tmp_path / name).write_text(text.replace(goal, goal.replace("(7 / 4)", "(7 / 5)")))
    bad = subprocess.run(["coqc", "-q", name], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0
    assert not any("dmit" in (tmp_path / f).read_text() for f in ("SoftmaxRowSum.v", name))  # nothing admitted


# ---- identities for every n and d --------------------------------------------------------------------

def test_gradient_identity_for_symbolic_n_and_d():
    from attnreg.proofs import index_form as ix

    ok, rest = ix.grad_normalized_all_n()
    assert ok and rest == {}
    grad = sp.diff(ix.loss_normalized(), ix.x[ix.m])
    assert ix.remainder(grad, ix.gradient_formula(wrong=True))  # Aᵀ diag(f)(f − b) leaves terms
    assert ix.remainder(grad, 2 * ix.gradient_formula())  # so does twice the right one
    assert ix.normal_form(ix.loss_normalized())  # the normaliser does not send everything to 0


def test_rescaled_gradient_for_symbolic_n_and_d():
    from attnreg.proofs import index_form as ix

    assert ix.grad_rescaled_all_n() == (True, {})
    assert ix.remainder(sp.diff(ix.loss_rescaled(), ix.x[ix.m]), ix.gradient_rescaled(wrong=True))


@pytest.mark.parametrize("block", ["u", "alpha", "f", "c", "h"])
def test_derivatives_for_symbolic_n_and_d(block):
    from attnreg.proofs import index_form as ix

    assert ix.derivative_all_n(block) == (True, {})
    lhs, rhs = ix.derivatives()[block]
    assert ix.remainder(lhs, 2 * rhs)  # a wrong factor is not normalised away


# ---- a step built by the same formula at every size, true at the checker's n = 3 only ---------------

def _e4_steps(n_, d_):
    """e₄(v) = 0 written by Newton's identities in the power sums p_k = Σ_i v_iᵏ: the same formula at every size,
    zero for n ≤ 3 (no four distinct indices), v_0 v_1 v_2 v_3 at n = 4."""
    v = vector("v", n_)
    p = [None] + [sum(v[i] ** k for i in range(n_)) for k in range(1, 5)]
    e4 = (p[1] ** 4 - 6 * p[1] ** 2 * p[2] + 3 * p[2] ** 2 + 8 * p[1] * p[3] - 6 * p[4]) / 24
    return [Step("e₄(v) = 0 (Newton's identities)", "forged", e4, sp.Integer(0))]


def test_a_step_true_only_up_to_n_3_is_shown_as_fixed_sizes_only():
    """What holds today: the step is false (v_0 v_1 v_2 v_3 at n = 4) and `proofs show` does not claim it for
    every n and d (no index form: fixed sizes only); the index-count argument refutes it once written in index
    form ((Σ_i v_i)⁴ has four bound indices a term, so it is checked at n = 4)."""
    from attnreg.proofs import index_table as it
    from attnreg.proofs.index_count import by_count
    from attnreg.proofs.index_form import n as n_sym

    lem = forged("f_e4", _e4_steps)
    assert sp.expand(_e4_steps(4, 2)[0].lhs) == sp.Symbol("v_0", real=True) * sp.Symbol("v_1", real=True) * \
        sp.Symbol("v_2", real=True) * sp.Symbol("v_3", real=True)
    assert [r.status for r in it.rows(lem)] == ["fixed sizes"]
    v, ks = sp.IndexedBase("v"), sp.symbols("k1:5", integer=True)
    p = [None] + [sp.Sum(v[ks[j]] ** e, (ks[j], 0, n_sym - 1)) for j, e in enumerate(range(1, 5))]
    p1 = lambda: sp.Sum(v[ks[0]], (ks[0], 0, n_sym - 1))  # noqa: E731
    e4 = p1() ** 4 - 6 * p1() ** 2 * p[2] + 3 * p[2] ** 2 + 8 * p1() * p[3] - 6 * p[4]
    ok, why = by_count(e4, sp.Integer(0), ())
    assert not ok and "fails at n=4" in why


def test_a_step_true_only_up_to_n_3_is_not_proved():
    """The step has no index form, so it is decided at fixed sizes only (n = 3, where it holds), which proves nothing
    for n = 4: the checker refuses it because it is not among the hand-reviewed fixed-size steps (proofs/_fixed.py,
    keyed by lemma id, label and a digest of the step as built, so a lemma module cannot list itself)."""
    lem = forged("f_e4", _e4_steps)
    v = verify(lem, known=dict(LEMMAS), numeric=True)
    assert not v.ok and not v.symbolic_ok
    assert ("step 1 is checked at fixed sizes only, has no index form, and is not among the reviewed fixed-size "
            "steps") in "; ".join(v.failures)
    assert not any("at n=3" in f for f in v.failures)  # the identity itself holds at the checker's size
    # a lemma wearing a reviewed lemma's id gets no new fixed-size step, and a reviewed step rewritten (here its side
    # identity expanded: equal, but not the text reviewed) falls out of the list
    jac = LEMMAS["softmax_jacobian_half"]
    wearing = dataclasses.replace(jac, steps=lambda n_, d_: [*jac.steps(n_, d_), *_e4_steps(n_, d_)])
    assert f"step {len(jac.steps(3, 2)) + 1} is checked at fixed sizes only" in why(wearing)

    def rewritten(n_, d_):
        out = list(jac.steps(n_, d_))
        out[1] = dataclasses.replace(out[1], side=tuple(dataclasses.replace(c, rhs=sp.expand(c.rhs))
                                                        for c in out[1].side))
        return out
    assert "step 2 side 1 is checked at fixed sizes only" in why(dataclasses.replace(jac, steps=rewritten))


def test_a_step_wrong_only_at_the_second_build_is_refused():
    """The checker decides the steps at n = 3, d = 2 and builds them again at n = 3, d = 3 only to see that their
    symbols follow the size. A lemma whose step reads d — right at d = 2, a junk term (d − 2)·x_0 elsewhere — has
    symbols that follow the size and the same claims at every size; its steps at d = 3 are sampled by the checker's
    numeric layer (a random point, 60 digits) and the difference is reported."""
    def steps(n_, d_):
        x_ = vector("x", d_)
        return [Step("Σ_l x_l = Σ_l x_l", "forged", sum(x_), sum(x_) + (d_ - 2) * x_[0])]
    lem = forged("f_reads_d", steps)
    # the steps decided at n = 3, d = 2 hold: the one symbolic failure is that the step has no index form
    assert why(lem).startswith("for every n: step 1 is checked at fixed sizes only") and "n=3, d=2:" not in why(lem)
    assert "steps built at n=3, d=3 FAILED" in why(lem, numeric=True)


def test_a_step_built_only_from_n_4_is_refused():
    """The checker decides the steps built at n = 3, d = 2 and builds them once more at n = 4 and n = 5, d = 2 (not
    decided there): a list of another shape is refused. A variant reading n only from 6 on is not seen (a limit of
    the probes, written in proofs/_sizes.py: larger_differs); its steps at n = 3 are what the verdict rests on."""
    def steps(n_, d_, start=4):
        out = [Step("1 = 1", "x", sp.Integer(1), sp.Integer(1))]
        if n_ >= start:  # reads the size: the hard (here false) step exists only where the checker never decides
            out.append(Step("0 = 1", "forged", sp.Integer(0), sp.Integer(1)))
        return out
    assert "1 steps at n=3, d=2 but 2 at n=4, d=2, so the steps there were never verified: 0 = 1" in why(
        forged("f_from_4", steps))

    def changed(n_, d_):  # the same count, another claim at n = 4
        return [Step("1 = 1" if n_ < 4 else "0 = 1", "x", sp.Integer(1), sp.Integer(1))]
    assert "step 1 at n=4, d=2 is not step 1 at n=3, d=2: 0 = 1" in why(forged("f_changed_4", changed))

    def broken(n_, d_):  # cannot be built at n = 4
        if n_ >= 4:
            raise ValueError("no")
        return [Step("1 = 1", "x", sp.Integer(1), sp.Integer(1))]
    assert "cannot be built at n=4, d=2: ValueError: no" in why(forged("f_broken_4", broken))
    assert "1 steps at n=3, d=2 but 2 at n=5, d=2, so the steps there were never verified: 0 = 1" in why(
        forged("f_from_5", lambda n_, d_: steps(n_, d_, start=5)))  # was the limit of one probe at n = 4
    assert "n=4" not in why(forged("f_from_6", lambda n_, d_: steps(n_, d_, start=6)))  # the limit, stated


def test_a_lemma_wearing_an_id_with_index_forms_gets_no_proof_for_a_new_step(monkeypatch, capsys):
    """The index tables are keyed by (lemma id, label), and a key proves only the step its form is linked to.
    A lemma wearing row_shift's id (a replaced or new module whose docstring names it) with e₄(v) = 0 — true at
    n = 3, false at n = 4 — at the keyed label "step 1" was accepted by verify, numeric layers included, and by
    `attnreg proofs check` (exit 0, "proved"), the index-table row FAILED beside it. Now the step's digest is not
    the linked one (proofs/_linked.py), so it has no index form for the checker and is not reviewed."""
    base = LEMMAS["row_shift"]

    def steps(n_, d_):
        out = list(base.steps(n_, d_))
        out[0] = _e4_steps(n_, d_)[0]
        return out
    lem = dataclasses.replace(base, steps=steps)
    reason = "step 1 has an index form only for the step it was linked to (proofs/_linked.py), not this one"
    assert reason in why(lem)
    assert reason in rejected_by_cli(lem, monkeypatch, capsys, "--no-numeric")
    assert why(base) == ""  # the real lemma's steps are the linked ones

    # the size-free scalar entry is pinned the same way: a side identity at its key with a term in v0, v1, v2 —
    # zero at n = 3 (e₄ of three numbers), v0·v1·v2·v3 at n = 4, names outside the sized families — was accepted
    # and shown as "a scalar identity in one number t … the proof for every n and d"
    jac = LEMMAS["softmax_jacobian_half"]

    def junk(n_, d_):
        out = list(jac.steps(n_, d_))
        v = sp.symbols(f"v0:{n_}", real=True)
        p = [None] + [sum(x ** k for x in v) for k in range(1, 5)]
        e4 = (p[1] ** 4 - 6 * p[1] ** 2 * p[2] + 3 * p[2] ** 2 + 8 * p[1] * p[3] - 6 * p[4]) / 24
        out[2] = dataclasses.replace(out[2], side=(dataclasses.replace(out[2].side[0], lhs=out[2].side[0].lhs + e4),))
        return out
    wearing = dataclasses.replace(jac, steps=junk)
    assert "step 3 side 1 has an index form only for the step it was linked to" in why(wearing)
    from attnreg.proofs import index_table as it

    assert [r.status for r in it.rows(wearing) if r.label == "step 3 side 1"] == ["FAILED"]  # shown so too


# ---- an identity lemma states what its steps state -------------------------------------------------

def test_an_identity_lemmas_statement_is_tied_to_its_steps(monkeypatch, capsys):
    """Found in review of issue 13: a bound lemma's goal is composed from its chain, but an identity lemma (no goal)
    was proved when its steps were, and its claim was docstring text that nothing read. A lemma wearing row_shift's
    id (the module replaced) with only its first two steps — linked to their index forms, so proved for every n —
    and the claim "0 = 1 for every n" was proved by verify, numeric layers included. Now its claim must be the claims
    of the steps it shows, joined by "; " (proofs/_statement.py)."""
    rs = LEMMAS["row_shift"]
    first_two = lambda n_, d_: list(rs.steps(n_, d_))[:2]  # noqa: E731
    lem = Lemma(doc=rs.doc.replace(rs.claim, "0 = 1 for every n", 1), steps=first_two, requires=rs.requires,
                numeric=rs.numeric)
    assert lem.id == "row_shift" and lem.claim == "0 = 1 for every n"
    assert "an identity lemma must name in shows the steps its claim states; it names none" in why(lem, numeric=True)
    shown = dataclasses.replace(lem, shows=(1, 2))  # the real steps shown: the claim must be theirs
    assert ("its claim '0 = 1 for every n' is not the claims of the steps it shows: it must read "
            "'u(s + t1) = eᵗ u(s); α(s + t1) = eᵗ α(s)'") in why(shown, numeric=True)
    assert "is not the claims of the steps it shows" in rejected_by_cli(shown, monkeypatch, capsys, "--no-numeric")
    # the positive case: the same module with a truthful claim of its real steps is proved, every layer
    true = dataclasses.replace(shown, doc=rs.doc.replace(rs.claim, "u(s + t1) = eᵗ u(s); α(s + t1) = eᵗ α(s)", 1))
    assert why(true, numeric=True) == ""
    # and a claim that is a subset of the steps, but not the ones shown
    assert "is not the claims of the steps it shows" in why(dataclasses.replace(true, shows=(1,)))


def test_an_identity_lemmas_shows_and_premises_are_checked(monkeypatch, capsys):
    rs = LEMMAS["row_shift"]
    assert rs.shows == (3, 5, 7, 8) and rs.claim == "f(s + t1) = f(s); h(s + t1) = eᵗ h(s); (diag f − f fᵀ) 1 = 0; " \
        "K_N 1 = 0" and why(rs) == ""
    said = lambda claim, **kw: dataclasses.replace(rs, doc=rs.doc.replace(rs.claim, claim, 1), **kw)  # noqa: E731
    # the claim edited on the real lemma (K_N = 0 is false), and a claim of true steps that are not the shown ones
    edited = said(rs.claim.replace("K_N 1 = 0", "K_N = 0"))
    assert "its claim 'f(s + t1) = f(s); h(s + t1) = eᵗ h(s); (diag f − f fᵀ) 1 = 0; K_N = 0' is not the claims" \
        in why(edited)
    assert "is not the claims of the steps it shows" in rejected_by_cli(edited, monkeypatch, capsys, "--no-numeric")
    assert "is not the claims of the steps it shows" in why(said("u(s + t1) = eᵗ u(s); α(s + t1) = eᵗ α(s)"))
    # shows empty, past the end, zero, out of order; an empty identity lemma
    assert "it names none" in why(dataclasses.replace(rs, shows=()))
    assert "its shows names step 9, which does not exist (the lemma has 8 steps" in why(
        dataclasses.replace(rs, shows=(3, 5, 7, 9)))
    assert "its shows names step 0, which does not exist" in why(dataclasses.replace(rs, shows=(0, 3)))
    assert "its shows (5, 3, 7, 8) is not in strictly increasing order" in why(
        dataclasses.replace(rs, shows=(5, 3, 7, 8)))
    assert "it names none" in why(forged("f_empty", []))
    # shows pointing at an estimate (an identity lemma with one is refused for that too)
    from attnreg.proofs.softmax_jacobian_half import NJ

    est = [Step("1 = 1", "x", sp.Integer(1), sp.Integer(1)), by("triangle", NJ, "<=", NJ, "w")]
    at_est = Lemma(doc=DOC.format("f_shows_est", "1 = 1; NJ <= NJ"), steps=lambda n_, d_: est, shows=(1, 2))
    assert "its shows names step 2, which is an estimate, not an identity step" in why(at_est)
    # premises: a step the claim is conditional on (true here: stating it only weakens the claim)
    cond = "if u(s + t1) = eᵗ u(s): " + rs.claim
    assert why(said(cond, premises=(1,))) == ""
    assert "it must read 'if u(s + t1) = eᵗ u(s): f(s + t1) = f(s);" in why(said(rs.claim, premises=(1,)))
    assert "steps [3] are in both shows and premises" in why(said(cond, premises=(3,)))
    assert "its premises names step 9, which does not exist" in why(said(cond, premises=(9,)))
    # a bound lemma's statement is its goal
    au = LEMMAS["alpha_upper"]
    assert "a bound lemma states its goal; it must not set shows or premises" in why(dataclasses.replace(au,
                                                                                                          shows=(1,)))


def test_a_real_steps_claim_text_is_pinned():
    """The claim of an identity lemma is made of step claims, so a step's claim text must be the reviewed one: a real
    step (its expressions untouched) with another claim has another digest, so it has no index form for the checker
    (proofs/_linked.py) or is no longer a reviewed fixed-size step (proofs/_fixed.py)."""
    rs = LEMMAS["row_shift"]

    def steps(n_, d_):
        out = list(rs.steps(n_, d_))
        out[2] = dataclasses.replace(out[2], claim="f(s + t1) = 0")
        return out
    lem = dataclasses.replace(rs, steps=steps, doc=rs.doc.replace(rs.claim, rs.claim.replace("f(s + t1) = f(s)",
                                                                                             "f(s + t1) = 0"), 1))
    assert lem.claim.startswith("f(s + t1) = 0;")
    assert why(lem) == ("for every n: step 3 has an index form only for the step it was linked to (proofs/_linked.py), "
                        "not this one, so it is checked at fixed sizes only and is not among the reviewed fixed-size "
                        "steps (f(s + t1) = 0); statement: step 3's claim 'f(s + t1) = 0', with its expressions, is "
                        "not a step proved for every n and d (no linked index form, not reviewed: proofs/_linked.py, "
                        "proofs/_fixed.py), so it cannot be stated")  # the statement re-pins the text it reads
    kb = LEMMAS["kron_blocks"]  # step 1 is a reviewed fixed-size step

    def kron(n_, d_):
        out = list(kb.steps(n_, d_))
        out[0] = dataclasses.replace(out[0], claim="A_[j], rows j·n … j·n + n − 1 of A1 ⊗ A2, is A2 ⊗ A1[j,:]")
        return out
    lem = dataclasses.replace(kb, steps=kron, doc=kb.doc.replace("is A1[j,:] ⊗ A2;", "is A2 ⊗ A1[j,:];", 1))
    assert lem.claim.startswith("A_[j], rows j·n … j·n + n − 1 of A1 ⊗ A2, is A2 ⊗ A1[j,:];")
    assert "step 1 is checked at fixed sizes only, has no index form, and is not among the reviewed fixed-size " \
        "steps" in why(lem)
    assert "is not the claims of the steps it shows" not in why(lem)  # refused for the step, its head being its claim
    assert "statement: step 1's claim 'A_[j], rows j·n … j·n + n − 1 of A1 ⊗ A2, is A2 ⊗ A1[j,:]', with its " \
        "expressions, is not a step proved for every n and d" in why(lem)
