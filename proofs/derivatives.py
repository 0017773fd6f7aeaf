r"""The derivatives of the building blocks u, α, f, c, h, in x and in the data A (Lemmas u_deriv … h_deriv).

Each lemma has its own chain (chain rule, quotient rule, a constant b), and the same shape of statement: in x,
``Dq(x) = J_q A``; with x fixed, along a direction V of A, ``d/dt q(A + tV)|₀ = J_q V x`` (the logits move by V x);
J_q is ``diag(u)`` (u), ``uᵀ`` (α), ``diag(f) − f fᵀ`` (f and c) or ``diag(u) − b uᵀ`` (h). The check is the same
for all five: sympy at the checker's sizes, and a numeric route (:func:`._numeric.derivative_route`) that
compares ``J_q A v`` and ``J_q V x`` with ctx.diff of the reference along random directions at 60 digits.
:data:`LEMMAS` holds them by id, dependencies first.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import jac, parts
from ._numeric import derivative_route
from ._ops import SYM, along
from .symbols import matrix, vector

_STATEMENT = {
    "u": "(derivative of u): ∂u_i/∂x_k = u_i A[i,k]; Du(x) = diag(u) A; d/dt u(A + tV)|₀ = u ∘ (V x)\n\nStatement\n"
         "    For u(x) = exp(Ax) (entrywise), A ∈ R^{n×d}, x ∈ R^d:\n"
         "        ∂u_i/∂x_k = u_i A[i, k],  i.e.  Du(x) = diag(u(x)) A;\n"
         "    and with x fixed, the derivative in A along a direction V ∈ R^{n×d} is\n"
         "        d/dt u(A + tV)|_{t=0} = u ∘ (V x).\n",
    "alpha": "(derivative of α): ∇α(x) = Aᵀ u; d/dt α(A + tV)|₀ = ⟨u, V x⟩\n\nStatement\n"
             "    For α(x) = ⟨exp(Ax), 1ₙ⟩: ∇α(x) = Aᵀ u(x) (u = exp(Ax)); with x fixed, the derivative in A\n"
             "    along V is ⟨u, V x⟩.\n",
    "f": "(softmax derivative, quotient rule): Df(x) = (diag(f) − f fᵀ) A; d/dt f(A + tV)|₀ = (diag(f) − f fᵀ) V x\n\n"
         "Statement\n"
         "    For f(x) = α(x)⁻¹ u(x) (u = exp(Ax), α = ⟨u, 1ₙ⟩) and J = diag(f) − f fᵀ (the softmax Jacobian):\n"
         "        ∂f/∂x_k = f ∘ A[:, k] − ⟨f, A[:, k]⟩ f,   i.e.   Df(x) = J A;\n"
         "    with x fixed, d/dt f(A + tV)|₀ = J V x. In the logits s = Ax: ∂f/∂s = J.\n",
    "c": "(derivative of c): Dc(x) = (diag(f) − f fᵀ) A; d/dt c(A + tV)|₀ = (diag(f) − f fᵀ) V x\n\nStatement\n"
         "    For the normalized residual c(x) = f(x) − b (b fixed): Dc = Df = J A with J = diag(f) − f fᵀ, and\n"
         "    with x fixed, d/dt c(A + tV)|₀ = J V x.\n",
    "h": "(derivative of h): Dh(x) = diag(u) A − b uᵀ A; d/dt h(A + tV)|₀ = (diag(u) − b uᵀ) V x\n\nStatement\n"
         "    For the rescaled residual h(x) = u(x) − α(x) b (b fixed):\n"
         "        ∂h/∂x_k = u ∘ A[:, k] − ⟨u, A[:, k]⟩ b,   i.e.   Dh(x) = (diag(u) − b uᵀ) A;\n"
         "    with x fixed, d/dt h(A + tV)|₀ = (diag(u) − b uᵀ) V x.\n",
}


def _data(n, d, target=False):
    A, x, V = matrix("A", n, d), vector("x", d), matrix("V", n, d)
    b = vector("b", n) if target else None
    return A, x, V, b, parts(SYM, A * x, b) if target else parts(SYM, A * x)


def _u_steps(n, d):
    A, x, V, _, r = _data(n, d)
    u = r.u
    return [
        Step("∂u_i/∂x_k = u_i A[i,k]", "chain rule, exp′ = exp", u.jacobian(x),
             sp.Matrix(n, d, lambda i, k: u[i] * A[i, k])),
        Step("Du(x) = diag(u) A", "collect step 1", sp.Matrix(n, d, lambda i, k: u[i] * A[i, k]), SYM.diag(u) * A),
        Step("d/dt u(A + tV)|₀ = u ∘ (V x)", "∂u_i/∂A[j,k] = δ_ij u_i x_k", along(u, A, V), SYM.had(u, V * x)),
    ]


def _alpha_steps(n, d):
    A, x, V, _, r = _data(n, d)
    grad = sp.Matrix([r.alpha]).jacobian(x).T
    return [
        Step("∂α/∂x_k = Σ_i u_i A[i,k]", "α = Σ_i u_i and Lemma u_deriv", grad,
             sp.Matrix(d, 1, lambda k, _: sum(r.u[i] * A[i, k] for i in range(n))), uses=("u_deriv",)),
        Step("∇α(x) = Aᵀ u", "collect step 1", grad, A.T * r.u),
        Step("d/dt α(A + tV)|₀ = ⟨u, V x⟩", "⟨1ₙ, u ∘ (V x)⟩ by Lemma u_deriv", along(r.alpha, A, V),
             SYM.dot(r.u, V * x), uses=("u_deriv",)),
    ]


def _f_steps(n, d):
    A, x, V, _, r = _data(n, d)
    u, a, f = r.u, r.alpha, r.f
    Df = f.jacobian(x)
    quotient = sp.Matrix.hstack(*[u.diff(x[k]) / a - u * a.diff(x[k]) / a ** 2 for k in range(d)])
    return [
        Step("∂f/∂x_k = (∂u/∂x_k)/α − u (∂α/∂x_k)/α²", "quotient rule", Df, quotient),
        Step("∂f/∂x_k = f ∘ A[:,k] − ⟨f, A[:,k]⟩ f", "Lemmas u_deriv and alpha_deriv, divided by α", quotient,
             sp.Matrix.hstack(*[SYM.had(f, A[:, k]) - SYM.dot(f, A[:, k]) * f for k in range(d)]),
             uses=("u_deriv", "alpha_deriv")),
        Step("Df(x) = (diag(f) − f fᵀ) A", "collect step 2", Df, jac(SYM, f) * A),
        Step("d/dt f(A + tV)|₀ = (diag(f) − f fᵀ) V x", "the logits move by V x", along(f, A, V), jac(SYM, f) * V * x),
    ]


def _c_steps(n, d):
    A, x, V, _, r = _data(n, d, target=True)
    return [
        Step("Dc(x) = Df(x)", "b is constant", r.c.jacobian(x), r.f.jacobian(x)),
        Step("Dc(x) = (diag(f) − f fᵀ) A", "Lemma f_deriv", r.c.jacobian(x), jac(SYM, r.f) * A, uses=("f_deriv",)),
        Step("d/dt c(A + tV)|₀ = (diag(f) − f fᵀ) V x", "Lemma f_deriv", along(r.c, A, V), jac(SYM, r.f) * V * x,
             uses=("f_deriv",)),
    ]


def _h_steps(n, d):
    A, x, V, b, r = _data(n, d, target=True)
    Dh = r.h.jacobian(x)
    return [
        Step("Dh = Du − b ∇αᵀ", "b is constant", Dh, r.u.jacobian(x) - b * sp.Matrix([r.alpha]).jacobian(x)),
        Step("Dh(x) = diag(u) A − b uᵀ A", "Lemmas u_deriv and alpha_deriv", Dh, SYM.diag(r.u) * A - b * r.u.T * A,
             uses=("u_deriv", "alpha_deriv")),
        Step("d/dt h(A + tV)|₀ = (diag(u) − b uᵀ) V x", "the logits move by V x", along(r.h, A, V),
             (SYM.diag(r.u) - b * r.u.T) * V * x),
    ]


def _jf(ops, r):
    return jac(ops, r.f)


def _jh(ops, r):
    return ops.diag(r.u) - r.b * r.u.T


# q -> (steps, requires, the reference the numeric route differentiates, J_q A v, J_q V x at the route's point)
_CHAIN = {
    "u": (_u_steps, (), "attnreg.reference.forms.vector_blocks", lambda ops, r, A, v: ops.diag(r.u) * A * v,
          lambda ops, r, V, x: ops.had(r.u, V * x)),
    "alpha": (_alpha_steps, ("u_deriv",), "the reference α", lambda ops, r, A, v: ops.dot(A.T * r.u, v),
              lambda ops, r, V, x: ops.dot(r.u, V * x)),
    "f": (_f_steps, ("u_deriv", "alpha_deriv"), "the reference softmax", lambda ops, r, A, v: _jf(ops, r) * A * v,
          lambda ops, r, V, x: _jf(ops, r) * V * x),
    "c": (_c_steps, ("f_deriv",), "the reference c", lambda ops, r, A, v: _jf(ops, r) * A * v,
          lambda ops, r, V, x: _jf(ops, r) * V * x),
    "h": (_h_steps, ("u_deriv", "alpha_deriv"), "the reference h", lambda ops, r, A, v: _jh(ops, r) * A * v,
          lambda ops, r, V, x: _jh(ops, r) * V * x),
}

# the claim: Dq(x), then d/dt q(A + tV); u_deriv shows step 1 too: its step 2 is the identity
# [u_i A_ik] = diag(u) A, which says Du(x) only through step 1
_SHOWS = {"u": (1, 2, 3), "alpha": (2, 3), "f": (3, 4), "c": (2, 3), "h": (2, 3)}


def derivative(q: str) -> Lemma:
    """Lemma ``<q>_deriv``: ``Dq(x) = J_q A`` and ``d/dt q(A + tV)|₀ = J_q V x``."""
    steps, requires, ref, in_x, in_A = _CHAIN[q]
    doc = (f"Lemma {q}_deriv {_STATEMENT[q]}\nCheck\n    sympy at n = 3, d = 2; "
           f"numeric: ctx.diff of {ref}\n    along random directions at 60 digits, n = 6, d = 4.\n")
    return Lemma(doc=doc, steps=steps, numeric=lambda ctx, rng: derivative_route(ctx, rng, q, in_x, in_A),
                 requires=requires, shows=_SHOWS[q])


LEMMAS: dict[str, Lemma] = {f"{q}_deriv": derivative(q) for q in _CHAIN}
