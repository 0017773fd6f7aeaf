"""How sure we are: the five evidence words (docs/design.md §4), one type for proofs, claims and checks.

* ``proved`` — a chain of derivation steps the proof checker accepts (:mod:`attnreg.proofs`);
* ``certified`` — a rigorous enclosure in ball arithmetic, written to a file an independent checker
  re-derives (``attnreg certify``);
* ``confirmed`` — a high-precision (≥ 50 digits) evaluation agrees;
* ``survived`` — an adversarial search found no violation (the worst ratio and the search's reach are
  reported with it);
* ``refuted`` — a counterexample, confirmed at ≥ 50 digits, saved with a command that replays it.

A ``str`` enum, so that the words read and serialise as themselves (``Evidence.PROVED == "proved"``).
"""
from __future__ import annotations

from enum import Enum


class Evidence(str, Enum):
    PROVED = "proved"
    CERTIFIED = "certified"
    CONFIRMED = "confirmed"
    SURVIVED = "survived"
    REFUTED = "refuted"

    def __str__(self) -> str:
        return self.value
