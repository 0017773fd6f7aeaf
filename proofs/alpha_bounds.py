r"""The bounds on α, the sum of the exponentials: ``n e^{−R²} ≤ α ≤ n e^{R²}``, vector and matrix form (every row).

One chain for the four lemmas (alpha_upper, alpha_lower, matrix_alpha_upper, matrix_alpha_lower), built by
:func:`alpha_bound`: α (or α_j) is a sum of n exponentials (sum_of_terms: n times the largest, or smallest,
term); each exponent lies in ``[−‖s‖_∞, ‖s‖_∞]`` (exp_monotone); and ``‖s‖_∞ ≤ R²`` (Lemma logit_box, or
matrix_logit_box for every row). :data:`LEMMAS` holds them by id.
"""
from __future__ import annotations

import textwrap

import sympy as sp

from . import logit_box, matrix_logit_box
from ._core import Bound, Goal, Lemma, by, cite
from ._statement import stated
from .symbols import R, bound_lhs, n, quantity

_EXTREME = {"upper": "max", "lower": "min"}
_NOTE = {("vector", "upper"): "(Note the factor n: a bound α ≤ e^{R²} without it is false for n ≥ 2.)",
         ("vector", "lower"): "(A bound e^{−R²} without the n is valid but loose by n.)"}


def _wrap(text: str) -> str:
    return textwrap.fill(text, 110, initial_indent="    ", subsequent_indent="    ")


def alpha_bound(kind: str, form: str) -> Lemma:
    """Lemma ``[matrix_]alpha_<kind>``: ``α ≤ n e^{R²}`` (upper) or ``α ≥ n e^{−R²}`` (lower)."""
    ident = ("matrix_" if form == "matrix" else "") + f"alpha_{kind}"
    sign, rel, ext = (1, "<=", "≤") if kind == "upper" else (-1, ">=", "≥")
    al = bound_lhs("alpha", form, kind, None, None)
    if form == "vector":
        box, inf, assume = logit_box.LEMMA, logit_box.INF, ("norm(A) <= R", "norm(x) <= R")
        term = quantity(f"{_EXTREME[kind]}_i u_i(x)", rf"\{_EXTREME[kind]}_i u_i(x)")
        whys = ("α = Σ_i u_i", f"(Ax)_i {ext} {'−' * (sign < 0)}‖Ax‖_∞")
        head = f"α(x) {ext} n e^{{{'−' * (sign < 0)}R²}} when ||A|| ≤ R and ||x|| ≤ R"
        statement = (f"If ||A||₂ ≤ R and ||x||₂ ≤ R then α(x) = ⟨exp(Ax), 1ₙ⟩ {ext} n e^{{{'−' * (sign < 0)}R²}}. "
                     + _NOTE[form, kind])
    else:
        box, inf, assume = matrix_logit_box.LEMMA, matrix_logit_box.INFJ, ("norm(kron(A1,A2)) <= R", "norm(X) <= R")
        term = quantity(f"{_EXTREME[kind]}_jm u_jm", rf"\{_EXTREME[kind]}_{{jm}}u_{{jm}}")
        whys = ("α_j = Σ_m u_jm, n terms", f"s_jm {ext} {'−' * (sign < 0)}‖s_j‖_∞")
        head = f"α_j(X) {ext} n e^{{{'−' * (sign < 0)}R²}} for every row j"
        statement = (f"The row sums α_j = Σ_m exp((A1 X A2ᵀ)_jm) of the matrix problem satisfy α_j {ext} "
                     f"n e^{{{'−' * (sign < 0)}R²}} for every j, if ||A1 ⊗ A2||₂ ≤ R and ||X||_F ≤ R. Each row has its "
                     "own α_j; D(X) = diag(α_1, …, α_n).")
    quantity(al.name, al.name.replace("α", r"\alpha").replace("max_j ", r"\max_j").replace("min_j ", r"\min_j"))
    bound = Bound(quantity="alpha", form=form, kind=kind, value=n * sp.exp(sign * R ** 2), assume=assume,
                  lemma=ident)

    def steps(n_, d):
        return [by("sum_of_terms", al, rel, n * term, whys[0]),
                by("exp_monotone", term, rel, sp.exp(sign * inf), whys[1]),
                cite(box, {})]

    title = f"{kind} bound on " + ("α" if form == "vector" else "every α_j")
    check = ("The chain by sympy at the checker's sizes; numeric: the Bound itself evaluated through "
             "attnreg.reference.measure at 60 digits at random admissible points — norms drawn up to and at the limits "
             "— reporting the largest ratio measured / stated (_sample.bound_ratio).")
    doc = f"Lemma {ident} ({title}): {head}.\n\nStatement\n{_wrap(statement)}\n\nCheck\n{_wrap(check)}\n"
    return stated(Lemma(doc=doc, steps=steps, requires=(box.id,), goal=Goal.of(bound, al), bound=bound))


LEMMAS: dict[str, Lemma] = {lem.id: lem for lem in (alpha_bound(k, f) for f in ("vector", "matrix")
                                                      for k in ("upper", "lower"))}
# The symbols of the vector lower bound's chain, for tests that forge variants of it.
AL, UMIN = LEMMAS["alpha_lower"].goal.lhs, LEMMAS["alpha_lower"].steps(3, 2)[0].rhs / n
