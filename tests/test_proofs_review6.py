"""Sixth review of the proof checker (attacking review 5's fixes): each forgery below was proved by ``verify``
(the first also by ``attnreg proofs check``, as a bound in the claims vocabulary). Each is now refused with a
reason: a lemma's expressions are built from exact numbers, plain ``Symbol``s of the checker's two kinds and
sympy's own functions (proofs/symbols.py ``expression_failure``), and it assumes positive upper bounds only."""
import dataclasses

import pytest
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs import logit_box as lb
from attnreg.proofs import u_upper as uu
from attnreg.proofs._statement import stated
from attnreg.proofs.symbols import R, hypothesis_failure, n

from _forged import Rf

pytestmark = pytest.mark.xdist_group("lemmas")


def failures(lemma):
    v = verify(lemma, known=dict(LEMMAS, **{lemma.id: lemma}))
    assert not v.ok
    return " | ".join(v.failures)


class RLook(sp.Dummy):
    """A Dummy printed as its name."""

    def _sympystr(self, printer):
        return self.name


@pytest.mark.parametrize("F", [implemented_function(sp.Function("F", positive=True, integer=True), lambda t: t), Rf],
                         ids=["implemented_function", "Function subclass"])
def test_a_function_sympy_does_not_know_is_refused_in_a_bound(F):
    """Was proved, and listed by ``attnreg proofs check`` among "57 of 57": ‖u(x)‖ ≤ √n (R/10 + 9/10) e^{R²} if
    ‖A‖, ‖x‖ ≤ R, false at n = 6, R = 0.1 (A = R e₁e₁ᵀ, x = R e₁: 2.4536 > 2.2514); compose used F(R) ≥ 1, the
    sampling (R in [0.4, 1.6]) evaluated F(R) as R."""
    value = sp.sqrt(n) * sp.exp(R ** 2) * (1 + (F(R) - 1) / 10)
    lem = stated(dataclasses.replace(LEMMAS["u_upper"], bound=dataclasses.replace(uu.BOUND, value=value),
                                     goal=Goal(uu.U2, "<=", value)))
    assert "which is not in the checker's vocabulary" in failures(lem)


@pytest.mark.parametrize("twin", [sp.Dummy("R", zero=True), sp.Dummy("R", positive=True, integer=True),
                                  RLook("R", zero=True), sp.Dummy("R", positive=True),
                                  sp.Wild("R"), sp.Float(0.5, 1)])
def test_an_atom_that_is_not_a_plain_symbol_or_exact_number_is_refused(twin):
    """Was proved: ‖Ax‖_∞ ≤ R² − R·R/4 with the second R a Dummy made zero (¾R², false for every R > 0), and
    with it made an integer; review 5's check skipped Dummy symbols."""
    lem = stated(dataclasses.replace(LEMMAS["logit_box"], goal=Goal(lb.INF, "<=", R ** 2 - R * twin / 4)))
    assert "which is not in the checker's vocabulary" in failures(lem)


@pytest.mark.parametrize("extra", ["norm(A) >= 2*R", "norm_inf(s) >= 2*R**2", "norm(x) >= R**2 + R", "norm(A) >= 0"])
def test_a_lower_bound_hypothesis_is_refused(extra):
    """Was proved (vacuous): ‖Ax‖_∞ ≤ R² if ‖A‖ ≤ R, ‖x‖ ≤ R and ‖A‖ ≥ 2R. A lemma now assumes positive upper
    bounds only, which the zero point satisfies together."""
    LB = LEMMAS["logit_box"]
    lem = stated(dataclasses.replace(LB, assume=(*LB.assume, extra)))
    assert f"its hypothesis {extra!r} bounds a norm from below" in failures(lem)
    assert hypothesis_failure(extra)


def test_a_rounded_float_in_a_square_step_is_refused():
    """Float(0.49, 1) (0.488…, printed 0.5) passed every symbolic layer of softmax_jacobian_half in place of ½ (the
    polynomial over the reals rounded it to the printed digit); only the sampling caught it."""
    sj = LEMMAS["softmax_jacobian_half"]
    c = sp.Float(0.49, 1)

    def steps(n_, d_):
        s = list(sj.steps(n_, d_))
        s[2] = dataclasses.replace(s[2], rhs=c)
        return s

    lem = stated(dataclasses.replace(sj, steps=steps, goal=Goal(sj.goal.lhs, "<=", c)))
    assert "which is not in the checker's vocabulary" in failures(lem)
