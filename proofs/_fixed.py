r"""The identity steps checked at fixed sizes only that were reviewed by hand: the checker accepts no others.

An identity step (or side identity) with an index form (:mod:`.index_vector`, :mod:`.index_matrix`, or a
size-free scalar of :data:`.index_vector.SIZE_FREE`) is proved for every n and d (:mod:`.index_table`). One
without is decided by sympy at the checker's sizes only (n = 3; d = 2, 3), and that is not a proof for every n:
``e₄(v) = 0`` written by Newton's identities in the power sums is one formula at every size, 0 at n ≤ 3 and
``v_0 v_1 v_2 v_3`` at n = 4. So :func:`reviewed` accepts such a step only if it is listed here, keyed by what the
checker sees — the lemma id, the step's label (its position, counted by the checker) and a digest of its claim
and both sides as built at n = 3, d = 2 (their expression trees: :func:`._digest.digest`, the same in every process) —
never by anything a lemma module declares about itself. A forged module cannot add to the list; a changed step
falls out of it (its digest changes) and must be reviewed again (:func:`._review_tools.fixed_steps` prints the digests).

What :func:`has_index_form` reads is the tables' keys ``(lemma id, label)`` *and* the digest of the step the key's
index form was linked to (:data:`._linked.LINKED`): a key alone proved nothing about the step a lemma builds at
that label (a lemma wearing ``row_shift``'s id with ``e₄(v) = 0`` as its step 1 was accepted; see
:mod:`._linked`). That each linked digest is of a step whose link holds is :mod:`.index_table`'s business (the
test suite), not redone here (about 30 s of CPU over the 105 keyed steps).

Each entry's reason says why the step holds for every n and d although no index form proves it; each was read
against the step (December 2026, the 14 fixed-size steps of the 57 lemmas, listed from ``attnreg proofs show``).
"""
from __future__ import annotations

from . import index_matrix, index_vector
from ._digest import digest
from ._linked import LINKED
from ._sizes import _families

_KRON = ("rows j·n … j·n + n − 1 of A1 ⊗ A2 are the block A1[j,:] ⊗ A2: in pair indices both sides are "
         "A1[j,i] A2[m,k] by the definition of ⊗ for every size, so the step states the row-major flattening "
         "itself, which has no symbolic-n index form")
_LOOP = ("the blocks A_[j] = A1[j,:] ⊗ A2 are a Python loop over j (a sum of n block products), which the index "
         "form cannot read; entry (i, k) of Σ_j A_[j]ᵀ p_j is Σ_{j,m} A1[j,i] P[j,m] A2[m,k], the pair-index "
         "identity kron_blocks step 5, proved for all n, d; per row the chain rule is the vector-form gradient, "
         "proved for all n, d")
_XZW = ("A2 is constructed (solved) so that A2 w = 1ₙ; given that, the step is the vector-form row-shift "
        "invariance (row_shift, proved for all n, d) applied row by row, which holds for every n: the construction, "
        "not an identity in free entries, is what the step checks")

REVIEWED_FIXED: dict[tuple[str, str, str], str] = {
    ("kron_blocks", "step 1", "6bd47af471ed1bac"): _KRON,
    ("matrix_logit_box", "step 3 side 1", "1462cf792ce92715"): _KRON,
    ("matrix_grad_normalized", "step 1", "eaab44f4998e3c77"): "L_N(X) = Σ_j ½‖f(A_[j] x) − b_j‖²: " + _LOOP,
    ("matrix_grad_normalized", "step 2", "bb32f6e44dd17ebc"): "vec(∇_X L_N) = Σ_j A_[j]ᵀ p_j: " + _LOOP,
    ("matrix_grad_rescaled", "step 1", "d21bb04c2c46f028"): "L_R(X) = Σ_j ½‖u(A_[j] x) − α_j b_j‖²: " + _LOOP,
    ("matrix_grad_rescaled", "step 2", "8bbcc7424efb891f"): "vec(∇_X L_R) = Σ_j A_[j]ᵀ p_j: " + _LOOP,
    ("xzw_invariance", "step 1", "61a662090c88ab95"): "A2 w = 1ₙ: " + _XZW,
    ("xzw_invariance", "step 2", "ffefb9fa2fa3e99d"): "A1 (z wᵀ) A2ᵀ = (A1 z) 1ₙᵀ: " + _XZW,
    ("xzw_invariance", "step 3", "68fd3102f886b136"): "A1 (X + z wᵀ) A2ᵀ = S + (A1 z) 1ₙᵀ: " + _XZW,
    ("xzw_invariance", "step 4", "0bdbdd1efab7f80b"): "F(X + z wᵀ) = F(X): " + _XZW,
    ("xzw_invariance", "step 5", "cb791b0dc002d737"): "L_N(X + z wᵀ) = L_N(X): " + _XZW,
    ("xzw_invariance", "step 6", "0d873618446e992b"): "dP = 0 (rows K_j ds_j with ds_j ∥ 1ₙ, K_j 1ₙ = 0): " + _XZW,
    ("xzw_invariance", "step 7", "f44dede8a5ef1553"): "A1ᵀ dP A2 = 0 follows from dP = 0 (step 6); that it is "
    "∇²L_N(X)[z wᵀ] is the chain rule Lemma matrix_hvp trusts, not claimed (review RVPROOFS4): " + _XZW,
    ("softmax_jacobian_half", "step 2 side 1", "31925c3edbcfabfd"):
        "Σ_j |J_ij| = 2 f_i(1 − f_i) needs the signs of the entries (J_ii = f_i(1 − f_i) ≥ 0, J_ij = −f_i f_j ≤ 0 "
        "for j ≠ i, so the sum is f_i(1 − f_i) + f_i Σ_{j≠i} f_j = 2 f_i(1 − f_i) as Σ_j f_j = 1), which the "
        "normaliser does not reason about; proved for every n in Coq (SoftmaxRowSum.v, `attnreg proofs export "
        "--coq`)",
}


# The reviewed steps that hold by the construction of the lemma's objects, not as identities in free entries: every
# other step of the lemma is built on those objects (xzw_invariance's steps 2–7 read the solved A2), so the lemma's
# claim must state each of these as a premise (:mod:`._statement`). Shown, or left out, "A2 w = 1ₙ" would be
# claimed for every A2 and w, and "L_N(X + z wᵀ) = L_N(X)" without its hypothesis — both false in general.
CONSTRUCTIONS: dict[tuple[str, str, str], str] = {
    ("xzw_invariance", "step 1", "61a662090c88ab95"): "A2's last column is solved from A2 w = 1ₙ",
}


def construction(lemma_id: str, label: str, step) -> str | None:
    """Why step ``label`` of ``lemma_id`` holds by construction (a premise of everything the lemma states), or
    ``None``."""
    return CONSTRUCTIONS.get((lemma_id, label, digest(label, step)))


def has_index_form(lemma_id: str, label: str, step, claim: str | None = None) -> bool:
    """The step has an index form (proved for every n and d by :mod:`.index_table`) linked to this very step (its
    digest is the linked one: :data:`._linked.LINKED`), or is a reviewed size-free scalar identity with no sized
    symbols, pinned by its digest the same way (names outside the sized families, ``v0, v1, v2``, are not seen as
    sized)."""
    key = (lemma_id, label)
    if key in index_vector.STEPS or key in index_matrix.STEPS:
        return LINKED.get(key) == digest(label, step, claim)
    return key in index_vector.SIZE_FREE and not _families(step) and LINKED.get(key) == digest(label, step, claim)


def reviewed(lemma_id: str, label: str, step, claim: str | None = None) -> str | None:
    """The reason the fixed-size step ``label`` of ``lemma_id`` (built at n = 3, d = 2) holds for every n and d,
    or ``None`` when it is not among the reviewed steps (``claim``: the claim text the caller read, digested in
    place of ``step.claim``, as in :func:`has_index_form`)."""
    return REVIEWED_FIXED.get((lemma_id, label, digest(label, step, claim)))


def fixed_size_failures(lemma_id: str, identities) -> list[str]:
    """One failure per identity step of ``identities`` (``[(label, step)]`` at the base size) that has no index
    form and is not reviewed."""
    def what(label) -> str:
        if any((lemma_id, label) in t for t in (index_vector.STEPS, index_matrix.STEPS, index_vector.SIZE_FREE)):
            return (f"{label} has an index form only for the step it was linked to (proofs/_linked.py), not this "
                    "one, so it is checked at fixed sizes only and is not among the reviewed fixed-size steps")
        return (f"{label} is checked at fixed sizes only, has no index form, and is not among the reviewed "
                "fixed-size steps")
    return [f"{what(label)} ({step.claim})" for label, step in identities
            if not has_index_form(lemma_id, label, step) and reviewed(lemma_id, label, step) is None]


__all__ = ["CONSTRUCTIONS", "REVIEWED_FIXED", "construction", "fixed_size_failures", "has_index_form", "reviewed"]
