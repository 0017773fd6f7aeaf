"""The catalogue: every registered check, loaded once, and the selection the CLI and the tests share.

Registering happens on import of :mod:`.checks` (an explicit list of modules); :mod:`.registry` itself
knows no check, so the checks can import it without a cycle.
"""
from __future__ import annotations

import fnmatch

from . import checks  # noqa: F401  (importing the modules registers their checks)
from .registry import REGISTRY, Check


def select(pattern: str | None = None, *, tiers=("quick",)) -> list[Check]:
    """Registered checks of the given tiers whose name contains ``pattern`` (or matches it as a glob)."""
    chosen = [c for c in REGISTRY.values() if c.tier in tiers]
    if pattern:
        chosen = [c for c in chosen if pattern in c.name or fnmatch.fnmatchcase(c.name, pattern)]
    return sorted(chosen, key=lambda c: c.name)
