"""A second review's forgeries (new lemma modules stating false things): each must be rejected by
``verify`` with a reason."""
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, Lemma, Step, verify
from attnreg.proofs._core import cite

DOC = "Lemma {} (forgery): a false statement.\n\nStatement\n    s\nDerivation\n    d\nCheck\n    c\n"


def forged(name, steps, goal=None, requires=(), assume=(), bound=None):
    return Lemma(doc=DOC.format(name), steps=steps, goal=goal, requires=requires, assume=assume, bound=bound)


def test_a_lemma_citing_itself_or_a_cycle_is_rejected_not_a_crash():
    au = LEMMAS["alpha_upper"]
    me = forged("f_self", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_self", "alpha_upper"),
                assume=au.assume)
    v = verify(me, known=dict(LEMMAS, f_self=me), numeric=False)
    assert not v.symbolic_ok and any("cycle" in f for f in v.failures)
    one = forged("f_c1", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_c2", "alpha_upper"), assume=au.assume)
    two = forged("f_c2", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_c1", "alpha_upper"), assume=au.assume)
    known = dict(LEMMAS, f_c1=one, f_c2=two)
    for lem in (one, two):
        v = verify(lem, known=known, numeric=False)
        assert not v.symbolic_ok and "f_c" in "; ".join(v.failures)
    assert any("cycle (f_c1 → f_c2 → f_c1)" in f or "cycle (f_c2 → f_c1 → f_c2)" in f
               for f in verify(two, known=known, numeric=False).failures + verify(one, known=known,
                                                                                   numeric=False).failures)
    assert verify(LEMMAS["alpha_upper"]).ok  # real requires are untouched


def test_square_nonnegative_is_checked_not_trusted():
    """α ≤ 80 "by square_nonnegative" passed every layer: the rule took any number, and the checker's sampling
    (n = 6, R ≤ 1.6, where α ≤ 6e^{2.56} < 78) cannot see that α grows with n."""
    from attnreg.proofs import Bound
    from attnreg.proofs._core import by
    from attnreg.proofs.softmax_jacobian_half import NJ, PEAK, ROWSUM
    from attnreg.proofs.symbols import bound_lhs

    au = LEMMAS["alpha_upper"]
    b = Bound(quantity="alpha", form="vector", kind="upper", value=sp.Integer(80), assume=au.assume, lemma="f_a80")
    lhs = bound_lhs("alpha", "vector", "upper", None, None)
    a80 = forged("f_a80", lambda n_, d_: [by("square_nonnegative", lhs, "<=", 80, "w")], Goal.of(b, lhs), bound=b)
    v = verify(a80, known=dict(LEMMAS, f_a80=a80))
    assert not v.ok and "no polynomial whose maximum is α(x)" in "; ".join(v.failures)
    # on its own quantity the rule needs c − 2t(1 − t) ≥ 0 for every t: ½ is, ⅓ is not
    third = forged("f_third", lambda n_, d_: [by("schur_test", NJ, "<=", ROWSUM, "J"),
                                              by("identity", ROWSUM, "=", PEAK, "w", side=LEMMAS[
                                                  "softmax_jacobian_half"].steps(n_, d_)[1].side),
                                              by("square_nonnegative", PEAK, "<=", sp.Rational(1, 3), "w")],
                   Goal(NJ, "<=", sp.Rational(1, 3)))
    assert "is not a non-negative multiple of a square" in "; ".join(verify(third, numeric=False).failures)
    assert verify(LEMMAS["softmax_jacobian_half"]).ok


def _alpha_lower_with(k, q=None):
    import attnreg.proofs.alpha_bounds as low
    from attnreg.proofs import Bound
    from attnreg.proofs._core import by
    from attnreg.proofs.symbols import R

    b = Bound(quantity="alpha", form="vector", kind="lower", value=k * sp.exp(-R ** 2),
              assume=LEMMAS["alpha_lower"].bound.assume, lemma="f_low")
    st = lambda n_, d_: [by("sum_of_terms", low.AL, ">=", k * (q or low.UMIN), "w"),  # noqa: E731
                         *LEMMAS["alpha_lower"].steps(n_, d_)[1:]]
    return forged("f_low", st, Goal.of(b, low.AL), requires=("logit_box",), bound=b)


def test_sum_of_terms_counts_the_terms_itself():
    """α ≥ d·e^{−R²} (false for d > n) "by sum_of_terms" with d terms passed every layer: the checker samples at
    n = 6 > d = 4, where it is true."""
    from attnreg.proofs.symbols import d, n, quantity

    lem = _alpha_lower_with(d)
    v = verify(lem, known=dict(LEMMAS, f_low=lem))
    assert not v.ok and "α(x) is a sum of n terms" in "; ".join(v.failures)
    assert "checker's sampling confirmed" in v.numeric  # only the rule check sees it
    other = _alpha_lower_with(n, quantity("max_i u_i(x)", ""))  # the max as a lower bound on every term
    assert "is a sum of n terms, each >= min_i u_i(x)" in "; ".join(verify(other, known=dict(LEMMAS, f_low=other),
                                                                          numeric=False).failures)
    assert all(verify(LEMMAS[k]).ok for k in ("alpha_upper", "alpha_lower", "matrix_alpha_upper",
                                              "matrix_alpha_lower", "rescaled_grad_lipschitz_logits"))


def test_a_root_factor_is_the_length_of_the_vector():
    """‖u‖ ≤ √d e^{R²} (false for n > d) "by norm_comparison" passed the steps; only a sampled ratio of 1.02
    at n = 6, d = 4 stood in its way."""
    import attnreg.proofs.u_upper as uu
    from attnreg.proofs import Bound
    from attnreg.proofs._core import by
    from attnreg.proofs.symbols import R, d, n

    for k in (sp.sqrt(d), sp.sqrt(n) * sp.sqrt(d)):
        b = Bound(quantity="u", form="vector", kind="upper", value=k * sp.exp(R ** 2),
                  assume=uu.BOUND.assume, lemma="f_u")
        st = lambda n_, d_: [by("norm_comparison", uu.U2, "<=", k * uu.UMAX, "w"),  # noqa: E731
                             *LEMMAS["u_upper"].steps(n_, d_)[1:]]
        lem = forged("f_u", st, Goal.of(b, uu.U2), requires=("logit_box",), bound=b)
        why = "; ".join(verify(lem, known=dict(LEMMAS, f_u=lem), numeric=False).failures)
        assert "sqrt(d), but ‖u(x)‖ is about a vector of length n" in why
    assert all(verify(LEMMAS[k]).ok for k in ("u_upper", "alpha_lipschitz_logits", "rescaled_grad_lipschitz_logits"))


def test_a_trusted_rule_only_at_its_reviewed_applications():
    """f is ½-Lipschitz in x (false for ‖A‖ > 1) passed every layer with ‖Ax − Ay‖ = ‖x − y‖ "by homogeneity"
    (or by spectral_norm, kron_spectrum, hadamard; ≤ by submultiplicative): shape-correct, the sampling at
    R ≤ 1.6 measured 0.28."""
    from attnreg.proofs import Bound
    from attnreg.proofs._chains import DSX
    from attnreg.proofs._core import Step, by
    from attnreg.proofs._reviewed import REVIEWED
    from attnreg.proofs.softmax_lipschitz_logits import DF, LEMMA as SOFT
    from attnreg.proofs.symbols import ds, dx, matrix, vector

    fx = LEMMAS["f_lipschitz_x"]
    b = Bound(quantity="f", form="vector", kind="lipschitz", wrt="x", value=sp.Rational(1, 2), assume=fx.bound.assume,
              lemma="f_half")
    for rule, rel in (("homogeneity", "="), ("spectral_norm", "="), ("hadamard", "="), ("submultiplicative", "<=")):
        def steps(n_, d_, rule=rule, rel=rel):
            A, x, y = matrix("A", n_, d_), vector("x", d_), vector("y", d_)
            return [cite(SOFT, {DF: fx.goal.lhs, ds: DSX}),
                    by(rule, DSX, rel, dx, "w", side=(Step("Ax − Ay = A(x − y)", "lin", A * x - A * y, A * (x - y)),))]
        lem = forged("f_half", steps, Goal.of(b, fx.goal.lhs, dx), requires=("softmax_lipschitz_logits",), bound=b)
        v = verify(lem, known=dict(LEMMAS, f_half=lem))
        assert not v.ok and "is not one of the reviewed applications" in "; ".join(v.failures), rule
    assert "checker's sampling confirmed" in v.numeric  # the sampling alone does not see it
    assert ("submultiplicative", "‖Ax − Ay‖", "<=", "‖A‖*‖x − y‖") in REVIEWED and verify(LEMMAS["f_lipschitz_x"]).ok


def test_steps_that_ignore_the_checkers_size_are_rejected():
    """J² = tr(J)·J (true at n = 2, false for n ≥ 3) built at n = 2 whatever size the checker asks for: the
    sizes are the checker's only if the lemma uses them. The steps and the checker's own sampling of them pass;
    the second build at n = 3, d = 3 shows that the symbols do not follow n."""
    from attnreg.proofs._forms import jac, parts
    from attnreg.proofs._ops import SYM
    from attnreg.proofs.symbols import vector

    def square(n_, d_):
        J = jac(SYM, parts(SYM, vector("s", 2)).f)
        return [Step("J² = tr(J) J", "forged", J * J, J.trace() * J)]

    lem = forged("f_square_2", square)
    v = verify(lem, known=dict(LEMMAS, f_square_2=lem))
    assert not v.ok and "size ignored: step 1 (J² = tr(J) J): its symbols s do not follow n, d" in "; ".join(
        v.failures)
    # variants: built at n − 1 (the same at n = 3), and one family right but another fixed
    def shifted(n_, d_):
        J = jac(SYM, parts(SYM, vector("s", n_ - 1)).f)
        return [Step("J² = tr(J) J", "forged", J * J, J.trace() * J)]
    assert "its symbols s do not follow n, d" in "; ".join(verify(forged("f_sq_n1", shifted), known=dict(
        LEMMAS, f_sq_n1=forged("f_sq_n1", shifted)), numeric=False).failures)
    def mixed(n_, d_):
        J, x = jac(SYM, parts(SYM, vector("s", 2)).f), vector("x", n_)
        return [Step("J² x = tr(J) J x", "forged", J * J * x[:2, :], J.trace() * J * x[:2, :])]
    assert "its symbols s, x do not follow n, d" in "; ".join(verify(forged("f_sq_mix", mixed), known=dict(
        LEMMAS, f_sq_mix=forged("f_sq_mix", mixed)), numeric=False).failures)
    # the real lemmas build at the size they are given
    from attnreg.proofs._sizes import size_ignored

    assert all(not size_ignored(LEMMAS[k]) for k in ("softmax_jacobian_half", "xzw_invariance", "tensor_trick"))


def test_a_hypothesis_the_sampler_cannot_draw_fails_with_a_reason():
    from attnreg.proofs import Bound

    au = LEMMAS["alpha_upper"]
    b = Bound(quantity="alpha", form="vector", kind="upper", value=au.bound.value,
              assume=(*au.bound.assume, "R <= 1"), lemma="f_extra")
    lem = forged("f_extra", au.steps, Goal.of(b, au.goal.lhs), requires=au.requires, bound=b)
    v = verify(lem, known=dict(LEMMAS, f_extra=lem))  # was a ValueError out of verify
    assert not v.ok and "cannot sample the hypothesis 'R <= 1'" in "; ".join(v.failures)
