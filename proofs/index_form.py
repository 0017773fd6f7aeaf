r"""Identities for every n and d: index notation with symbolic bounds, and a small normaliser.

The quantities in index form, with symbolic ``n, d`` (sympy ``Sum`` over ``IndexedBase``):
``s_i = Σ_l A_il x_l``, ``u_i = exp(s_i)``, ``α = Σ_k u_k``, ``f_i = u_i / α``, ``c_i = f_i − b_i``,
``L_N = ½ Σ_i c_i²``. ``sympy.diff`` differentiates these sums through the indexed entries (it returns
``Σ_l δ(l, m) A_il`` for ``∂s_i/∂x_m``); ``MatrixSymbol.diff`` is not used: it returns 0 through matrix
elements without warning.

:func:`normal_form` rewrites an expression into a canonical sum of monomials:

1. ``Σ_l δ(l, m) T(l) → T(m)`` (the free index ``m`` lies in the summation range);
2. ``exp(Σ_l A_rl x_l) → α F_r`` and ``Σ_k exp(Σ_l A_kl x_l) → α`` (``F_r`` is ``f_r``; α a positive symbol);
3. expansion into monomials, each a product under a list of sums; every bound index is renamed
   canonically (the smallest form over all permutations of the bound names), so ``Σ_i Σ_k c_i f_i f_k A_km``
   and ``Σ_k Σ_i A_km f_k f_i c_i`` are one monomial; like monomials are collected.

An identity holds for all n and d when the normal form of ``lhs − rhs`` is empty (each rewrite is an exact
identity of the sums, so the argument is sound; an expression it cannot reduce stays non-zero: incomplete,
never wrong). :func:`grad_normalized_all_n` proves ``∇L_N = Aᵀ(diag f − f fᵀ)(f − b)`` this way (the wrong
formula ``Aᵀ diag(f)(f − b)`` leaves terms), :func:`grad_rescaled_all_n` ``∇L_R = Aᵀ(u ∘ h − ⟨h, b⟩ u)``.
"""
from __future__ import annotations

import itertools

import sympy as sp

n, d = sp.symbols("n d", positive=True, integer=True)
i, k, l, m = sp.symbols("i k l m", integer=True)
A, x, b, F = (sp.IndexedBase(name) for name in ("A", "x", "b", "F"))
alpha = sp.Symbol("alpha", positive=True)


def _s(r):
    return sp.Sum(A[r, l] * x[l], (l, 0, d - 1))


def loss_normalized():
    """``L_N = ½ Σ_i (f_i − b_i)²`` with ``f_i = exp(s_i) / Σ_k exp(s_k)``, symbolic n and d."""
    u = lambda r: sp.exp(_s(r))  # noqa: E731
    total = sp.Sum(u(k), (k, 0, n - 1))
    return sp.Sum((u(i) / total - b[i]) ** 2, (i, 0, n - 1)) / 2


def _delta(e):
    (v, _, _), body = e.limits[0], e.function
    for fac in sp.Mul.make_args(body):
        if isinstance(fac, sp.KroneckerDelta) and v in fac.free_symbols and len(e.limits) == 1:
            other = fac.args[0] if fac.args[1] == v else fac.args[1]
            return (body / fac).subs(v, other)
    return e


def _atoms(e):
    e = e.replace(lambda t: isinstance(t, sp.Sum), _delta)
    e = e.replace(lambda t: isinstance(t, sp.Sum) and isinstance(t.function, sp.exp), lambda t: alpha)
    e = e.replace(lambda t: isinstance(t, sp.exp) and isinstance(t.args[0], sp.Sum), lambda t: alpha * F[_row(t)])
    return e


def _row(t):
    body = t.args[0].function
    return [f for f in sp.Mul.make_args(body) if isinstance(f, sp.Indexed) and f.base == A][0].indices[0]


def _terms(e, fresh):
    """``[(monomial, limits)]`` with ``e = Σ_terms Σ_limits monomial``."""
    if isinstance(e, sp.Add):
        return [t for a in e.args for t in _terms(a, fresh)]
    if isinstance(e, sp.Mul) or (isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp > 0 and e.base.has(sp.Sum)):
        factors = e.args if isinstance(e, sp.Mul) else [e.base] * int(e.exp)
        out = [(sp.Integer(1), ())]
        for f in factors:
            out = [(a * c, la + lc) for a, la in out for c, lc in _terms(f, fresh)]
        return out
    if isinstance(e, sp.Sum):
        (v, lo, hi), = e.limits
        new = sp.Symbol(f"j{next(fresh)}", integer=True)
        return [(t, lim + ((new, lo, hi),)) for t, lim in _terms(e.function.subs(v, new), fresh)]
    return [(e, ())]


def _canonical(mono, limits):
    coeff, mono = sp.expand(mono).as_coeff_Mul()
    best = None
    names = [v for v, _, _ in limits]
    for perm in itertools.permutations(range(len(names))):
        sub = {names[p]: sp.Symbol(f"z{j}", integer=True) for j, p in enumerate(perm)}
        key = (sp.srepr(mono.xreplace(sub)), tuple(sorted((sp.srepr(sub[v]), sp.srepr(lo), sp.srepr(hi))
                                                         for v, lo, hi in limits)))
        best = key if best is None or key < best else best
    return coeff, best


def normal_form(expr) -> dict:
    """Canonical monomial → coefficient (zero coefficients dropped)."""
    fresh = itertools.count()
    out: dict = {}
    for mono, limits in _terms(sp.expand(_atoms(expr)), fresh):
        for part in sp.Add.make_args(sp.expand(mono)):
            coeff, key = _canonical(part, limits)
            out[key] = out.get(key, 0) + coeff
    return {key: c for key, c in out.items() if sp.simplify(c) != 0}


def remainder(lhs, rhs) -> dict:
    return normal_form(lhs - rhs)


def gradient_formula(wrong: bool = False):
    """``(Aᵀ(diag f − f fᵀ) c)_m`` (or the wrong ``(Aᵀ diag(f) c)_m``) in index form, ``c_i = F_i − b_i``."""
    c = lambda r: F[r] - b[r]  # noqa: E731
    if wrong:
        return sp.Sum(A[i, m] * F[i] * c(i), (i, 0, n - 1))
    return sp.Sum(A[i, m] * (F[i] * c(i) - F[i] * sp.Sum(F[k] * c(k), (k, 0, n - 1))), (i, 0, n - 1))


def loss_rescaled():
    """``L_R = ½ Σ_i (u_i − α b_i)²`` with ``u_i = exp(s_i)``, ``α = Σ_k u_k``, symbolic n and d."""
    u = lambda r: sp.exp(_s(r))  # noqa: E731
    total = sp.Sum(u(k), (k, 0, n - 1))
    return sp.Sum((u(i) - total * b[i]) ** 2, (i, 0, n - 1)) / 2


def gradient_rescaled(wrong: bool = False):
    """``(Aᵀ(u ∘ h − ⟨h, b⟩ u))_m`` (or the wrong ``(Aᵀ(u ∘ h))_m``), ``u_i = α F_i``, ``h_i = u_i − α b_i``."""
    u = lambda r: alpha * F[r]  # noqa: E731
    h = lambda r: u(r) - alpha * b[r]  # noqa: E731
    inner = 0 if wrong else sp.Sum(h(k) * b[k], (k, 0, n - 1)) * u(i)
    return sp.Sum(A[i, m] * (u(i) * h(i) - inner), (i, 0, n - 1))


def grad_rescaled_all_n() -> tuple[bool, dict]:
    """``∂L_R/∂x_m = (Aᵀ(u ∘ h − ⟨h, b⟩ u))_m`` for symbolic n and d: ``(proved, remainder)``."""
    rest = remainder(sp.diff(loss_rescaled(), x[m]), gradient_rescaled())
    return not rest, rest


r = sp.Symbol("r", integer=True)  # the free row index of a derivative of an n-vector


def derivatives():
    """``{block: (∂block_r/∂x_m as sympy diff of the sums, the lemma's formula)}`` for u, α, f, c, h:
    ``∂u_r = u_r A_rm``, ``∂α = Σ_k u_k A_km``, ``∂f_r = ∂c_r = f_r A_rm − f_r Σ_k f_k A_km`` (= (J A)_rm),
    ``∂h_r = u_r A_rm − b_r Σ_k u_k A_km``."""
    u = lambda q: sp.exp(_s(q))  # noqa: E731
    total = sp.Sum(u(k), (k, 0, n - 1))
    fa = sp.Sum(F[k] * A[k, m], (k, 0, n - 1))
    Jr = F[r] * A[r, m] - F[r] * fa
    return {"u": (sp.diff(u(r), x[m]), alpha * F[r] * A[r, m]), "alpha": (sp.diff(total, x[m]), alpha * fa),
            "f": (sp.diff(u(r) / total, x[m]), Jr), "c": (sp.diff(u(r) / total - b[r], x[m]), Jr),
            "h": (sp.diff(u(r) - total * b[r], x[m]), alpha * F[r] * A[r, m] - b[r] * alpha * fa)}


def derivative_all_n(block: str) -> tuple[bool, dict]:
    lhs, rhs = derivatives()[block]
    rest = remainder(lhs, rhs)
    return not rest, rest


ALL_N = {"grad_normalized": ("step 4, ∇L_N = Aᵀ(diag f − f fᵀ)(f − b)", lambda: grad_normalized_all_n()),
         "grad_rescaled": ("∇L_R = Aᵀ(u ∘ h − ⟨h, b⟩ u)", lambda: grad_rescaled_all_n()),
         **{f"{q}_deriv": (f"the derivative in x, D{q}(x) entry (r, m) (the derivative in the data A is "
                           "checked at the fixed sizes only)",
                           lambda q=q: derivative_all_n(q)) for q in ("u", "alpha", "f", "c", "h")}}


def grad_normalized_all_n() -> tuple[bool, dict]:
    """``∂L_N/∂x_m = (Aᵀ(diag f − f fᵀ)(f − b))_m`` for symbolic n and d: ``(proved, remainder)``."""
    rest = remainder(sp.diff(loss_normalized(), x[m]), gradient_formula())
    return not rest, rest
