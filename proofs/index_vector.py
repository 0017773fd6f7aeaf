r"""The identity steps of the vector-form lemmas in index notation, for symbolic n and d.

:data:`STEPS` maps ``(lemma id, label)`` — the label is ``"step k"`` or ``"step k side j"``, the k-th step of
``steps(n, d)`` counted from 1 — to a builder returning ``(lhs, rhs, free)``: both sides of the step written
as sympy ``Sum``/``Indexed`` expressions with symbolic bounds, and ``free``, the entry indices of the step's
matrices with their ranges (``(r, "n"), (m, "d")`` for an n × d matrix; ``()`` for a scalar). Each side is a
literal transcription of the lemma's matrix expression (``diag(u) A → Σ_j δ_rj u_j A_jm``, a Jacobian → the
``sympy.diff`` of the entry, a direction ``d/dt q(A + tV)|₀`` → ``∂_t`` of the entry at ``A + tV``).

The quantities are built from their definitions, never named: ``u_i = exp(s_i)`` with the logit
``s_i = Σ_l A_il x_l`` (or an entry of a logit vector ``s``), ``α = Σ_k u_k``, ``f_i = u_i / α``,
``c_i = f_i − b_i``, ``h_i = u_i − α b_i``, ``J_ij = δ_ij f_i − f_i f_j``. :mod:`.index_table` proves each
entry with :func:`.index_form.normal_form` and checks that it is the lemma's own step at the checker's size.
"""
from __future__ import annotations

import itertools

import sympy as sp

from .index_form import A, b, d, m, n, r, x

_count = itertools.count()
V, S, S2, y, Ap, v = (sp.IndexedBase(k) for k in ("V", "s", "r", "y", "Ap", "v"))
g, gp = sp.IndexedBase("g"), sp.IndexedBase("k")
t = sp.Symbol("t", real=True)
p = sp.Symbol("p", integer=True)  # a second free index
delta = sp.KroneckerDelta
RANGE = {"n": n, "d": d}


def fresh():
    return sp.Symbol(f"q{next(_count)}", integer=True)


def total(fn, size="n"):
    """``Σ_k fn(k)`` over ``k = 0 … size − 1`` with a fresh bound index."""
    k = fresh()
    return sp.Sum(fn(k), (k, 0, RANGE[size] - 1))


class Soft:
    """The softmax blocks of one logit vector, from their definitions."""

    def __init__(self, logit, target=b):
        self.logit, self.b = logit, target

    def u(self, i):
        return sp.exp(self.logit(i))

    def alpha(self):
        return total(self.u)

    def f(self, i):
        return self.u(i) / self.alpha()

    def c(self, i):
        return self.f(i) - self.b[i]

    def h(self, i):
        return self.u(i) - self.alpha() * self.b[i]

    def J(self, i, j):
        return delta(i, j) * self.f(i) - self.f(i) * self.f(j)


def linear(P, z):
    return lambda i: total(lambda q: P[i, q] * z[q], "d")


X = Soft(linear(A, x))  # s = Ax
XS = Soft(lambda i: S[i])  # the logits s themselves
XT = Soft(lambda i: total(lambda q: (A[i, q] + t * V[i, q]) * x[q], "d"))  # s = (A + tV) x


def along(fn):
    """``d/dt fn(A + tV)|₀`` for ``fn`` built on :data:`XT`."""
    return sp.diff(fn(XT), t).subs(t, 0)


def Vx(i):
    return total(lambda q: V[i, q] * x[q], "d")


def loss_N(soft):
    return total(lambda i: soft.c(i) ** 2) / 2


def loss_R(soft):
    return total(lambda i: soft.h(i) ** 2) / 2


def p_N(soft, i):
    """``(J c)_i = f_i c_i − ⟨f, c⟩ f_i``, as the lemmas' ``p_normalized``."""
    return total(lambda j: soft.J(i, j) * soft.c(j))


def p_R(soft, i):
    """``u_i h_i − ⟨h, b⟩ u_i``, as ``p_rescaled``."""
    return soft.u(i) * soft.h(i) - total(lambda j: soft.h(j) * soft.b[j]) * soft.u(i)


def K_N(soft, i, j):
    """``J_ij (w_i − ⟨f, c⟩) − f_i f_j (w_j − ⟨f, w⟩)``, ``w = f + c`` (as ``k_normalized``)."""
    w = lambda q: soft.f(q) + soft.c(q)  # noqa: E731
    return (soft.J(i, j) * (w(i) - total(lambda q: soft.f(q) * soft.c(q)))
            - soft.f(i) * soft.f(j) * (w(j) - total(lambda q: soft.f(q) * w(q))))


def K_R(soft, i, j):
    """``δ_ij u_j (h_j + u_j − ⟨h, b⟩) − u_i u_j (b_i + b_j − ‖b‖²)`` (as ``k_rescaled``)."""
    hb, bb = total(lambda q: soft.h(q) * soft.b[q]), total(lambda q: soft.b[q] ** 2)
    return (delta(i, j) * soft.u(j) * (soft.h(j) + soft.u(j) - hb)
            - soft.u(i) * soft.u(j) * (soft.b[i] + soft.b[j] - bb))


def _low(g, v, e, kappa, i, j):
    """``(diag(g) − v eᵀ − e vᵀ + κ e eᵀ)_ij`` (reference/rows.py's ``dense``)."""
    return delta(i, j) * g(i) - v(i) * e(j) - e(i) * v(j) + kappa * e(i) * e(j)


def low_N(soft, i, j):
    """``K_N`` as the reference evaluates it: ``g = v = f ∘ (f + c − ⟨f, c⟩)``, ``e = f``, ``κ = ‖f‖²``."""
    fc = total(lambda q: soft.f(q) * soft.c(q))
    g = lambda q: soft.f(q) * (soft.f(q) + soft.c(q) - fc)  # noqa: E731
    return _low(g, g, soft.f, total(lambda q: soft.f(q) ** 2), i, j)


def low_R(soft, i, j):
    """``K_R`` as the reference evaluates it: ``g = u ∘ (h + u − ⟨h, b⟩)``, ``v = u ∘ b``, ``e = u``,
    ``κ = ‖b‖²``."""
    hb = total(lambda q: soft.h(q) * soft.b[q])
    return _low(lambda q: soft.u(q) * (soft.h(q) + soft.u(q) - hb), lambda q: soft.u(q) * soft.b[q], soft.u,
                total(lambda q: soft.b[q] ** 2), i, j)


def dx(e):
    return sp.diff(e, x[m])


NM, N1, D1, NN, DD, SCALAR = ((r, "n"), (m, "d")), ((r, "n"),), ((m, "d"),), ((r, "n"), (p, "n")), \
    ((m, "d"), (p, "d")), ()
JA = lambda q: total(lambda j: X.J(r, j) * A[j, q])  # noqa: E731  (J A)_{r q}


def _grad_N(q):
    return sp.diff(loss_N(X), x[q])


STEPS = {
    ("u_deriv", "step 1"): lambda: (dx(X.u(r)), X.u(r) * A[r, m], NM),
    ("u_deriv", "step 2"): lambda: (X.u(r) * A[r, m], total(lambda j: delta(r, j) * X.u(j) * A[j, m]), NM),
    ("u_deriv", "step 3"): lambda: (along(lambda s: s.u(r)), X.u(r) * Vx(r), N1),
    ("alpha_deriv", "step 1"): lambda: (dx(X.alpha()), total(lambda i: X.u(i) * A[i, m]), D1),
    ("alpha_deriv", "step 2"): lambda: (dx(X.alpha()), total(lambda i: A[i, m] * X.u(i)), D1),
    ("alpha_deriv", "step 3"): lambda: (along(lambda s: s.alpha()), total(lambda i: X.u(i) * Vx(i)), SCALAR),
    ("f_deriv", "step 1"): lambda: (dx(X.f(r)), dx(X.u(r)) / X.alpha() - X.u(r) * dx(X.alpha()) / X.alpha() ** 2,
                                    NM),
    ("f_deriv", "step 2"): lambda: (dx(X.u(r)) / X.alpha() - X.u(r) * dx(X.alpha()) / X.alpha() ** 2,
                                    X.f(r) * A[r, m] - total(lambda i: X.f(i) * A[i, m]) * X.f(r), NM),
    ("f_deriv", "step 3"): lambda: (dx(X.f(r)), JA(m), NM),
    ("f_deriv", "step 4"): lambda: (along(lambda s: s.f(r)), total(lambda j: X.J(r, j) * Vx(j)), N1),
    ("c_deriv", "step 1"): lambda: (dx(X.c(r)), dx(X.f(r)), NM),
    ("c_deriv", "step 2"): lambda: (dx(X.c(r)), JA(m), NM),
    ("c_deriv", "step 3"): lambda: (along(lambda s: s.c(r)), total(lambda j: X.J(r, j) * Vx(j)), N1),
    ("h_deriv", "step 1"): lambda: (dx(X.h(r)), dx(X.u(r)) - b[r] * dx(X.alpha()), NM),
    ("h_deriv", "step 2"): lambda: (dx(X.h(r)), total(lambda j: delta(r, j) * X.u(j) * A[j, m])
                                    - b[r] * total(lambda j: X.u(j) * A[j, m]), NM),
    ("h_deriv", "step 3"): lambda: (along(lambda s: s.h(r)),
                                    total(lambda j: (delta(r, j) * X.u(j) - b[r] * X.u(j)) * Vx(j)), N1),
    ("grad_normalized", "step 1"): lambda: (_grad_N(m), total(lambda i: X.c(i) * dx(X.c(i))), D1),
    ("grad_normalized", "step 2"): lambda: (_grad_N(m), total(lambda i: X.c(i) * total(
        lambda j: X.J(i, j) * A[j, m])), D1),
    ("grad_normalized", "step 3"): lambda: (X.J(r, p), X.J(p, r), NN),
    ("grad_normalized", "step 4"): lambda: (_grad_N(m), total(lambda i: A[i, m] * (
        X.f(i) * X.c(i) - total(lambda k: X.f(k) * X.c(k)) * X.f(i))), D1),
    ("grad_normalized", "step 5"): lambda: (sp.diff(loss_N(XS), S[r]), p_N(XS, r), N1),
    ("grad_rescaled", "step 1"): lambda: (dx(loss_R(X)), total(lambda i: X.h(i) * dx(X.h(i))), D1),
    ("grad_rescaled", "step 2"): lambda: (dx(loss_R(X)), total(lambda i: A[i, m] * total(
        lambda j: (delta(i, j) * X.u(j) - X.u(i) * b[j]) * X.h(j))), D1),
    ("grad_rescaled", "step 3"): lambda: (dx(loss_R(X)), total(lambda i: A[i, m] * p_R(X, i)), D1),
    ("grad_rescaled", "step 4"): lambda: (sp.diff(loss_R(XS), S[r]), p_R(XS, r), N1),
    ("hessian_normalized", "step 1"): lambda: (sp.diff(p_N(XS, r), S[p]), K_N(XS, r, p), NN),
    ("hessian_normalized", "step 2"): lambda: (K_N(XS, r, p), K_N(XS, p, r), NN),
    ("hessian_normalized", "step 3"): lambda: (K_N(XS, r, p), low_N(XS, r, p), NN),
    ("hessian_normalized", "step 4"): lambda: (sp.diff(_grad_N(m), x[p]), total(lambda i: total(
        lambda j: A[i, m] * K_N(X, i, j) * A[j, p])), DD),
    ("hessian_rescaled", "step 1"): lambda: (sp.diff(p_R(XS, r), S[p]), K_R(XS, r, p), NN),
    ("hessian_rescaled", "step 2"): lambda: (K_R(XS, r, p), K_R(XS, p, r), NN),
    ("hessian_rescaled", "step 3"): lambda: (K_R(XS, r, p), low_R(XS, r, p), NN),
    ("hessian_rescaled", "step 4"): lambda: (sp.diff(dx(loss_R(X)), x[p]), total(lambda i: total(
        lambda j: A[i, m] * K_R(X, i, j) * A[j, p])), DD),
    ("h_alpha_c", "step 1"): lambda: (XS.u(r), XS.alpha() * XS.f(r), N1),
    ("h_alpha_c", "step 2"): lambda: (XS.h(r), XS.alpha() * XS.c(r), N1),
    ("rescaled_vs_normalized", "step 1"): lambda: (loss_R(X), X.alpha() ** 2 * loss_N(X), SCALAR),
    ("rescaled_vs_normalized", "step 2"): lambda: (dx(loss_R(X)), X.alpha() ** 2 * _grad_N(m)
                                                   + 2 * X.alpha() * loss_N(X) * dx(X.alpha()), D1),
    ("rescaled_vs_normalized", "step 3"): lambda: (dx(loss_R(X)), X.alpha() ** 2 * _grad_N(m) + 2 * X.alpha()
                                                   * loss_N(X) * total(lambda i: A[i, m] * X.u(i)), D1),
    ("rescaled_vs_normalized", "step 4"): lambda: (
        total(lambda i: A[i, m] * p_R(X, i)),
        X.alpha() ** 2 * total(lambda i: A[i, m] * p_N(X, i))
        + X.alpha() * total(lambda k: X.c(k) ** 2) * total(lambda i: A[i, m] * X.u(i)), D1),
}

_SHIFT = Soft(lambda i: S[i] + t)  # s + t 1
STEPS.update({
    ("row_shift", "step 1"): lambda: (_SHIFT.u(r), sp.exp(t) * XS.u(r), N1),
    ("row_shift", "step 2"): lambda: (_SHIFT.alpha(), sp.exp(t) * XS.alpha(), SCALAR),
    ("row_shift", "step 3"): lambda: (_SHIFT.f(r), XS.f(r), N1),
    ("row_shift", "step 4"): lambda: (loss_N(_SHIFT), loss_N(XS), SCALAR),
    ("row_shift", "step 5"): lambda: (_SHIFT.h(r), sp.exp(t) * XS.h(r), N1),
    ("row_shift", "step 6"): lambda: (loss_R(_SHIFT), sp.exp(2 * t) * loss_R(XS), SCALAR),
    ("row_shift", "step 7"): lambda: (total(lambda j: XS.J(r, j)), sp.Integer(0), N1),
    ("row_shift", "step 8"): lambda: (total(lambda j: K_N(XS, r, j)), sp.Integer(0), N1),
    ("softmax_jacobian_half", "step 1 side 1"): lambda: (XS.J(r, p), XS.J(p, r), NN),
    ("alpha_lipschitz_logits", "step 1 side 1"): lambda: (
        XS.alpha() - Soft(lambda i: S2[i]).alpha(), total(lambda i: XS.u(i) - Soft(lambda i: S2[i]).u(i)), SCALAR),
    ("h_lipschitz_logits", "step 1 side 1"): lambda: (
        XS.h(r) - Soft(lambda i: S2[i]).h(r),
        XS.u(r) - Soft(lambda i: S2[i]).u(r) - (XS.alpha() - Soft(lambda i: S2[i]).alpha()) * b[r], N1),
    ("normalized_grad_lipschitz_logits", "step 1 side 1"): lambda: (
        total(lambda j: sp.diff(p_N(XS, r), S[j]) * v[j]),
        total(lambda j: XS.J(r, j) * _Jv(j)) + _DJc(r), N1),
    ("normalized_grad_lipschitz_logits", "step 4 side 1"): lambda: (
        _DJc(r), _Jv(r) * XS.c(r) - _Jv(r) * total(lambda k: XS.f(k) * XS.c(k))
        - XS.f(r) * total(lambda k: _Jv(k) * XS.c(k)), N1),
    ("rescaled_grad_lipschitz_logits", "step 1 side 1"): lambda: (
        total(lambda j: sp.diff(p_R(XS, r), S[j]) * v[j]),
        XS.u(r) * v[r] * XS.h(r) + XS.u(r) * _Dh(r) - total(lambda k: _Dh(k) * b[k]) * XS.u(r)
        - total(lambda k: XS.h(k) * b[k]) * XS.u(r) * v[r], N1),
    ("rescaled_grad_lipschitz_logits", "step 9 side 1"): lambda: (
        total(lambda j: sp.diff(XS.h(r), S[j]) * v[j]), _Dh(r), N1),
    ("c_lipschitz_x", "step 1 side 1"): lambda: (X.c(r) - Soft(linear(A, y)).c(r), X.f(r) - Soft(linear(A, y)).f(r),
                                                 N1),
    ("c_lipschitz_A", "step 1 side 1"): lambda: (X.c(r) - Soft(linear(Ap, x)).c(r),
                                                 X.f(r) - Soft(linear(Ap, x)).f(r), N1),
    ("grad_lipschitz_normalized", "step 1 side 1"): lambda: (_grad_N(m), total(lambda i: A[i, m] * p_N(X, i)), D1),
    ("grad_lipschitz_rescaled", "step 1 side 1"): lambda: (dx(loss_R(X)), total(lambda i: A[i, m] * p_R(X, i)), D1),
    ("grad_lipschitz_normalized_A", "step 1 side 1"): lambda: (
        total(lambda i: A[i, m] * g[i]) - total(lambda i: Ap[i, m] * gp[i]),
        total(lambda i: (A[i, m] - Ap[i, m]) * g[i]) + total(lambda i: Ap[i, m] * (g[i] - gp[i])), D1),
}
)
_LIN_X = lambda: (linear(A, x)(r) - linear(A, y)(r), total(lambda q: A[r, q] * (x[q] - y[q]), "d"), N1)  # noqa: E731
_LIN_A = lambda: (linear(A, x)(r) - linear(Ap, x)(r), total(lambda q: (A[r, q] - Ap[r, q]) * x[q], "d"), N1)  # noqa: E731
for _lemma, _label, _fn in (("u_lipschitz_x", "step 2 side 1", _LIN_X), ("alpha_lipschitz_x", "step 2 side 1", _LIN_X),
                            ("f_lipschitz_x", "step 2 side 1", _LIN_X), ("h_lipschitz_x", "step 2 side 1", _LIN_X),
                            ("grad_lipschitz_normalized", "step 3 side 1", _LIN_X),
                            ("grad_lipschitz_rescaled", "step 3 side 1", _LIN_X),
                            ("u_lipschitz_A", "step 2 side 1", _LIN_A), ("alpha_lipschitz_A", "step 2 side 1", _LIN_A),
                            ("f_lipschitz_A", "step 2 side 1", _LIN_A), ("h_lipschitz_A", "step 2 side 1", _LIN_A),
                            ("grad_lipschitz_normalized_A", "step 5 side 1", _LIN_A)):
    STEPS[(_lemma, _label)] = _fn


def _Jv(i):
    return total(lambda j: XS.J(i, j) * v[j])


def _DJc(i):
    """``(DJ[v] c)_i`` with ``DJ[v] = diag(Jv) − (Jv) fᵀ − f (Jv)ᵀ``."""
    return total(lambda j: (delta(i, j) * _Jv(i) - _Jv(i) * XS.f(j) - XS.f(i) * _Jv(j)) * XS.c(j))


def _Dh(i):
    """``(Dh[v])_i = u_i v_i − ⟨u, v⟩ b_i``."""
    return XS.u(i) * v[i] - total(lambda k: XS.u(k) * v[k]) * b[i]


# What the link renames in an instance: this lemma writes f = u/Σu with u_i > 0 symbols, i.e. s_i = log u_i.
LINK = {("softmax_jacobian_half", "step 1 side 1"): lambda size: {
    sp.Symbol(f"s_{i}", real=True): sp.log(sp.Symbol(f"u_{i}", positive=True)) for i in range(size[0])}}

# Identity steps of vector-form lemmas that are not written here, and why (an absolute value or a fixed scalar).
NOT_INDEXED: dict = {}  # vector-form identity steps with neither an index form nor a Coq theorem: none now
# Vector-form identity steps the normaliser cannot prove (they need signs, not only sums) but a Coq theorem states for
# every n: key -> (the theorem's exact text in proofs/export_coq.py's SoftmaxRowSum.v, why that is this step). The
# status is "all n, d (Coq)": proved for every n by the witness coqc compiles in CI (.ci/run runs the slow test
# test_coq_files_compile), not in the process that prints it, and the step as built is the hand-reviewed one
# (proofs/_fixed.py, by digest). Σ_j |J_ij| = 2 f_i(1 − f_i) is a case split of the sum at j = i with the signs
# J_ii = f_i(1 − f_i) ≥ 0, J_ij = −f_i f_j ≤ 0 (j ≠ i) from 0 ≤ f ≤ 1, then Σ_j f_j = 1.
BY_COQ = {
    ("softmax_jacobian_half", "step 2 side 1"): (
        "Definition J (f : nat -> R) (i j : nat) : R := (if Nat.eqb j i then f i else 0) - f i * f j.",
        "Theorem row_abs_sum : forall (f : nat -> R) (N i : nat),\n"
        "  (forall k, 0 <= f k) -> sum_f_R0 f N = 1 -> (i <= N)%nat ->\n"
        "  sum_f_R0 (fun j => Rabs (J f i j)) N = 2 * f i * (1 - f i).",
        "Coq's row_abs_sum (SoftmaxRowSum.v, `attnreg proofs export --coq`) states Σ_{j=0..N} |J_ij| = "
        "2 f_i(1 − f_i) with J_ij = [j = i] f_i − f_i f_j for every N (n = N + 1), every i ≤ N and every f ≥ 0 with "
        "Σ_j f_j = 1 — the lemma's f = u/Σu with u > 0 is such an f, its J = diag(f) − f fᵀ; the proof splits the "
        "sum at j = i and takes the signs from f ≥ 0 and f_i ≤ 1; it rests on no axiom beyond the two of Coq's "
        "standard real numbers (ClassicalDedekindReals.sig_forall_dec, functional_extensionality_dep: Print "
        "Assumptions in RowAbsSumStatement.v, which restates the theorem in a clean context); compiled by coqc in CI, "
        "not in this process"),
}
# Identity steps with no sized symbol at all (checked: the step's sides have none): sympy's check is the proof.
SIZE_FREE = {
    ("softmax_jacobian_half", "step 3 side 1"): "a scalar identity in one number t, with no index and no n or d: "
    "sympy's check of it is the proof for every n and d",
}
