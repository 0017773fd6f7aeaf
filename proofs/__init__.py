"""Symbolic derivations (sympy): one lemma per module."""
