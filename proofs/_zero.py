r"""The checker's exact zero test, :func:`is_zero`: ``True`` only if an expression is 0 wherever it is defined.

Two exact routes: first :func:`_rational_zero` (the expression as a fraction of integer polynomials in
python-flint, ``exp`` atomized as below: about 30 times faster than ``cancel`` on the lemmas' steps), and only
where that does not show 0 the sympy route (``cancel`` of the atomized expression, then ``simplify`` of a small
one). Neither samples. The review probes that once made it say 0 of a nonzero expression (exp of a complex
exponent, unevaluated nan/zoo, a division by a known zero, an unevaluated ``E**x``) are in
tests/test_proofs_zero_review.py.
"""
from __future__ import annotations

import sympy as sp

try:  # python-flint's sparse multivariate polynomials over ZZ (fmpz_mpoly, python-flint 0.7 and later)
    import flint
    _RING = flint.fmpz_mpoly_ctx.get
except (ImportError, AttributeError):  # pragma: no cover - an older python-flint: the sympy route alone decides
    _RING = None



_EXP: dict = {}  # exp's argument → its product of fresh symbols (process-wide: the same monomial, the same symbol)
_MONO: dict = {}  # monomial m → the fresh positive symbol that stands for exp(m)


def _exp_product(arg):
    r"""``exp(Σ c_k m_k)`` (rational c_k, monomials m_k) as ``Π E_k^{c_k}``, ``E_k`` a fresh positive symbol (a
    :class:`~sympy.Dummy`, so never one of the expression's own) standing for ``exp(m_k)``. For real ``m_k`` (the
    checker's symbols are real) ``exp(Σ c_k m_k) = Π exp(m_k)^{c_k}``, so an identity after the substitution is one
    before it."""
    out = _EXP.get(arg)
    if out is None:
        out = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(arg)):
            coeff, mono = term.as_coeff_Mul()
            if mono not in _MONO:
                _MONO[mono] = sp.Dummy(f"E{len(_MONO)}", positive=True)
            out *= _MONO[mono] ** coeff
        _EXP[arg] = out
    return out


_REAL: dict = {}  # exp's argument → whether every term c·m of it has a finite real c and an extended-real m


def _real_exponent(arg) -> bool:
    """Every term ``c·m`` of ``expand(arg)`` has a finite real number ``c`` and a monomial ``m`` sympy knows to be
    (extended) real, so every ``exp(m)`` is a positive real number: what the positive ``E_k`` assume."""
    out = _REAL.get(arg)
    if out is None:
        out = _REAL[arg] = all(
            c.is_finite is True and m.is_extended_real is True
            for c, m in (t.as_coeff_Mul() for t in sp.Add.make_args(sp.expand(arg))))
    return out


def _atomize(expr):
    r"""Every ``exp(…)`` of ``expr`` with a real exponent (:func:`_real_exponent`) replaced by its
    :func:`_exp_product`, for the sympy route. Only real exponents: that route hands the atomized expression to
    ``cancel``, whose sympy evaluation uses ``E_k > 0`` (``sign(E_k) = 1``, ``arg(E_k) = 0``,
    ``sqrt(E_k) = E_k^(1/2)``, ``Max(0, E_k) = E_k``), and for a complex ``m`` ``exp(m)`` is not positive and
    ``sqrt(exp(m)) ≠ exp(m/2)`` in general (``m = 4i``). The rational route may atomize every ``exp``: it never
    looks inside a non-rational leaf (``sqrt(exp(m))`` is a generator of its own), and ``E_k^(1/q)`` there stands
    for ``exp(m_k/q)``, for which ``exp(Σ c_k m_k) = Π exp(m_k/q_k)^{p_k}`` holds for complex ``m_k`` too.
    ``e.exp`` is the exponent (here and in the rational route): ``isinstance(Pow(E, x, evaluate=False), sp.exp)``
    is true and its ``args[0]`` is the base ``E`` (taking that made ``E**x − exp(E)`` "0")."""
    return expr.replace(lambda e: isinstance(e, sp.exp) and _real_exponent(e.exp),
                        lambda e: _exp_product(e.exp))


_ZEROS: set = set()  # expressions already shown to be 0 (exactly) in this process


def _known_zero(expr) -> bool:
    """``expr`` is 0 by algebra alone from expressions already shown 0: it is one of them, a product with
    such a factor, or a sum of such terms (so ``A1ᵀ dP A2 = 0`` follows from ``dP = 0`` shown before)."""
    if expr in _ZEROS:
        return True
    if expr.is_Mul:
        return any(_known_zero(f) for f in expr.args if f.is_Add or f in _ZEROS)
    if expr.is_Add:
        return all(_known_zero(t) for t in expr.args)
    return False


def _divides_by_known_zero(expr) -> bool:
    """Some power of ``expr`` with a negative exponent has a base :func:`_known_zero` (``Z·(1 + 1/Z)`` with ``Z``
    shown 0 before: 0 times an undefined factor, nan, never 0)."""
    return any(a.is_Pow and a.exp.is_negative and _known_zero(a.base) for a in sp.preorder_traversal(expr))


class _Undecided(Exception):
    """The exact rational route does not apply (a Float anywhere, a non-commutative or infinite part, a division
    by the zero rational function)."""


class _ZeroDenominator(_Undecided):
    """A division by the zero rational function: that denominator is 0 wherever it is defined (a zero rational
    function of independent generators stays 0 under every substitution), so the expression is defined nowhere
    and :func:`is_zero` refuses it outright (``cancel`` calls ``0/(x − x·1)``, built unevaluated, 0; sympy: nan)."""


def _not_a_number(e) -> bool:
    """``e`` is ``nan``, an infinity or an accumulation bound (a set of values): never an indeterminate, since
    ``x·nan − x·nan`` or ``AccumBounds(-1, 1) − AccumBounds(-1, 1)`` (built unevaluated) is not 0 (sympy: ``nan``,
    ``AccumBounds(-2, 2)``)."""
    return e in (sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity) or isinstance(e, sp.AccumBounds)


def _infinite_part(expr) -> bool:
    """A :func:`_not_a_number` term, factor, base or exponent in the sum/product/power structure of ``expr``
    (not inside a function: ``f(oo)`` is a value). Neither route may call such an expression 0: ``cancel`` of
    ``x·nan − x·nan`` or ``zoo·x − zoo·x`` built unevaluated is 0, though sympy evaluates them to ``nan`` and
    ``2·zoo·x``."""
    if _not_a_number(expr):
        return True
    return (expr.is_Add or expr.is_Mul or expr.is_Pow) and any(_infinite_part(a) for a in expr.args)


def _generator(e):
    """The generator a non-rational leaf stands for: ``b^(p/q)`` is ``(b^(1/q))^p``, anything else itself."""
    if e.is_Pow and e.exp.is_Rational:
        return sp.Pow(e.base, sp.Rational(1, e.exp.q))
    return e


def _leaves(expr, gens: dict) -> None:
    """Collect the generators of ``expr`` (numbered by first sight) into ``gens``; raise :class:`_Undecided` where
    the rational route does not apply."""
    if expr.is_Add or expr.is_Mul or expr.is_Pow and expr.exp.is_Integer:
        for a in expr.args:
            _leaves(a, gens)
    elif isinstance(expr, sp.exp):
        _leaves(_exp_product(expr.exp), gens)
    elif _not_a_number(expr) or not expr.is_commutative:
        raise _Undecided
    elif not expr.is_Rational:
        gens.setdefault(_generator(expr), len(gens))


def _rational_zero(expr) -> bool:
    r"""``expr`` is 0 as a rational function over ℚ of independent generators (exact, python-flint ``fmpz_mpoly``).

    The generators are the symbols, the fresh ``E_k`` of ``exp`` (:func:`_exp_product`), the ``q``-th roots
    ``b^(1/q)`` of a rational power ``b^(p/q)``, and any other leaf (``Abs(x)``, ``pi``, a function of anything)
    taken whole, as an indeterminate. Each sum and product is built as a fraction ``P/Q`` of integer polynomials
    (``Q`` never the zero polynomial: a power ``(P/Q)^{-k}`` with ``P = 0`` is refused), so ``expr = P/Q`` with
    ``P = 0`` means ``expr`` is the zero rational function. That is sound for the expression whatever the
    generators stand for: a rational function of independent indeterminates that is 0 stays 0 under every
    substitution (where it is defined) — relations between the generators (``sqrt(2)² = 2``, ``|x|² = x²``,
    ``exp(x/2)² = exp(x)``) are only ever *not* used, which can lose a zero (the sympy route then decides), never
    invent one. No gcd is needed to decide: ``P/Q = 0`` exactly when ``P = 0``; the gcds taken (the common
    denominator of a sum, the fraction cancelled after each node) only keep the polynomials small. Coefficients are
    integers and rationals only: an expression with a ``Float`` anywhere is refused (:class:`_Undecided`), never
    rounded into ℚ, so a float's behaviour stays sympy's (``cancel`` over ``RR``)."""
    if expr.has(sp.Float):
        raise _Undecided
    gens: dict = {}
    _leaves(expr, gens)
    ring = _RING(tuple(f"g{k}" for k in range(len(gens))), "lex")
    names, one, memo = ring.gens(), ring.constant(1), {}

    def frac(e):
        r = memo.get(e)
        if r is not None:
            return r
        if e.is_Add or e.is_Mul:
            p, q = frac(e.args[0])
            for t in e.args[1:]:
                a, b = frac(t)
                if e.is_Mul:
                    p, q = p * a, q * b
                elif q == b:
                    p = p + a
                else:
                    g = q.gcd(b)
                    p, q = p * (b // g) + a * (q // g), q * (b // g)
            if not p.is_zero() and not q.is_constant():
                g = p.gcd(q)
                p, q = p // g, q // g
            r = p, q
        elif e.is_Pow and e.exp.is_Integer:
            p, q = frac(e.base)
            k = int(e.exp)
            if k < 0:
                if p.is_zero():
                    raise _ZeroDenominator
                p, q, k = q, p, -k
            r = p ** k, q ** k
        elif isinstance(e, sp.exp):
            r = frac(_exp_product(e.exp))
        elif e.is_Rational:
            r = one * int(e.p), one * int(e.q)
        else:
            g, k = names[gens[_generator(e)]], int(e.exp.p) if e.is_Pow and e.exp.is_Rational else 1
            r = (g ** k, one) if k > 0 else (one, g ** -k)
        memo[e] = r
        return r

    return frac(expr)[0].is_zero()


def is_zero(expr) -> bool:
    """Exact zero test: ``True`` only if ``expr`` is exactly 0 (a ``False`` means it could not be shown). First
    :func:`_rational_zero` (exact rational-function arithmetic, python-flint); where that does not show 0, the
    sympy route: ``cancel`` after :func:`_atomize`, then ``simplify`` for small expressions."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if _infinite_part(expr):
        return False
    if _known_zero(expr):
        return not _divides_by_known_zero(expr)
    fast = _fast_zero(expr)
    if fast is None:
        return False
    if (fast or sp.cancel(_atomize(expr)) == 0
            or sp.count_ops(expr) < 400 and sp.simplify(expr) == 0):
        _ZEROS.add(expr)
        return True
    return False


def _fast_zero(expr) -> bool | None:
    """:func:`_rational_zero`, ``False`` where it does not apply (no python-flint mpoly, or :class:`_Undecided`),
    ``None`` where it finds a division by the zero function (:class:`_ZeroDenominator`: never 0)."""
    if _RING is None:
        return False
    try:
        return _rational_zero(expr)
    except _ZeroDenominator:
        return None
    except (_Undecided, RecursionError):
        return False
