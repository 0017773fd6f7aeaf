r"""Identities for every n and d: index notation with symbolic bounds, and a small normaliser.

The quantities in index form, with symbolic ``n, d`` (sympy ``Sum`` over ``IndexedBase``):
``s_i = Σ_l A_il x_l``, ``u_i = exp(s_i)``, ``α = Σ_k u_k``, ``f_i = u_i / α``, ``c_i = f_i − b_i``,
``L_N = ½ Σ_i c_i²``. ``sympy.diff`` differentiates these sums through the indexed entries (it returns
``Σ_l δ(l, m) A_il`` for ``∂s_i/∂x_m``); ``MatrixSymbol.diff`` is not used: it returns 0 through matrix
elements without warning.

:func:`normal_form` rewrites an expression into a canonical sum of monomials:

1. ``Σ_l δ(l, m) T(l) → T(m)`` (a free index lies in the range of the sum it meets: an index of x is summed over
   ``0 … d − 1``, one of s over ``0 … n − 1``; the tables never mix them), and ``δ(p, q) T(q) → δ(p, q) T(p)``
   for free ``p, q``;
2. ``exp(a + b) → exp(a) exp(b)``; for each logit vector — ``s_r = Σ_l P_rl Q_l`` over ``l = 0 … d − 1``, or
   the entries ``s_r`` of an IndexedBase — ``exp(s_r) → α F_r`` and ``Σ_k c·exp(s_k) → c·α`` over exactly
   ``k = 0 … n − 1`` (``F_r`` is ``f_r``, α a positive symbol, one pair per logit vector; ``(A, x)`` keeps the
   names ``alpha``, ``F``), ``exp(c s_r) → (α F_r)^c`` for an integer c; anything else under exp is left alone;
3. expansion into monomials, each a product under a list of sums; ``Σ_j c = (range length)·c`` when ``j``
   does not occur, and ``Σ_j F_j = 1`` over ``0 … n − 1`` when ``j`` occurs only there (f is a probability
   vector); every bound index is renamed canonically (the smallest form over all permutations of the bound
   names), so ``Σ_i Σ_k c_i f_i f_k A_km`` and ``Σ_k Σ_i A_km f_k f_i c_i`` are one monomial; like monomials are
   collected.

An identity holds for all n and d when the normal form of ``lhs − rhs`` is empty (each rewrite is an exact
identity of the sums, so the argument is sound; an expression it cannot reduce stays non-zero: incomplete,
never wrong). :func:`grad_normalized_all_n` proves ``∇L_N = Aᵀ(diag f − f fᵀ)(f − b)`` this way (the wrong
formula ``Aᵀ diag(f)(f − b)`` leaves terms), :func:`grad_rescaled_all_n` ``∇L_R = Aᵀ(u ∘ h − ⟨h, b⟩ u)``.
Every identity step of the vector-form lemmas is written this way in :mod:`.index_vector` (and the matrix-form
ones that can be, in pair indices, in :mod:`.index_matrix`); :mod:`.index_table` proves and links them.
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


ROW_LOGITS = {sp.IndexedBase("S"), sp.IndexedBase("T")}  # n × n logit matrices: the softmax is taken along each row


def _logit(e):
    """``(key, index)`` when ``e`` is one entry of a logit vector: ``Σ_l P[row, l] Q[l]`` over ``l = 0 … d − 1``,
    an entry ``s[row]`` of an IndexedBase, or an entry ``S[j, m]`` of a logit matrix of :data:`ROW_LOGITS`
    (row j is its own logit vector: the key holds j, the index is m); else ``None``. The key names the softmax."""
    if isinstance(e, sp.Indexed) and len(e.indices) == 1 and e.base not in (F, b, x):
        return e.base, e.indices[0]
    if isinstance(e, sp.Indexed) and len(e.indices) == 2 and e.base in ROW_LOGITS:
        return (e.base, "row", e.indices[0]), e.indices[1]
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        (v, lo, hi), body = e.limits[0], e.function
        fs = sp.Mul.make_args(body)
        if (lo, hi) == (0, d - 1) and len(fs) == 2 and all(isinstance(f, sp.Indexed) for f in fs):
            P, Q = sorted(fs, key=lambda f: len(f.indices), reverse=True)
            if len(P.indices) == 2 and P.indices[1] == v and Q.indices == (v,) and v not in P.indices[0].free_symbols:
                return (P.base, Q.base), P.indices[0]
    return None


def _atoms_of(key):
    """``(α, F)`` of a softmax: ``α = Σ_k exp(logit_k)`` (positive), ``F(r) = exp(logit_r)/α``; the pair
    ``(A, x)`` keeps the names ``alpha`` and ``F``; row j of a logit matrix S has ``alpha_S[j]``, ``F_S[j, r]``."""
    if key == (A, x):
        return alpha, lambda q: F[q]
    if isinstance(key, tuple) and len(key) == 3 and key[1] == "row":
        base, _, row = key
        return sp.IndexedBase(f"alpha_{base}")[row], lambda q: sp.IndexedBase(f"F_{base}")[row, q]
    name = "_".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
    return sp.Symbol(f"alpha_{name}", positive=True), lambda q: sp.IndexedBase(f"F_{name}")[q]


def _split_exp(e):
    """``exp(a + b) → exp(a) exp(b)`` (so ``exp(s_i + t) = eᵗ exp(s_i)``)."""
    return e.replace(lambda t: isinstance(t, sp.exp) and isinstance(t.args[0], sp.Add),
                     lambda t: sp.Mul(*[sp.exp(a) for a in t.args[0].args]))


def _sum_of_exp(e):
    """``Σ_k c · exp(logit_k)`` over ``k = 0 … n − 1`` with ``c`` free of ``k`` → ``c · α``."""
    (v, lo, hi), = e.limits
    inside = [f for f in sp.Mul.make_args(e.function) if v in f.free_symbols]
    if (lo, hi) != (0, n - 1) or len(inside) != 1 or not isinstance(inside[0], sp.exp):
        return e
    got = _logit(inside[0].args[0])
    if got is None or got[1] != v or (isinstance(got[0], tuple) and sp.Tuple(*got[0]).has(v)):
        return e  # not a logit, another entry, or the row itself runs with k (Σ_k exp(S[k, k]) is no α)
    return _atoms_of(got[0])[0] * (e.function / inside[0])


def _exp_atom(t):
    """``exp(logit_r) → α F_r``, and ``exp(c · logit_r) → (α F_r)^c`` for an integer c (sympy writes
    ``exp(s_r)²`` as ``exp(2 s_r)``)."""
    power, arg = sp.Integer(1), t.args[0]
    if isinstance(arg, sp.Mul):
        c, rest = arg.as_coeff_Mul()
        if c.is_Integer and c != 1:
            power, arg = c, rest
    got = _logit(arg)
    if got is None:
        return t
    a, f = _atoms_of(got[0])
    return (a * f(got[1])) ** power


def _atoms(e):
    e = _split_exp(e).replace(lambda t: isinstance(t, sp.Sum), _delta)
    e = e.replace(lambda t: isinstance(t, sp.Sum) and len(t.limits) == 1, _sum_of_exp)
    return e.replace(lambda t: isinstance(t, sp.exp), _exp_atom)


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
        inner, limits = e.function, ()
        for v, lo, hi in e.limits:
            new = sp.Symbol(f"j{next(fresh)}", integer=True)
            inner, limits = inner.subs(v, new), limits + ((new, lo, hi),)
        return [(t, lim + limits) for t, lim in _terms(inner, fresh)]
    return [(e, ())]


def _reduce(mono, limits):
    """Exact rewrites of one ``Σ_limits mono``: ``Σ_j δ(j, p) T(j) = T(p)``; ``δ(p, q) T(q) = δ(p, q) T(p)``
    for free p, q; ``Σ_j c = (range length) c`` when j does not occur; ``Σ_j F[j] = 1`` (a probability
    vector) when j occurs only there."""
    limits = list(limits)
    bound = {v: (lo, hi) for v, lo, hi in limits}
    changed = True
    while changed:
        changed = False
        for fac in sp.Mul.make_args(mono):
            if isinstance(fac, sp.KroneckerDelta):
                p, q = fac.args
                if q in bound or p in bound:
                    gone, keep = (q, p) if q in bound else (p, q)
                    if keep in bound and bound[keep] != bound[gone]:
                        continue
                    mono = (mono / fac).xreplace({gone: keep})
                    limits = [lim for lim in limits if lim[0] != gone]
                    bound.pop(gone)
                    changed = True
                    break
                if isinstance(p, sp.Symbol) and isinstance(q, sp.Symbol):
                    lo_, hi_ = sorted((p, q), key=str)
                    rest = (mono / fac).xreplace({hi_: lo_})
                    if rest * fac != mono:
                        mono, changed = rest * sp.KroneckerDelta(lo_, hi_), True
                        break
        if changed:
            continue
        for v, lo, hi in list(limits):
            uses = [f for f in sp.Mul.make_args(mono) if v in f.free_symbols]
            if not uses:
                mono, changed = mono * (hi - lo + 1), True
            elif (len(uses) == 1 and isinstance(uses[0], sp.Indexed) and uses[0].indices[-1] == v
                  and not any(v in i.free_symbols for i in uses[0].indices[:-1])
                  and (uses[0].base == F or str(uses[0].base).startswith("F_")) and (lo, hi) == (0, n - 1)):
                mono, changed = mono / uses[0], True
            if changed:
                limits.remove((v, lo, hi))
                bound.pop(v)
                break
    return mono, tuple(limits)


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
            part, lim = _reduce(part, limits)
            for piece in sp.Add.make_args(sp.expand(part)):
                coeff, key = _canonical(piece, lim)
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


def grad_normalized_all_n() -> tuple[bool, dict]:
    """``∂L_N/∂x_m = (Aᵀ(diag f − f fᵀ)(f − b))_m`` for symbolic n and d: ``(proved, remainder)``."""
    rest = remainder(sp.diff(loss_normalized(), x[m]), gradient_formula())
    return not rest, rest


def _expand(e):
    """Every ``Sum`` with integer bounds written out, ``P[i, j] → P_ij`` (faster than ``Sum.doit``)."""
    if isinstance(e, sp.Sum):
        terms = [e.function]
        for v, lo, hi in reversed(e.limits):
            terms = [t.xreplace({v: sp.Integer(val)}) for t in terms for val in range(int(lo), int(hi) + 1)]
        return sp.Add(*[_expand(t) for t in terms])
    if isinstance(e, sp.Indexed):
        return sp.Symbol(f"{e.base}_" + "".join(str(int(i)) for i in e.indices), real=True)
    if not e.args:
        return e
    return e.func(*[_expand(a) for a in e.args])


def instance(expr, size, values):
    """The index form at ``n, d = size`` with the free indices set: the sums written out, ``P[i, j] → P_ij``,
    ``v[i] → v_i`` (the names of :func:`.symbols.matrix` and :func:`.symbols.vector`)."""
    fixed = {n: sp.Integer(size[0]), d: sp.Integer(size[1]), **{k: sp.Integer(v) for k, v in values.items()}}
    return _expand(expr.xreplace(fixed))
