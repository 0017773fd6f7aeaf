r"""Symbols of the proofs: the parameters ``n, d, R``, symbolic matrices, and named quantities.

* ``n, d, R`` (positive) are the parameters every bound constant is written in (``Bound.constant()``);
  ``M`` (positive) is the radius of the logit box ``||s||_∞ ≤ M`` in the logit-space lemmas.
* :func:`matrix` and :func:`vector` build sympy matrices of real symbols at a concrete small size
  (``matrix("A", 3, 2)`` has entries ``A_00 … A_21``); identities are verified on them.
* :func:`quantity` makes a positive symbol that stands for a norm or a supremum in a bound chain
  (``quantity("‖u(x) − u(y)‖", r"\|u(x)-u(y)\|")``). The same text always gives the same symbol,
  so lemmas that cite each other speak of the same quantities. :data:`TEX` holds their LaTeX.
* :data:`NORMS` ties each hypothesis' left side (``norm(A)``, ``norm_inf(s)``, …) to the quantity symbols
  that may stand for it in an assumption step or in the goal of a lemma that discharges it (declared once,
  here); :func:`hypothesis` parses a hypothesis text. :data:`WRT_SYMBOL` and :func:`bound_lhs` are the
  goal a :class:`~._core.Bound` states: its left side is named after (quantity, form, kind, wrt, version),
  its right side is ``constant · WRT_SYMBOL[wrt]``.
"""
from __future__ import annotations

import re

import sympy as sp

n, d, R = sp.symbols("n d R", positive=True)
M = sp.Symbol("M", positive=True)

TEX: dict[sp.Symbol, str] = {}


def matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A ``rows × cols`` matrix of real symbols ``name_ij``."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def vector(name: str, size: int) -> sp.Matrix:
    """A column of real symbols ``name_i``."""
    return sp.Matrix(size, 1, lambda i, _: sp.Symbol(f"{name}_{i}", real=True))


def quantity(text: str, tex: str) -> sp.Symbol:
    """A non-negative quantity of a bound chain (a norm, a supremum), printed as ``text``."""
    q = sp.Symbol(text, positive=True)
    TEX[q] = tex
    return q


def tex_of(text: str) -> str:
    """The LaTeX of a quantity written in the Unicode of the proofs: ``‖A1 − A1′‖`` → ``\\|A_1-A_1'\\|``."""
    for a, b in (("‖", r"\|"), ("α", r"\alpha"), ("′", "'"), (" − ", "-"), ("₂", "_2"), (" ⊗ ", r"\otimes "),
                 ("A1", "A_1"), ("A2", "A_2"), ("max_j ", r"\max_j")):
        text = text.replace(a, b)
    return text


def named(text: str) -> sp.Symbol:
    """:func:`quantity` with the LaTeX of :func:`tex_of`."""
    return quantity(text, tex_of(text))


# Quantities shared by many lemmas (one symbol each, so citations line up): norms, and distances of pairs.
norm_A, norm_x, norm_b, N1, N2, KRON = (named(f"‖{t}‖") for t in ("A", "x", "b", "A1", "A2", "A1 ⊗ A2"))
dx, dA, ds, dA1, dA2 = (named(f"‖{p} − {p2}‖") for p, p2 in (("x", "y"), ("A", "A′"), ("s", "s′"), ("A1", "A1′"),
                                                             ("A2", "A2′")))
dX, dS, norm_X, norm_brows = named("‖X − Y‖_F"), named("‖S − S′‖_F"), named("‖X‖_F"), named("max_j ‖b_j‖")

norm_Ap = quantity("‖A′‖", r"\|A'\|")  # the second point of a Lipschitz pair in A satisfies norm(A) <= R too
sup_inf = quantity("sup_z ‖z‖_∞", r"\sup_z\|z\|_\infty")  # z on the segment [s, s′] of the convex box
logit_inf = quantity("‖Ax‖_∞", r"\|Ax\|_\infty")  # the vector logits s = Ax
logit_inf_rows = quantity("max_j ‖A_[j] x‖_∞", r"\max_j\|A_{[j]}x\|_\infty")  # the matrix logits, every row

# The quantity each norm hypothesis "norm(T) <= R" bounds (for instantiating a lemma at R := ||T||).
NORM_OF = {"A": norm_A, "x": norm_x, "b": norm_b, "X": norm_X, "kron(A1,A2)": KRON, "A1": N1, "A2": N2}

# The left side of a hypothesis "<norm> <= E" and the symbols that may stand for it (aliases): an assumption
# step bounds one of them, a lemma that discharges the hypothesis has one of them as its goal's left side.
NORMS: dict[str, tuple[sp.Symbol, ...]] = {
    **{f"norm({t})": (q,) for t, q in NORM_OF.items()},
    "norm(A)": (norm_A, norm_Ap),
    "norm(b)": (norm_b, norm_brows),  # matrix form: the hypothesis holds for every row b_j
    "norm_inf(s)": (sup_inf, logit_inf, logit_inf_rows),
}
PARAMS = {"n": n, "d": d, "R": R, "M": M}

_HYP = re.compile(r"(?P<norm>norm(?:_inf)?\((?:[^()]|\([^()]*\))*\)) (?P<rel><=|>=) (?P<bound>.+)")


def hypothesis(text: str):
    """``(norm, rel, bound)`` of a hypothesis ``"<norm> <= E"`` with ``<norm>`` in :data:`NORMS` and ``E``
    an expression in ``n, d, R, M``; ``None`` for any other text (``simplex(b)``, a parameter range)."""
    m = _HYP.fullmatch(text.strip())
    if not m or m["norm"] not in NORMS:
        return None
    try:
        bound = sp.parse_expr(m["bound"], local_dict=dict(PARAMS), global_dict={"Integer": sp.Integer,
                              "Rational": sp.Rational, "Float": sp.Float, "Symbol": sp.Symbol,
                              "sqrt": sp.sqrt, "exp": sp.exp})
    except (SyntaxError, TypeError, ValueError, sp.SympifyError):
        return None
    if not isinstance(bound, sp.Expr) or not bound.free_symbols <= set(PARAMS.values()):
        return None
    if str(bound) != m["bound"]:  # one spelling per bound: "Symbol('\\x52', positive=True)" is R to sympy, not
        return None              # to a reader or to a citation's test of which hypotheses mention R
    return m["norm"], m["rel"], bound


def hypothesis_failure(text: str) -> str:
    """Why ``text`` is not a hypothesis a lemma may assume ("" if it is): it must be ``"<norm> <= E"`` (or
    ``>=``) in :func:`hypothesis`'s canonical spelling (``E`` printed as sympy prints it), and an upper bound
    ``E`` must be positive for every positive ``n, d, R, M`` — a norm bounded by ``−R`` makes every conclusion
    vacuously true (found in review: ``‖Ax‖_∞ ≤ −R²`` if ``norm(A) <= -R`` was proved)."""
    parsed = hypothesis(text)
    if parsed is None:
        return f"its hypothesis {text!r} is not of the form '<norm> <= E' with E an expression in n, d, R, M " \
               "written as sympy prints it"
    if parsed[1] != "<=":
        return f"its hypothesis {text!r} bounds a norm from below: a lemma assumes upper bounds only (positive ones, " \
               "which the zero point satisfies together, so they are never contradictory)"
    if parsed[2].is_positive is not True:
        return f"its hypothesis {text!r} bounds a norm by {parsed[2]}, which is not shown positive: no point " \
               "may satisfy it, and a lemma on no points proves nothing"
    return ""


# The goal of a Bound: WRT_SYMBOL[wrt] on the right, bound_lhs(...) on the left.
WRT_SYMBOL = {"x": dx, "A": dA, "X": dX, "A1": dA1, "A2": dA2}
_PAIR = {"x": ("x", "y"), "A": ("A", "A′"), "X": ("X", "Y"), "A1": ("A1", "A1′"), "A2": ("A2", "A2′")}
_POINT = {"vector": "x", "matrix": "X"}


def bound_lhs(quantity: str, form: str, kind: str, wrt: str | None, version: str | None) -> sp.Symbol:
    """The one left-hand symbol of the goal that a Bound with these labels states, e.g.
    ``‖u(x) − u(y)‖`` (u, vector, lipschitz in x), ``|α(A) − α(A′)|``, ``‖∇L_N(X) − ∇L_N(Y)‖_F``,
    ``max_j α_j`` (matrix α, upper), ``α(x)`` (vector α, upper or lower), ``‖u(x)‖``."""
    name = {"u": "u", "alpha": "α", "f": "f", "c": "c", "h": "h"}.get(quantity)
    if quantity in ("loss", "grad"):
        name = ("∇L_" if quantity == "grad" else "L_") + {"normalized": "N", "rescaled": "R"}.get(version, "?")
    elif form == "matrix" and quantity != "alpha":
        name = name.upper()
    if kind != "lipschitz":
        if quantity == "alpha":
            text = f"α({_POINT[form]})" if form == "vector" else ("max_j α_j" if kind == "upper" else "min_j α_j")
        else:
            text = f"‖{name}({_POINT[form]})‖" + ("_F" if form == "matrix" else "")
        return sp.Symbol(text, positive=True)
    p, q = _PAIR[wrt]
    diff = f"{name}({p}) − {name}({q})"
    if quantity == "alpha":
        text = f"|{diff}|" if form == "vector" else f"‖{diff}‖₂"
    else:
        text = f"‖{diff}‖" + ("_F" if form == "matrix" else "")
    return sp.Symbol(text, positive=True)
