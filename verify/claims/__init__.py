"""Theorem-constant claims: claim files, search, refutation (issue 5)."""
