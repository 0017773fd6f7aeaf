"""Eighth review of the proof checker (attacking review 7's fixes): a genuine ``sp.Symbol`` whose assumptions were
replaced after it was made (equal to R and printed R, negative to sympy's questions) proved false bounds, also a
Bound listed by ``bound_lemmas()``; and a forged lemma made "equal" to a real one by a ``Mul`` subclass's ``__eq__``
received the real lemma's cached verdict with no check run. Symbols are now checked against the checker's own
(hash and every fact), and the checker's caches key lemmas by identity."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs import logit_box as lb
from attnreg.proofs import u_upper as uu
from attnreg.proofs._statement import stated
from attnreg.proofs.symbols import R, n

pytestmark = pytest.mark.xdist_group("lemmas")


def altered_r():
    """A plain Symbol equal to R and printed R whose live facts say negative (the hash frozen under another name)."""
    twin = sp.Symbol.__xnew__(sp.Symbol, "R~", positive=True)
    hash(twin)
    twin.name = "R"
    facts = twin._assumptions.copy()
    facts.clear()
    facts.update(commutative=True, real=True, extended_real=True, negative=True, extended_negative=True,
                 positive=False, extended_positive=False, nonnegative=False, extended_nonnegative=False,
                 nonpositive=True, extended_nonpositive=True, zero=False, nonzero=True, extended_nonzero=True,
                 finite=True, infinite=False, complex=True, hermitian=True, imaginary=False)
    twin._assumptions = facts
    return twin


def test_a_symbol_altered_after_it_was_made_is_refused():
    """Was proved: ‖Ax‖_∞ ≤ R² − R/10⁶ if ‖A‖, ‖x‖ ≤ R (false for every R > 0); compose read the twin as negative."""
    twin = altered_r()
    assert twin == R and str(twin) == "R" and twin.is_negative
    lem = stated(dataclasses.replace(LEMMAS["logit_box"], goal=Goal(lb.INF, "<=", R ** 2 - twin / 10 ** 6)))
    v = verify(lem, known=dict(LEMMAS, logit_box=lem))
    assert not v.ok and any("it was altered after it was made" in f for f in v.failures), v.failures


class Fake(sp.Mul):
    """Claims to equal (and hashes like) u_upper's real constant √n e^{R²}."""

    def __eq__(self, other):
        return other is LEMMAS["u_upper"].bound.value or sp.Mul.__eq__(self, other)

    def __hash__(self):
        return hash(LEMMAS["u_upper"].bound.value)


def test_a_lemma_equal_to_a_real_one_by_a_lying_eq_does_not_get_its_cached_verdict():
    """Was proved after the real u_upper had been verified in the process: ‖u(x)‖ ≤ √n e^{R²}/10 (false at n = 1)."""
    real = LEMMAS["u_upper"]
    assert verify(real).ok
    small = Fake(sp.sqrt(n) / 10, sp.exp(R ** 2))
    bound = dataclasses.replace(real.bound, value=small)
    forged = dataclasses.replace(real, goal=Goal.of(bound, uu.U2), bound=bound)
    assert forged == real  # what the cache used to ask
    v = verify(forged, known=dict(LEMMAS, u_upper=forged))
    assert not v.ok and any("Fake, which is not in the checker's vocabulary" in f for f in v.failures), v.failures
    assert verify(real).ok  # and the real lemma's verdict is its own
