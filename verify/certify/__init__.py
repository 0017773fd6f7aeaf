r"""Certified Lipschitz bounds: interval branch-and-bound in arb ball arithmetic, a certificate file, and an
independent checker.

``run`` (:mod:`.bnb`) encloses the Jacobian of ``f`` or the Hessian of the loss on dyadic sub-boxes of
``{x : ||x − c||∞ ≤ r}`` (:mod:`.enclose`, :mod:`.jet`), bounds its spectral norm (:mod:`.specnorm`) and
bisects until every box is below the target. :mod:`.certificate` writes the result; :mod:`.checker`
re-derives every bound through separate code (:mod:`.check_formulas`). Specs: :mod:`.spec`.

Why arb and not ``mpmath.iv``: arb guarantees that every output ball contains the exact result;
``mpmath.iv.exp`` can return an interval that misses ``exp(x)`` (its upper end is computed with a
directed rounding of an exponential that is not correctly rounded — tests/test_certify_iv.py pins
points where this happens), so mpmath.iv may serve only as a cross-check.
"""
from .bnb import run
from .checker import Rejected, check
from .spec import Spec, SpecError

__all__ = ["run", "check", "Rejected", "Spec", "SpecError"]
