"""Every lemma of :mod:`attnreg.proofs` as a registered check, so ``attnreg verify`` includes them.

``lemma.<id>`` (quick tier) re-runs every step at the lemma's quick symbolic sizes — each identity an
exact sympy identity, each bound a chain of named rules composed by sympy — which earns "proved"; the
numeric second route (≥ 50 digits through attnreg.reference at larger sizes) must agree too, and its
figures are reported in the detail. ``lemma.<id>.slow`` (slow tier) verifies the steps at the other
symbolic sizes (n ∈ {2, 3}, d ∈ {1, 2}).
"""
from __future__ import annotations

import random

from attnreg.proofs import LEMMAS, verify
from attnreg.proofs._numeric import context

from ..registry import Result, check


def _quick(lemma):
    def run(*, seed):
        v = verify(lemma)
        num = lemma.numeric(context(50), random.Random(seed))
        return Result.of(v.ok and num.ok, measured=num.measured, bound=num.bound,
                         detail=f"symbolic: {v.detail}; numeric route ({'confirmed' if num.ok else 'FAILED'}): "
                                f"{num.detail}")
    return run


def _slow(lemma):
    def run(*, seed):
        v = verify(lemma, lemma.slow_sizes)
        return Result.of(v.ok, detail=f"symbolic: {v.detail}")
    return run


for _id, _lemma in LEMMAS.items():
    # the formal statement (proofs/_statement.py); the title is a name that claims nothing (proofs/_title.py)
    _claim = f"Lemma {_id}: {_lemma.claim} (name: {_lemma.title})"
    check(f"lemma.{_id}", claim=_claim, evidence="proved", lemma=_id)(_quick(_lemma))
    if _lemma.slow_sizes:
        check(f"lemma.{_id}.slow", claim=_claim + " (at the slow-tier symbolic sizes)", evidence="proved",
              tier="slow", lemma=_id)(_slow(_lemma))
