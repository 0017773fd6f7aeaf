"""Registered checks: this explicit import list is the whole registry (no discovery)."""
from . import accuracy  # noqa: F401
from . import production_vs_reference  # noqa: F401
