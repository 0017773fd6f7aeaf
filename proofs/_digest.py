r"""A digest of an identity step as built (label, claim, both sides' expression trees): the same in every process,
so that hand-reviewed tables (:mod:`._fixed`, :mod:`._linked`) can pin the very step they were written for."""
from __future__ import annotations

import hashlib

import sympy as sp

from ._core import Step


def _atom(e) -> bytes:
    """A leaf: its text, and a symbol's assumptions (``|x|`` of a positive x is x)."""
    facts = sorted(e.assumptions0.items()) if isinstance(e, sp.Symbol) else ()
    return f"{e}|{facts}".encode()


def _tree(e, memo: dict) -> bytes:
    """A digest of the expression tree ``e``: its class and atoms, then its arguments in sympy's own order (Add and
    Mul sort them by ``Basic.compare``, which reads no Python hash, so the digest is the same in every process).
    Each distinct subtree is digested once: ``str`` of the largest steps (10⁵ characters) costs seconds."""
    if isinstance(e, sp.MatrixBase):
        parts = [f"Matrix{e.shape}".encode(), *(_tree(x, memo) for x in e)]
    elif isinstance(e, list | tuple):
        parts = [b"list", *(_tree(x, memo) for x in e)]
    else:
        e = sp.sympify(e)
        if e in memo:
            return memo[e]
        parts = [type(e).__name__.encode(), *((_tree(a, memo) for a in e.args) if e.args else [_atom(e)])]
    out = hashlib.sha256(b"\0".join(parts)).digest()
    if not isinstance(e, sp.MatrixBase | list | tuple):
        memo[e] = out
    return out


UNPINNED = "unpinned"  # what a step that is not a plain Step with a plain str claim digests to: no table holds it


def digest(label: str, step, claim: str | None = None) -> str:
    """The digest of an identity step as built at the checker's base size: its label, claim (``claim``, when the
    caller read it already: the text it will use) and both sides. Only a :class:`._core.Step` itself with a ``str``
    claim has one: a ``str`` subclass can encode other characters than it shows (``encode`` overridden), and a
    subclass of Step can show another claim than the one digested (a property); both get :data:`UNPINNED`."""
    claim = step.claim if claim is None else claim
    if type(step) is not Step or type(claim) is not str:
        return UNPINNED
    memo: dict = {}
    text = b"\n".join([label.encode(), claim.encode(), _tree(step.lhs, memo), _tree(step.rhs, memo)])
    return hashlib.sha256(text).hexdigest()[:16]
