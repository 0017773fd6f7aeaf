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
and the lift of f. The gradient lifts (:func:`grad_lift`) put one step in front: ``∇L = Aᵀ p(Ax)`` (vector,
Lemma grad_<version>) or ``vec ∇L = (A1 ⊗ A2)ᵀ vec P`` (matrix, Lemma matrix_grad_<version>), so
``‖∇L − ∇L′‖ ≤ ‖A‖ ‖p − p′‖``; then the row gradient's logit-space lemma (normalized_grad_lipschitz_logits,
rescaled_grad_lipschitz_logits) and steps 2–3. The constant of each lift is the logit lemma's at ``M = R²``,
times what step 2 leaves
(``R``, or ``R²`` in A1 / A2); the checker composes the chain and proves it. :data:`LEMMAS` holds the lifts by
id, in the order of :data:`SHAPES`.
"""
from __future__ import annotations

import textwrap

import sympy as sp

from . import (alpha_lipschitz_logits, exp_lipschitz_box, h_lipschitz_logits, normalized_grad_lipschitz_logits,
               rescaled_grad_lipschitz_logits, softmax_lipschitz_logits)
from ._chains import DSA, DSX, logits_in_A, logits_in_A1, logits_in_A2, logits_in_X, logits_in_x
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._statement import stated
from ._forms import matrix_rows, p_normalized, p_rescaled, parts, stack
from ._ops import SYM, vec
from .symbols import (KRON, M, N1, N2, WRT_SYMBOL, R, bound_lhs, ds, dS, matrix, norm_A, norm_b, norm_brows,
                      named, norm_X, norm_x, quantity, vector)

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
_POINT = {"vector": "x", "matrix": "X"}


def _id(quantity: str, wrt: str, form: str) -> str:
    return ("matrix_" if form == "matrix" else "") + f"{quantity}_lipschitz_{wrt}"


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
             "through attnreg.reference.measure at 60 digits at random admissible points — norms drawn up to and "
             "at the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).")
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
    return stated(Lemma(doc=_doc(ident, quantity, wrt, form, dq, value, assume), steps=steps,
                        requires=requires, goal=Goal.of(bound, dq, WRT_SYMBOL[wrt]), bound=bound))


def quantity_of(text: str) -> sp.Symbol:
    """The quantity symbol named ``text`` (the Bound's left side), with its LaTeX."""
    return named(text)


_GRAD_LOGIT = {"normalized": normalized_grad_lipschitz_logits, "rescaled": rescaled_grad_lipschitz_logits}
_GRAD_DOC = {  # (claim, statement) of each gradient lift; the remarks are part of the statement
    ("normalized", "vector"): (
        "(normalized gradient is Lipschitz): Lip ≤ 3.25 R² for ||A|| ≤ R, ||b|| ≤ 1.",
        "For L_N(x) = ½ ||f(x) − b||² with ||A||₂ ≤ R and ||b||₂ ≤ 1, for all x, y ∈ R^d (no ball, no n, no exp): "
        "||∇L_N(x) − ∇L_N(y)||₂ ≤ (13/4) R² ||x − y||₂. (With the paper-style objective 2·L_N the constant "
        "doubles: loss_scale \"full\".)"),
    ("rescaled", "vector"): (
        "(rescaled gradient is Lipschitz on the ball): Lip ≤ (3n + 3√n + 2) e^{2R²} R².",
        "For L_R(x) = ½ ||u(x) − α(x) b||² with ||A||₂ ≤ R, ||b||₂ ≤ 1 and x, y in the ball ||·||₂ ≤ R: "
        "||∇L_R(x) − ∇L_R(y)||₂ ≤ (3n + 3√n + 2) e^{2R²} R² ||x − y||₂. The ball matters: L_R = α² L_N has no "
        "global Lipschitz gradient (Lemma rescaled_vs_normalized)."),
    ("normalized", "matrix"): (
        "(normalized matrix gradient is Lipschitz): Lip ≤ 3.25 R², not n times.",
        "For L_N(X) = ½ ||D(X)⁻¹ exp(A1 X A2ᵀ) − B||_F², if ||A1 ⊗ A2||₂ = ||A1|| ||A2|| ≤ R and every row of B "
        "has ||b_j||₂ ≤ 1, then for all X, Y (no ball, no n, no exp): ||∇L_N(X) − ∇L_N(Y)||_F ≤ (13/4) R² "
        "||X − Y||_F. The constant is the vector one, not n times it: vec ∇L_N = Aᵀ G(Ax) with G block-diagonal "
        "in the rows (one block g(s_j) per row), so Lip(G) = max_j Lip(g_j). Summing the per-row bounds would "
        "instead give 3.25 Σ_j ||A_[j]||² = 3.25 ||A1||_F² ||A2||² (up to rank(A1) times larger). With ||A1||, "
        "||A2|| ≤ R separately, ||A1 ⊗ A2|| ≤ R² (Lemma kron_norm) and the constant is 3.25 R⁴."),
    ("rescaled", "matrix"): (
        "(rescaled matrix gradient): Lip ≤ (3n + 3√n + 2) e^{2R²} R².",
        "For L_R(X) = ½ ||exp(A1 X A2ᵀ) − D(X) B||_F², if ||A1 ⊗ A2||₂ ≤ R, every row ||b_j||₂ ≤ 1, and "
        "||X||_F, ||Y||_F ≤ R: ||∇L_R(X) − ∇L_R(Y)||_F ≤ (3n + 3√n + 2) e^{2R²} R² ||X − Y||_F, the vector "
        "constant (rows are stacked, block-diagonal, not summed)."),
}


def grad_lift(version: str, form: str) -> Lemma:
    """Lemma ``[matrix_]grad_lipschitz_<version>``: the gradient Lipschitz in x (vector) or X (matrix)."""
    ident, wrt = ("matrix_" if form == "matrix" else "") + f"grad_lipschitz_{version}", _POINT[form]
    module, rescaled, k = _GRAD_LOGIT[version], version == "rescaled", version[0].upper()
    logit, dg = module.LEMMA, module.Q["DG"]
    dgrad = quantity_of(bound_lhs("grad", form, "lipschitz", wrt, version).name)
    value = logit.goal.rhs.subs({ds: 1, M: R ** 2, norm_b: 1}) * R ** 2
    assume = (("norm(A) <= R", *(("norm(x) <= R",) * rescaled)) if form == "vector" else
              ("norm(kron(A1,A2)) <= R", *(("norm(X) <= R",) * rescaled))) + ("norm(b) <= 1",)
    bound = Bound(quantity="grad", form=form, kind="lipschitz", wrt=wrt, value=value, version=version, assume=assume,
                  lemma=ident)
    box = {M: R ** 2} if rescaled else {}
    g = "G" if rescaled else "g"
    if form == "vector":
        dq = quantity(f"‖{g}(Ax) − {g}(Ay)‖", rf"\|{g}(Ax)-{g}(Ay)\|")
        why = "s = Ax, s′ = Ay in the box of radius R²" if rescaled else "s = Ax, s′ = Ay; no box needed"
        requires = (f"grad_{version}", logit.id, *(("logit_box",) * rescaled))
    else:
        dq = quantity("‖P_R(X) − P_R(Y)‖_F" if rescaled else "‖P(X) − P(Y)‖_F",
                      r"\|P_R(X)-P_R(Y)\|_F" if rescaled else r"\|P(X)-P(Y)\|_F")
        why = (f"row j of P is {g}(s_j) with target b_j" + (", s_j in the box of radius R²" if rescaled else "")
               + "; the constant increases with ‖b_j‖, so max_j ‖b_j‖ serves every row")
        requires = (f"matrix_grad_{version}", "kron_blocks", logit.id, *(("matrix_logit_box",) * rescaled),
                    "tensor_trick")

    def steps(n, d):
        if form == "vector":
            A, x, b = matrix("A", n, d), vector("x", d), vector("b", n)
            p = parts(SYM, A * x, b)
            res, row = (p.h, p_rescaled(SYM, p.u, p.h, b)) if rescaled else (p.c, p_normalized(SYM, p.f, p.c))
            side = Step(f"∇L_{k}(z) = Aᵀ {g}(Az) at z = x and at z = y", f"Lemma grad_{version}; the difference "
                        "follows", sp.Matrix([SYM.dot(res, res) / 2]).jacobian(x).T, A.T * row,
                        uses=(f"grad_{version}",))
            return [by("submultiplicative", dgrad, "<=", norm_A * dq, "‖Aᵀw‖ ≤ ‖Aᵀ‖ ‖w‖ = ‖A‖ ‖w‖", side=(side,),
                       uses=(f"grad_{version}",)),
                    cite(logit, {dg: dq, ds: DSX, **box}, why,
                         discharge={exp_lipschitz_box.BOX: "logit_box"} if rescaled else None),
                    *logits_in_x(n, d), given(norm_b, "<=", 1, "norm(b) <= 1"), given(norm_A, "<=", R, "norm(A) <= R")]
        A1, A2, P, Q = matrix("A1", n, d), matrix("A2", n, d), matrix("P", n, n), matrix("Q", n, n)
        side = Step("vec(A1ᵀ (P − P′) A2) = (A1 ⊗ A2)ᵀ vec(P − P′)", "Lemma kron_blocks (adjoint form), P, P′ free "
                    "symbols", vec(A1.T * (P - Q) * A2, SYM), SYM.kron(A1, A2).T * vec(P - Q, SYM),
                    uses=("kron_blocks",))
        return [by("submultiplicative", dgrad, "<=", KRON * dq, f"∇L_{k} = A1ᵀ P A2 (Lemma matrix_grad_{version}) and "
                   "‖Aᵀw‖ ≤ ‖A‖ ‖w‖", side=(side,), uses=(f"matrix_grad_{version}", "kron_blocks")),
                cite(logit, {dg: dq, ds: dS, **box, norm_b: norm_brows}, why, rule="stacked_rows",
                     discharge={exp_lipschitz_box.BOX: "matrix_logit_box"} if rescaled else None),
                given(norm_brows, "<=", 1, "norm(b) <= 1", "hypothesis norm(b) <= 1 for every row"),
                *logits_in_X(n, d), given(KRON, "<=", R, "norm(kron(A1,A2)) <= R")]

    claim, statement = _GRAD_DOC[version, form]
    check = ("The chain and its side identities by sympy at the checker's sizes; numeric: the Bound itself evaluated "
             "through attnreg.reference.measure at 60 digits at random admissible pairs "
             "(_sample.bound_ratio).")
    doc = f"Lemma {ident} {claim}\n\nStatement\n{_wrap(statement)}\n\nCheck\n{_wrap(check)}\n"
    return stated(Lemma(doc=doc, steps=steps, requires=requires, goal=Goal.of(bound, dgrad, WRT_SYMBOL[wrt]),
                        bound=bound))


def _build() -> dict[str, Lemma]:
    out: dict[str, Lemma] = {}
    for q, form, wrt in SHAPES:
        lem = lift(q, wrt, form, out)
        out[lem.id] = lem
    for version in ("normalized", "rescaled"):
        for form in ("vector", "matrix"):
            lem = grad_lift(version, form)
            out[lem.id] = lem
    return out


LEMMAS = _build()
