"""Registered checks (explicit import list)."""
