"""A second review's forgeries (new lemma modules stating false things): each must be rejected by
``verify`` with a reason, or is a strict xfail that shows the hole."""
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, Lemma, verify
from attnreg.proofs._core import cite

DOC = "Lemma {} (forgery): a false statement.\n\nStatement\n    s\nDerivation\n    d\nCheck\n    c\n"


def forged(name, steps, goal=None, requires=(), assume=(), bound=None):
    return Lemma(doc=DOC.format(name), steps=steps, goal=goal, requires=requires, assume=assume, bound=bound)


def test_a_lemma_citing_itself_or_a_cycle_is_rejected_not_a_crash():
    au = LEMMAS["alpha_upper"]
    me = forged("f_self", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_self", "alpha_upper"),
                assume=au.assume)
    v = verify(me, known=dict(LEMMAS, f_self=me), numeric=False)
    assert not v.symbolic_ok and any("cycle" in f for f in v.failures)
    one = forged("f_c1", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_c2", "alpha_upper"), assume=au.assume)
    two = forged("f_c2", lambda n_, d_: [cite(au, {})], au.goal, requires=("f_c1", "alpha_upper"), assume=au.assume)
    known = dict(LEMMAS, f_c1=one, f_c2=two)
    for lem in (one, two):
        v = verify(lem, known=known, numeric=False)
        assert not v.symbolic_ok and "f_c" in "; ".join(v.failures)
    assert any("cycle (f_c1 → f_c2 → f_c1)" in f or "cycle (f_c2 → f_c1 → f_c2)" in f
               for f in verify(two, known=known, numeric=False).failures + verify(one, known=known,
                                                                                   numeric=False).failures)
    assert verify(LEMMAS["alpha_upper"]).ok  # real requires are untouched
