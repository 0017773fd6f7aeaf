"""Theorem-constant claims: claim files, adversarial search, confirmed refutations, replay.

A claim file states bounds on the paper's building blocks in a small TOML vocabulary
(:mod:`.claimfile`, :mod:`.assume`, :mod:`.expr`). :func:`check_claim` says whether a claim is
*proved* (a derived lemma of ``attnreg.proofs`` covers it, :mod:`.prove`), *survived* an adversarial
search (:mod:`.search`), or is *refuted* by a counterexample confirmed at ≥ 50 digits
(:mod:`.confirm`, re-checked by :func:`replay`). :mod:`.report` renders the tightness report;
:mod:`.icl_report` the in-context-learning table. Built-in claims: ``derived.toml`` (our constants)
and ``precursor.toml`` (the recalled factor of 2304.13276).
"""
from pathlib import Path

from .verdict import Outcome, check_claim, to_json
from .claimfile import Claim, ClaimError, load, loads
from .replay import ReplayError, replay

__all__ = ["Claim", "ClaimError", "load", "loads", "builtin_paths", "builtin", "check_claim", "Outcome", "to_json",
           "replay", "ReplayError"]


def builtin_paths() -> list[Path]:
    """The built-in claim files (installed as package data)."""
    return sorted(Path(__file__).parent.glob("*.toml"))


def builtin() -> list[Claim]:
    return load(builtin_paths())
