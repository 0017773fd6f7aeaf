"""The claim-file expression parser: a whitelist walked by hand, into sympy, floats and mpmath."""
import math

import mpmath
import pytest
import sympy

from attnreg.verify.claims.expr import ExprError, parse

n, d, R = (sympy.Symbol(s, positive=True) for s in ("n", "d", "R"))


@pytest.mark.parametrize("text,expected", [
    ("R/2", R / 2),
    ("3.25*R**2", sympy.Rational(13, 4) * R**2),
    ("n**1.5*exp(10*R**2)", n**sympy.Rational(3, 2) * sympy.exp(10 * R**2)),
    ("(1 + sqrt(n))*R*exp(R**2)", (1 + sympy.sqrt(n)) * R * sympy.exp(R**2)),
    ("-log(d) + +2", -sympy.log(d) + 2),
    (7, sympy.Integer(7)),
    (0.1, sympy.Rational(1, 10)),
])
def test_to_sympy_is_exact(text, expected):
    assert sympy.simplify(parse(text).to_sympy() - expected) == 0


def test_float_and_mpmath_evaluation_agree():
    e = parse("n**1.5*exp(10*R**2)/sqrt(d) - log(R)")
    env = dict(n=5, d=3, R=0.75)
    exact = 5**1.5 * math.exp(10 * 0.75**2) / math.sqrt(3) - math.log(0.75)
    assert e.evaluate(env) == pytest.approx(exact, rel=1e-14)
    ctx = mpmath.MPContext()
    ctx.dps = 60
    assert abs(e.evaluate(env, ctx=ctx) - exact) < 1e-10
    assert parse("0.1").evaluate({}, ctx=ctx) == ctx.mpf(1) / 10  # decimal literals, not binary floats


@pytest.mark.parametrize("text", ["__import__('os')", "R**", "R^2", "x", "exp(R, 2)", "exp(x=R)", "[R]",
                                  "R if n else d", "lambda: 1", "'s'", "True", "a.b", "R < 2", "10**10**10",
                                  "(R).__class__", "f(R)", "", "1/0", "sqrt(-1)", "1e400"])
def test_rejections(text):
    with pytest.raises(ExprError):
        parse(text)


@pytest.mark.parametrize("text,env", [("log(R - 1)", dict(R=0.5)), ("1/(n - 1)", dict(n=1)),
                                      ("exp(R**2)", dict(R=40.0)), ("(-R)**0.5", dict(R=2.0))])
def test_undefined_values_raise(text, env):
    with pytest.raises(ExprError):
        parse(text).evaluate(env)
