r"""A reviewer's tools for the hand-kept tables :mod:`._fixed` and :mod:`._linked`: print the digests of the steps
as built now (``python -c "from attnreg.proofs._review_tools import fixed_steps; fixed_steps()"``), to read against
the tables after a lemma's steps change. Nothing in the package imports this module."""
from __future__ import annotations

from . import LEMMAS, index_matrix, index_table, index_vector
from ._digest import digest
from ._fixed import has_index_form, reviewed
from ._sizes import identities


def fixed_steps() -> None:  # pragma: no cover - a reviewer's tool
    """Print the digest of every identity step with no index form, and whether it is reviewed."""
    for lid, lem in LEMMAS.items():
        for label, s in identities(lem):
            if not has_index_form(lid, label, s):
                state = "reviewed" if reviewed(lid, label, s) else "NOT reviewed"
                print(f"({lid!r}, {label!r}, {digest(label, s)!r}): {state} — {s.claim}")


def linked_steps() -> None:  # pragma: no cover - a maintainer's tool
    """Print :data:`._linked.LINKED`'s rows: the digests of the keyed steps whose link holds."""
    for lemma in LEMMAS.values():
        steps = dict(identities(lemma))
        for r in index_table.rows(lemma):
            key = (lemma.id, r.label)
            if key in index_vector.STEPS or key in index_matrix.STEPS or key in index_vector.SIZE_FREE:
                state = "" if r.status == "all n, d" else f"  # NOT linked: {r.how}"
                print(f"    {key!r}: {digest(r.label, steps[r.label])!r},{state}")


__all__ = ["fixed_steps", "linked_steps"]
