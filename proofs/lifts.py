r"""The lifts: a logit-space Lipschitz lemma carried to the inputs x, A (vector form) or X, A1, A2 (matrix form).

Every lift is the same chain, built here by one factory, :func:`lift`, the way SymPy builds a family of rules:

1. the quantity's logit-space lemma ``‖q(s) − q(s′)‖ ≤ C(M) ‖s − s′‖`` (u: exp_lipschitz_box, α:
   alpha_lipschitz_logits, f: softmax_lipschitz_logits, h: h_lipschitz_logits), on the box ``‖s‖_∞ ≤ M = R²``
   that the hypotheses give (Lemma logit_box, matrix_logit_box) where ``C`` depends on M; in matrix form row by
   row, one constant for every row (stacked_rows: the Frobenius norm of the stacked rows, max_j not Σ_j);
2. how far the logits move (:mod:`._chains`): ``‖A(x − y)‖ ≤ ‖A‖ ‖x − y‖``, ``‖(A − A′)x‖ ≤ ‖A − A′‖ ‖x‖``,
   ``‖S(X) − S(Y)‖_F ≤ ‖A1 ⊗ A2‖ ‖X − Y‖_F``, and in A1 / A2 through ``‖X A2ᵀ‖_F ≤ ‖X‖_F ‖A2‖₂``;
3. the hypotheses that bound what step 2 leaves (``‖A‖, ‖x‖, ‖A1 ⊗ A2‖, ‖A1‖, ‖A2‖, ‖X‖_F ≤ R``, ``‖b‖ ≤ 1``).

The residual c = f − b moves as f does (b is fixed): its lift is the identity ``c(p) − c(p′) = f(p) − f(p′)``
and the lift of f. The constant of each lift is the logit lemma's at ``M = R²``, times what step 2 leaves
(``R``, or ``R²`` in A1 / A2); the checker composes the chain and proves it. :data:`LEMMAS` holds the lifts by
id, in the order of :data:`SHAPES`.
"""
from __future__ import annotations

import textwrap

import sympy as sp

from . import alpha_lipschitz_logits, exp_lipschitz_box, h_lipschitz_logits, softmax_lipschitz_logits
from ._chains import DSA, DSX, logits_in_A, logits_in_A1, logits_in_A2, logits_in_X, logits_in_x
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._forms import matrix_rows, parts, stack
from ._ops import SYM
from .symbols import (KRON, M, N1, N2, WRT_SYMBOL, R, bound_lhs, ds, dS, matrix, norm_A, norm_b, norm_brows,
                      norm_X, norm_x, quantity, vector)

# The logit-space lemma of each quantity; the box hypothesis ‖s‖_∞ ≤ M is needed where its constant has M.
LOGIT = {"u": exp_lipschitz_box.LEMMA, "alpha": alpha_lipschitz_logits.LEMMA, "f": softmax_lipschitz_logits.LEMMA,
         "h": h_lipschitz_logits.LEMMA}
# (quantity, form, wrt) of every lift, dependencies first (c cites the lift of f).
SHAPES = (
    *((q, "vector", w) for q in ("u", "alpha", "f", "c", "h") for w in ("x", "A")),
    *((q, "matrix", "X") for q in ("f", "c", "u", "alpha", "h")),
    ("f", "matrix", "A1"), ("f", "matrix", "A2"), ("u", "matrix", "A1"),
)
# The hypothesis each norm symbol left by step 2 is bounded by, and the symbol for that norm.
_HYP = {"A": (norm_A, "norm(A) <= R"), "x": (norm_x, "norm(x) <= R"), "kron": (KRON, "norm(kron(A1,A2)) <= R"),
        "A1": (N1, "norm(A1) <= R"), "A2": (N2, "norm(A2) <= R"), "X": (norm_X, "norm(X) <= R")}
_NAME = {"u": "u", "alpha": "α", "f": "f", "c": "c", "h": "h"}
_DIST = {"x": "‖x − y‖₂", "A": "‖A − A′‖₂", "X": "‖X − Y‖_F", "A1": "‖A1 − A1′‖₂", "A2": "‖A2 − A2′‖₂"}
_FIXED = {"x": "A", "A": "x", "X": "A1, A2", "A1": "A2, X", "A2": "A1, X"}
_VERSION = {"c": "normalized", "h": "rescaled"}


def _id(quantity: str, wrt: str, form: str) -> str:
    return ("matrix_" if form == "matrix" else "") + f"{quantity}_lipschitz_{wrt}"


def _tex(text: str) -> str:
    for a, b in (("‖", r"\|"), ("α", r"\alpha"), ("′", "'"), (" − ", "-"), ("₂", "_2"), ("A1", "A_1"),
                 ("A2", "A_2")):
        text = text.replace(a, b)
    return text


def _pretty(e: sp.Expr) -> str:
    """A constant in the Unicode of the docstrings: ``R e^{R²}``, ``√n R e^{R²}``, ``R/2``."""
    text = sp.sstr(e)
    for a, b in (("exp(R**2)", "e^{R²}"), ("sqrt(n)", "√n"), ("R**2", "R²"), ("*", " ")):
        text = text.replace(a, b)
    return text


def _hypotheses(quantity: str, wrt: str, form: str) -> tuple[str, ...]:
    """The hypotheses of the lift, in the order its steps use them: the box first (where the logit constant
    needs it), then the norms step 2 leaves, then ‖b‖ ≤ 1 for h."""
    box = quantity in ("u", "alpha", "h")
    if form == "vector":
        keys = [k for k in ("A", "x") if box or k == {"x": "A", "A": "x"}[wrt]]
    else:
        keys = (["kron"] if box or wrt == "X" else []) + {"X": ["X"] * box, "A1": ["A2", "X"], "A2": ["A1", "X"]}[wrt]
    return tuple(_HYP[k][1] for k in keys) + (("norm(b) <= 1",) if quantity == "h" else ())


def _doc(ident: str, quantity: str, wrt: str, form: str, dq: sp.Symbol, value: sp.Expr, assume) -> str:
    name = _NAME[quantity] if form == "vector" else f"matrix {_NAME[quantity].upper().replace('Α', 'α')}"
    where = "x" if wrt == "x" else ("the data A" if wrt == "A" else wrt)
    claim = f"{dq.name} ≤ {_pretty(value)} {_DIST[wrt]}"
    remark = {"A": "The data norm is the spectral norm (a Frobenius-norm version follows, ‖·‖₂ ≤ ‖·‖_F).",
              "X": "Row j is computed from the logits s_j = (A1 X A2ᵀ)[j, :]ᵀ and the rows are stacked (the Frobenius "
                   "norm; matrix α is the n-vector of row sums): the constant is the per-row one, not n (or √n) "
                   "times it.",
              "A1": "The spectral norm of A1 − A1′; S = A1 X A2ᵀ, the rows of the quantity stacked.",
              "A2": "The spectral norm of A2 − A2′; S = A1 X A2ᵀ, the rows of the quantity stacked."}.get(wrt, "")
    extra = " (c = f − b, b fixed)" if quantity == "c" else ""
    check = ("The chain and its side identities by sympy at the checker's sizes; numeric: the Bound itself evaluated "
             "through attnreg.reference.forms at 60 digits at random admissible points — norms drawn up to and at the "
             "limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).")
    return (f"Lemma {ident} ({name} is Lipschitz in {where}): {claim}.\n\n"
            f"Statement\n    With {_FIXED[wrt]} fixed{extra}, for all {wrt}, {wrt}′ that both satisfy "
            f"{', '.join(assume) or 'no hypothesis'}:\n        {claim}.\n{_wrap(remark)}\n\nCheck\n{_wrap(check)}\n")


def _wrap(text: str) -> str:
    return textwrap.fill(text, 110, initial_indent="    ", subsequent_indent="    ")


def _moves(wrt: str):
    """Step 2 (how far the logits move) and the distance symbol the logit lemma's ‖s − s′‖ becomes."""
    chain = {"x": logits_in_x, "A": logits_in_A, "X": logits_in_X, "A1": logits_in_A1, "A2": logits_in_A2}[wrt]
    return chain, {"x": DSX, "A": DSA}.get(wrt, dS)


def _logit_steps(quantity, wrt, form, dq):
    """Steps 1–3 for u, α, f, h."""
    logit = LOGIT[quantity]
    box = M in logit.goal.rhs.free_symbols
    chain, dist = _moves(wrt)
    mapping = {logit.goal.lhs: dq, ds: dist, **({M: R ** 2} if box else {})}
    if form == "vector":
        first = cite(logit, mapping, "s = Ax and s′ = Ay" if wrt == "x" else "s = Ax and s′ = A′x",
                     discharge={exp_lipschitz_box.BOX: "logit_box"} if box else None)
        bs = [given(norm_b, "<=", 1, "norm(b) <= 1")] if quantity == "h" else []
        return lambda n, d: [first, *chain(n, d), *bs, given(*_norm(wrt, form))]
    if quantity == "h":
        mapping[norm_b] = norm_brows
    why = "per row" + (" s_j = A_[j] x, s′_j = A_[j] y" if wrt == "X" else ", in the box of radius R²" if box else "")
    why += "; one constant for all rows"
    first = cite(logit, mapping, why, rule="stacked_rows",
                 discharge={exp_lipschitz_box.BOX: "matrix_logit_box"} if box else None)
    bs = [given(norm_brows, "<=", 1, "norm(b) <= 1",
                "hypothesis norm(b) <= 1 for every row; the constant increases with ||b_j||")] * (quantity == "h")
    return lambda n, d: [first, *bs, *chain(n, d), *(given(*g) for g in _norms_left(wrt))]


def _norm(wrt, form):
    sym, text = _HYP["A" if wrt == "x" else "x"]
    return sym, "<=", R, text


def _norms_left(wrt):
    return [(_HYP[k][0], "<=", R, _HYP[k][1]) for k in {"X": ["kron"], "A1": ["X", "A2"], "A2": ["A1", "X"]}[wrt]]


def _residual_steps(wrt, form, dq, f_lift: Lemma):
    """c = f − b moves as f does: the identity ``c(p) − c(p′) = f(p) − f(p′)``, then the lift of f."""
    def steps(n, d):
        if form == "vector":
            A, B, x, y, b = matrix("A", n, d), matrix("Ap", n, d), vector("x", d), vector("y", d), vector("b", n)
            p, q = (parts(SYM, A * x, b), parts(SYM, A * y, b)) if wrt == "x" else (parts(SYM, A * x, b),
                                                                                    parts(SYM, B * x, b))
            a, a2 = ("x", "y") if wrt == "x" else ("A", "A′")
            side = Step(f"c({a}) − c({a2}) = f({a}) − f({a2})", "c = f − b", p.c - q.c, p.f - q.f)
            return [by("identity", dq, "=", f_lift.goal.lhs, "b does not move", side=(side,)), cite(f_lift, {})]
        A1, A2, B, X, Y = (matrix(m, r, c) for m, r, c in (("A1", n, d), ("A2", n, d), ("B", n, n), ("X", d, d),
                                                           ("Y", d, d)))
        P, Q = matrix_rows(SYM, A1, A2, X, B)[1], matrix_rows(SYM, A1, A2, Y, B)[1]
        side = Step("C(X) − C(Y) = F(X) − F(Y)", "C = F − B",
                    stack(SYM, [r.c for r in P]) - stack(SYM, [r.c for r in Q]),
                    stack(SYM, [r.f for r in P]) - stack(SYM, [r.f for r in Q]))
        return [by("identity", dq, "=", f_lift.goal.lhs, "B does not move", side=(side,)), cite(f_lift, {})]
    return steps


def lift(quantity: str, wrt: str, form: str, known: dict[str, Lemma] | None = None) -> Lemma:
    """The lemma ``<quantity>`` Lipschitz in ``wrt`` (``[matrix_]<quantity>_lipschitz_<wrt>``). ``known`` maps
    the ids already built (the lift of c cites the lift of f)."""
    ident, version = _id(quantity, wrt, form), _VERSION.get(quantity)
    text = bound_lhs(quantity, form, "lipschitz", wrt, version).name
    dq = quantity_of(text)
    assume = _hypotheses("f" if quantity == "c" else quantity, wrt, form)
    if quantity == "c":
        f_lift = (known or {}).get(_id("f", wrt, form)) or lift("f", wrt, form)
        steps, value, requires = _residual_steps(wrt, form, dq, f_lift), f_lift.bound.constant(), (f_lift.id,)
    else:
        logit = LOGIT[quantity]
        box = M in logit.goal.rhs.free_symbols
        scale = R ** 2 if wrt in ("A1", "A2") else R
        value = sp.factor(logit.goal.rhs.subs({ds: 1, M: R ** 2, norm_b: 1}) * scale)
        steps = _logit_steps(quantity, wrt, form, dq)
        requires = (logit.id, *(("tensor_trick",) if wrt == "X" else ()),
                    *(("logit_box" if form == "vector" else "matrix_logit_box",) if box else ()))
    bound = Bound(quantity=quantity, form=form, kind="lipschitz", wrt=wrt, value=value, version=version,
                  wrt_norm="spectral" if wrt in ("A1", "A2") else None, assume=assume, lemma=ident)
    return Lemma(doc=_doc(ident, quantity, wrt, form, dq, value, assume), steps=steps,
                 requires=requires, goal=Goal.of(bound, dq, WRT_SYMBOL[wrt]), bound=bound)


def quantity_of(text: str) -> sp.Symbol:
    """The quantity symbol named ``text`` (the Bound's left side), with its LaTeX."""
    return quantity(text, _tex(text))


def _build() -> dict[str, Lemma]:
    out: dict[str, Lemma] = {}
    for q, form, wrt in SHAPES:
        lem = lift(q, wrt, form, out)
        out[lem.id] = lem
    return out


LEMMAS = _build()
