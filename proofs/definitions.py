r"""What the quantity symbols of the bound chains mean: the checker's own definitions, not the lemmas'.

A bound chain speaks of quantity symbols such as ``‖c(x) − c(y)‖``. The rules that turn one quantity into
another by an exact identity ("identity") or by what a vector is ("probability") are only sound if the
two quantities are what their names say. This module gives each such symbol a definition the checker
builds itself, at the size ``(n, d)`` it chooses (see :func:`._checker.checker_sizes`):

* :data:`DEFS` maps a symbol's name to ``(norm, build)``: ``build(n, d, form)`` returns the sympy column
  whose ``norm`` is the quantity (``"2"``: the Euclidean norm of the column, which for a matrix is the
  Frobenius norm of its row-major vec; ``"max"``: the largest entry of a column of non-negative entries).
  ``form`` is the lemma's form: in a matrix-form lemma ``x`` means ``vec(X)`` and ``A`` means ``A1 ⊗ A2``
  (Lemma tensor_trick).
* :data:`PROBABILITY` are the symbols that are the Euclidean norm of a probability vector (a softmax
  ``f = u / Σu`` with ``u = exp(s)`` at some point); rule "probability" applies only to them, and only
  as ``‖p‖ ≤ 1``.

Rule "identity" ``q = q′`` is accepted only when both are defined here with the same norm and the checker
itself shows ``build(q) = build(q′)`` exactly (the lemma's own side identities are checked as well, but they
no longer decide whether the step is about these quantities). A symbol missing here cannot be the subject of
an identity step: the checker says so rather than trusting the name.
"""
from __future__ import annotations

import sympy as sp

from ._forms import jac, matrix_rows, parts, stack
from ._ops import SYM, vec
from .symbols import matrix, vector


def _vector_logits(n, d, form, second="y"):
    """``(A, x, y)``: the data and the two points; in matrix form ``A = A1 ⊗ A2``, ``x = vec(X)``."""
    if form == "matrix":
        A1, A2 = matrix("A1", n, d), matrix("A2", n, d)
        return SYM.kron(A1, A2), vec(matrix("X", d, d), SYM), vec(matrix("Y", d, d), SYM)
    return matrix("A", n, d), vector("x", d), vector(second, d)


def _c_minus(n, d, form, which):
    A, x, y = _vector_logits(n, d, form)
    b = vector("b", n)
    p, q = parts(SYM, A * x, b), parts(SYM, A * y, b)
    return getattr(p, which) - getattr(q, which)


def _c_minus_A(n, d, form, which):
    A, Ap, x, b = matrix("A", n, d), matrix("Ap", n, d), vector("x", d), vector("b", n)
    p, q = parts(SYM, A * x, b), parts(SYM, Ap * x, b)
    return getattr(p, which) - getattr(q, which)


def _matrix_minus(n, d, form, which):
    A1, A2, B, X, Y = (matrix(m, r, c) for m, r, c in (("A1", n, d), ("A2", n, d), ("B", n, n), ("X", d, d),
                                                       ("Y", d, d)))
    P, Q = matrix_rows(SYM, A1, A2, X, B)[1], matrix_rows(SYM, A1, A2, Y, B)[1]
    return vec(stack(SYM, [getattr(r, which) for r in P]) - stack(SYM, [getattr(r, which) for r in Q]), SYM)


def _logit_diff(n, d, form):
    A1, A2, X, Y = matrix("A1", n, d), matrix("A2", n, d), matrix("X", d, d), matrix("Y", d, d)
    return vec(A1 * X * A2.T - A1 * Y * A2.T, SYM)


def _kron_diff(n, d, form):
    A, x, y = _vector_logits(n, d, "matrix")
    return A * (x - y)


def _softmax_positive(n):
    u = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"u_{i}", positive=True))
    return u / sum(u)  # every probability vector with positive entries


def _row_abs_sums(n, d, form):
    J = jac(SYM, _softmax_positive(n))
    return sp.Matrix([sum(sp.Abs(sp.factor(J[i, j])) for j in range(n)) for i in range(n)])


def _peaks(n, d, form):
    f = _softmax_positive(n)
    return sp.Matrix([2 * f[i] * (1 - f[i]) for i in range(n)])


def _x(n, d, form):
    return vec(matrix("X", d, d), SYM) if form == "matrix" else vector("x", d)


DEFS: dict[str, tuple[str, object]] = {
    "‖c(x) − c(y)‖": ("2", lambda n, d, form: _c_minus(n, d, form, "c")),
    "‖f(x) − f(y)‖": ("2", lambda n, d, form: _c_minus(n, d, form, "f")),
    "‖c(A) − c(A′)‖": ("2", lambda n, d, form: _c_minus_A(n, d, form, "c")),
    "‖f(A) − f(A′)‖": ("2", lambda n, d, form: _c_minus_A(n, d, form, "f")),
    "‖C(X) − C(Y)‖_F": ("2", lambda n, d, form: _matrix_minus(n, d, form, "c")),
    "‖F(X) − F(Y)‖_F": ("2", lambda n, d, form: _matrix_minus(n, d, form, "f")),
    "‖S − S′‖_F": ("2", _logit_diff),
    "‖A(x − y)‖": ("2", _kron_diff),
    "‖x‖": ("2", _x),
    "‖X‖_F": ("2", lambda n, d, form: vec(matrix("X", d, d), SYM)),
    "max_i Σ_j |J_ij|": ("max", _row_abs_sums),
    "max_i 2 f_i (1 − f_i)": ("max", _peaks),
}

PROBABILITY = frozenset({"sup ‖f‖", "‖f(Ax)‖"})  # ‖f(z)‖ for z on a segment, ‖f(Ax)‖: softmax vectors


def definition(symbol, n: int, d: int, form: str):
    """``(norm, column)`` of a quantity symbol at size ``(n, d)``, or ``None`` if the checker has none."""
    entry = DEFS.get(getattr(symbol, "name", None))
    if entry is None:
        return None
    norm, build = entry
    return norm, sp.Matrix(build(n, d, form))


# What a logit-space quantity may be instantiated as in a citation, and at which pair of points: the pair
# (x, y), (A, A′) or a moved logit matrix (S, S′), with s = Ax, s′ = Ay (resp. A′x; rows of S for the matrix
# form, stacked by rule stacked_rows). One citation instantiates every symbol at the same pair, so a bound
# on ‖f(x) − f(y)‖ can only be in ‖Ax − Ay‖. A bound valid for every probability vector f holds for the
# supremum over the segment (sup); a hypothesis on ‖b‖ for each row b_j holds for max_j ‖b_j‖ (rows).
INSTANCES: dict[str, dict[str, str]] = {
    "‖s − s′‖": {"‖Ax − Ay‖": "x", "‖Ax − A′x‖": "A", "‖S − S′‖_F": "S"},
    "‖f(s) − f(s′)‖": {"‖f(x) − f(y)‖": "x", "‖f(A) − f(A′)‖": "A", "‖F(X) − F(Y)‖_F": "S",
                       "‖F(A1) − F(A1′)‖_F": "S", "‖F(A2) − F(A2′)‖_F": "S"},
    "‖exp(s) − exp(s′)‖": {"‖u(x) − u(y)‖": "x", "‖u(A) − u(A′)‖": "A", "‖U(X) − U(Y)‖_F": "S",
                           "‖U(A1) − U(A1′)‖_F": "S"},
    "|α(s) − α(s′)|": {"|α(x) − α(y)|": "x", "|α(A) − α(A′)|": "A", "‖α(X) − α(Y)‖₂": "S"},
    "‖h(s) − h(s′)‖": {"‖h(x) − h(y)‖": "x", "‖h(A) − h(A′)‖": "A", "‖H(X) − H(Y)‖_F": "S"},
    "‖g(s) − g(s′)‖": {"‖g(Ax) − g(Ay)‖": "x", "‖g(Ax) − g(A′x)‖": "A", "‖P(X) − P(Y)‖_F": "S"},
    "‖G(s) − G(s′)‖": {"‖G(Ax) − G(Ay)‖": "x", "‖P_R(X) − P_R(Y)‖_F": "S"},
    "‖diag(f) − f fᵀ‖": {"sup_z ‖J(z)‖": "sup"},
    "‖b‖": {"max_j ‖b_j‖": "rows"},
}


def instance_violation(mapping: dict) -> str:
    """Why a citation's renaming of quantity symbols is not an instance of what they mean ("" if it is)."""
    pairs = {}
    for a, b in mapping.items():
        name, local = getattr(a, "name", str(a)), getattr(b, "name", str(b))
        if name == local:
            continue
        allowed = INSTANCES.get(name)
        if allowed is None:
            return f"it renames {name} to {local}; {name} is only ever itself"
        if local not in allowed:
            return f"{local} is not an instance of {name} (allowed: {', '.join(sorted(allowed))})"
        if allowed[local] in ("x", "A", "S"):
            pairs[name] = allowed[local]
    if len(set(pairs.values())) > 1:
        return "it instantiates the symbols at different pairs of points: " + \
               ", ".join(f"{k} at the {v} pair" for k, v in pairs.items())
    return ""
