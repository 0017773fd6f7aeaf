r"""The identity steps of the matrix-form lemmas in index notation with two ranges, or why they stay at fixed sizes.

``X, Y, V`` are d × d, ``A1, A2`` (and the moved ``B1, B2``) n × d, ``P, Q`` n × n. A row-major ``vec`` and a
Kronecker product are written in pair indices: ``vec(M)_(j,m) = M_jm`` and
``(P ⊗ Q)_((j,m),(i,k)) = P_ji Q_mk`` — their definitions; the flattening ``(j, m) ↦ j·n + m`` is a bijection
applied to both sides alike, and :func:`.index_table.link` checks at the checker's size that the lemma's own
matrices are these pair-index forms (a free "axis" ``((j, "n"), (m, "n"))`` is flattened row-major). Then a
matrix identity of vec's and ⊗'s is an identity of finite sums in ``n, d``, proved by
:func:`.index_form.normal_form` as in :mod:`.index_vector`.

:data:`FIXED` says, step by step, why the other matrix-form identities are decided at the checker's sizes
only (read by ``attnreg proofs show`` and ``attnreg proofs check``).
"""
from __future__ import annotations

import sympy as sp

from .index_vector import Soft, delta, total

A1, A2, B1, B2, X, Y, V, P, Q = (sp.IndexedBase(k) for k in ("A1", "A2", "B1", "B2", "X", "Y", "V", "P", "Q"))
vv, ww, z = sp.IndexedBase("v"), sp.IndexedBase("w"), sp.IndexedBase("z")
j, mm, i, k, i2, k2 = sp.symbols("j mm i k i2 k2", integer=True)
t = sp.Symbol("t")


def _at(Z, p, q):
    """Entry ``(p, q)`` of ``Z``: an IndexedBase, or a function of the two indices."""
    return Z(p, q) if callable(Z) else Z[p, q]


def S(M1, Z, M2, a, c):
    """``(M1 Z M2ᵀ)_ac = Σ_k (Σ_i M1_ai Z_ik) M2_ck`` (two matrix products, as sympy builds them)."""
    return total(lambda q: total(lambda p: M1[a, p] * _at(Z, p, q), "d") * M2[c, q], "d")


def kron_vec(M1, M2, Z, a, c):
    """``((M1 ⊗ M2) vec(Z))_(a,c) = Σ_(i,k) M1_ai M2_ck Z_ik``."""
    return total(lambda p: total(lambda q: M1[a, p] * M2[c, q] * _at(Z, p, q), "d"), "d")


def gram(M, a, c):
    """``(Mᵀ M)_ac = Σ_j M_ja M_jc``."""
    return total(lambda q: M[q, a] * M[q, c])


PAIR_N = (((j, "n"), (mm, "n")),)
PAIR_D = (((i, "d"), (k, "d")),)
NN = ((j, "n"), (mm, "n"))
_vecS = lambda Z: (S(A1, Z, A2, j, mm), kron_vec(A1, A2, Z, j, mm), PAIR_N)  # noqa: E731
_DIFF = lambda: (S(A1, X, A2, j, mm) - S(A1, Y, A2, j, mm),  # noqa: E731
                 kron_vec(A1, A2, lambda p, q: X[p, q] - Y[p, q], j, mm), PAIR_N)
_ADJ = lambda: (total(lambda q: total(lambda p: A1[p, i] * (P[p, q] - Q[p, q])) * A2[q, k]),  # noqa: E731
                total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * (P[p, q] - Q[p, q]))), PAIR_D)

STEPS = {
    ("tensor_trick", "step 1"): lambda: (S(A1, X, A2, j, mm), kron_vec(A1, A2, X, j, mm), NN),
    ("tensor_trick", "step 2"): lambda: _vecS(X),
    ("tensor_trick", "step 3"): lambda: (S(A1, X, A2, j, mm), kron_vec(A2, A1, lambda p, q: X[q, p], mm, j),
                                         (((mm, "n"), (j, "n")),)),
    ("tensor_trick", "step 4"): lambda: (total(lambda p: total(lambda q: X[p, q] ** 2, "d"), "d"),
                                         total(lambda q: total(lambda p: X[p, q] * X[p, q], "d"), "d"), ()),
    ("kron_norm", "step 2 side 1"): lambda: (
        total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * A1[p, i2] * A2[q, k2])),
        gram(A1, i, i2) * gram(A2, k, k2), PAIR_D + (((i2, "d"), (k2, "d")),)),
    ("kron_norm", "step 2 side 2"): lambda: (
        total(lambda p: total(lambda q: gram(A1, i, p) * gram(A2, k, q) * vv[p] * ww[q], "d"), "d"),
        total(lambda p: gram(A1, i, p) * vv[p], "d") * total(lambda q: gram(A2, k, q) * ww[q], "d"), PAIR_D),
    ("kron_blocks", "step 2"): lambda: (kron_vec(A1, A2, X, j, mm), S(A1, X, A2, j, mm), PAIR_N),
    ("kron_blocks", "step 3"): lambda: (kron_vec(A1, A2, X, j, mm), total(lambda q: A2[mm, q] * total(
        lambda p: X[p, q] * A1[j, p], "d"), "d"), PAIR_N),
    ("kron_blocks", "step 4"): lambda: (total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * P[p, q])),
                                        total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * P[p, q])), PAIR_D),
    ("kron_blocks", "step 5"): lambda: (total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * P[p, q])),
                                        total(lambda q: total(lambda p: A1[p, i] * P[p, q]) * A2[q, k]), PAIR_D),
    ("matrix_grad_normalized", "step 3"): lambda: (total(lambda p: total(lambda q: A1[p, i] * A2[q, k] * P[p, q])),
                                                   total(lambda q: total(lambda p: A1[p, i] * P[p, q]) * A2[q, k]),
                                                   PAIR_D),
    ("matrix_hvp", "step 1"): lambda: (sp.diff(S(A1, lambda p, q: X[p, q] + t * V[p, q], A2, j, mm), t),
                                       S(A1, V, A2, j, mm), NN),
    ("xzw_invariance", "step 8"): lambda: (z[i] * ww[k], z[i] * ww[k], PAIR_D),
    ("matrix_f_lipschitz_A1", "step 2 side 1"): lambda: (S(A1, X, A2, j, mm) - S(B1, X, A2, j, mm),
                                                         total(lambda q: total(lambda p: (A1[j, p] - B1[j, p])
                                                                               * X[p, q], "d") * A2[mm, q], "d"), NN),
    ("matrix_f_lipschitz_A2", "step 2 side 1"): lambda: (S(A1, X, A2, j, mm) - S(A1, X, B2, j, mm),
                                                         total(lambda q: total(lambda p: A1[j, p] * X[p, q], "d")
                                                               * (A2[mm, q] - B2[mm, q]), "d"), NN),
    ("matrix_logit_box", "step 4 side 1"): lambda: (total(lambda p: total(lambda q: X[p, q] ** 2, "d"), "d"),
                                                    total(lambda q: total(lambda p: X[p, q] * X[p, q], "d"), "d"), ()),
}
STEPS[("matrix_u_lipschitz_A1", "step 2 side 1")] = STEPS[("matrix_f_lipschitz_A1", "step 2 side 1")]
STEPS[("matrix_grad_rescaled", "step 3")] = STEPS[("matrix_grad_normalized", "step 3")]
for _lemma, _label in (("matrix_f_lipschitz_X", "step 2 side 1"), ("matrix_u_lipschitz_X", "step 2 side 1"),
                       ("matrix_alpha_lipschitz_X", "step 2 side 1"), ("matrix_h_lipschitz_X", "step 3 side 1")):
    STEPS[(_lemma, _label)] = _DIFF
for _lemma in ("matrix_grad_lipschitz_normalized", "matrix_grad_lipschitz_rescaled"):
    STEPS[(_lemma, "step 1 side 1")] = _ADJ
    STEPS[(_lemma, "step 4 side 1")] = _DIFF

class _Row:
    """Row j of an n × n matrix as a target vector: ``_Row(B, j)[m] = B[j, m]``."""

    def __init__(self, M, row):
        self.M, self.row = M, row

    def __getitem__(self, q):
        return self.M[self.row, q]


SL, TL, B = sp.IndexedBase("S"), sp.IndexedBase("T"), sp.IndexedBase("B")
row = lambda L, a: Soft(lambda q: L[a, q], _Row(B, a))  # noqa: E731  the softmax of row a of the logit matrix L
_p_N = lambda a, c: total(lambda q: row(SL, a).J(c, q) * row(SL, a).c(q))  # noqa: E731
_p_R = lambda a, c: (row(SL, a).u(c) * row(SL, a).h(c)  # noqa: E731
                     - total(lambda q: row(SL, a).h(q) * B[a, q]) * row(SL, a).u(c))
STEPS.update({
    ("h_alpha_c", "step 3"): lambda: (
        row(SL, j).u(mm) - total(lambda q: delta(j, q) * row(SL, q).alpha() * B[q, mm]),
        total(lambda q: delta(j, q) * row(SL, q).alpha() * (row(SL, q).f(mm) - B[q, mm])), NN),
    ("matrix_c_lipschitz_X", "step 1 side 1"): lambda: (row(SL, j).c(mm) - row(TL, j).c(mm),
                                                        row(SL, j).f(mm) - row(TL, j).f(mm), NN),
    ("matrix_grad_normalized", "step 4"): lambda: (
        _p_N(j, mm), row(SL, j).f(mm) * row(SL, j).c(mm) - total(lambda q: delta(j, q) * total(
            lambda w: row(SL, q).f(w) * row(SL, q).c(w))) * row(SL, j).f(mm), NN),
    ("matrix_grad_rescaled", "step 4"): lambda: (
        _p_R(j, mm), row(SL, j).u(mm) * row(SL, j).h(mm) - total(lambda q: delta(j, q) * total(
            lambda w: row(SL, q).h(w) * B[q, w])) * row(SL, j).u(mm), NN),
})

_a, _c, _a2, _c2 = sp.symbols("a c a2 c2", integer=True)
_LOSS = {"N": lambda soft: total(lambda q: soft.c(q) ** 2) / 2, "R": lambda soft: total(lambda q: soft.h(q) ** 2) / 2}


def _block_hessian(version):
    """``∂²(Σ_j ℓ(s_j)) / ∂S_ac ∂S_a′c′ = δ_aa′ K(s_a)_cc′``: the Hessian of the row losses in the n² logits S (the
    free indices are the pairs (a, c), (a′, c′), row-major as vec(S))."""
    from .index_vector import K_N, K_R  # deferred: index_vector is this module's sibling, imported by the table

    lhs = sp.diff(total(lambda q: _LOSS[version](row(SL, q))), SL[_a, _c], SL[_a2, _c2])
    return (lhs, delta(_a, _a2) * {"N": K_N, "R": K_R}[version](row(SL, _a), _c, _c2),
            (((_a, "n"), (_c, "n")), ((_a2, "n"), (_c2, "n"))))


KK = sp.IndexedBase("K")  # K[j, m, m′]: the n × n matrix K_j of row j, one family over j (the lemma's K{j}_mm′)
_i2, _k2 = sp.symbols("i2_ k2_", integer=True)
_X2 = (((i, "d"), (k, "d")), ((_i2, "d"), (_k2, "d")))


def _blocks_hess(a, c, a2, c2):
    """``(Σ_j A_[j]ᵀ K_j A_[j])_((a,c),(a2,c2)) = Σ_{j,m,m′} A1_ja A2_mc K_jmm′ A1_ja2 A2_m′c2``."""
    return total(lambda q: total(lambda w: total(lambda w2: A1[q, a] * A2[w, c] * KK[q, w, w2] * A1[q, a2]
                                                 * A2[w2, c2])))


STEPS[("matrix_hvp", "step 4")] = lambda: (  # Aᵀ blockdiag(K_j) A, A = A1 ⊗ A2 with rows (j, m), columns (i, k)
    total(lambda p: total(lambda q: total(lambda p2: total(lambda q2: A1[p, i] * A2[q, k] * delta(p, p2)
                                                           * KK[p, q, q2] * A1[p2, _i2] * A2[q2, _k2])))),
    _blocks_hess(i, k, _i2, _k2), _X2)
STEPS[("matrix_hvp", "step 5")] = lambda: (  # (Σ_j A_[j]ᵀ K_j A_[j]) vec(V) = vec(A1ᵀ dP A2), dp_j = K_j ds_j
    total(lambda p: total(lambda q: _blocks_hess(i, k, p, q) * V[p, q], "d"), "d"),
    total(lambda q: total(lambda w: A1[q, i] * total(lambda w2: KK[q, w, w2] * S(A1, V, A2, q, w2)) * A2[w, k])),
    PAIR_D)
STEPS[("matrix_hvp", "step 6")] = lambda: (  # row block j of the stack: (a_j a_jᵀ) ⊗ (A2ᵀ K_j A2)
    total(lambda w: total(lambda w2: A1[j, i] * A2[w, k] * KK[j, w, w2] * A1[j, _i2] * A2[w2, _k2])),
    A1[j, i] * A1[j, _i2] * total(lambda w: total(lambda w2: A2[w, k] * KK[j, w, w2] * A2[w2, _k2])),
    (((j, "n"), (i, "d"), (k, "d")), ((_i2, "d"), (_k2, "d"))))
STEPS[("matrix_hvp", "step 2")] = lambda: _block_hessian("N")
STEPS[("matrix_hvp", "step 3")] = lambda: _block_hessian("R")


def _logits(size, **which):
    """The link's renaming: ``S_jm`` (and ``T_jm``) → entry (j, m) of ``A1 X A2ᵀ`` (``A1 Y A2ᵀ``) at ``size``."""
    from .symbols import matrix  # deferred: symbols is only needed to link, not to prove

    nv, dv = size
    out = {}
    for name, mid in which.items():
        M = matrix("A1", nv, dv) * matrix(mid, dv, dv) * matrix("A2", nv, dv).T
        out.update({sp.Symbol(f"{name}_{a}{c}", real=True): M[a, c] for a in range(nv) for c in range(nv)})
    return out


# The matrix forms take the softmax along each row of the logits S = A1 X A2ᵀ (T = A1 Y A2ᵀ); the link writes
# S out at the checker's size.
LINK = {key: (lambda size: _logits(size, S="X")) for key in (("h_alpha_c", "step 3"), ("matrix_grad_normalized",
                                                                                     "step 4"),
                                                             ("matrix_grad_rescaled", "step 4"))}
LINK[("matrix_c_lipschitz_X", "step 1 side 1")] = lambda size: _logits(size, S="X", T="Y")
# K[j, m, m′] is the lemma's symbol K{j}_mm′ (matrix(f"K{j}_", n, n))
for _k in (4, 5, 6):
    LINK[("matrix_hvp", f"step {_k}")] = lambda size: {
        sp.Symbol(f"K_{a}{c}{e}", real=True): sp.Symbol(f"K{a}__{c}{e}", real=True)
        for a in range(size[0]) for c in range(size[0]) for e in range(size[0])}


_POSITIONS = ("a statement about positions in the row-major flattening (rows j·n … j·n + n − 1 of A1 ⊗ A2 are "
              "the block A1[j,:] ⊗ A2): in pair indices both sides are A1[j,i] A2[m,k] by the definition of ⊗, so "
              "the content is the flattening itself, which has no symbolic-n index form here; decided at the "
              "checker's sizes")
_ROWWISE = ("row j shifted by (A1 z)_j: the vector-form identity {} (proved for all n, d) at the logits of row j; "
            "the matrix step holds because the constructed A2 has A2 w = 1ₙ (step 1), a construction, not an "
            "identity in free entries, so it is decided at the checker's sizes")
_BLOCKS = ("built from the blocks A_[j] = A1[j,:] ⊗ A2 as a Python list over j (a sum of n block products): the "
           "block index j is a loop of the lemma, not a sum the index form can read; its content, entry (i, k) "
           "of Σ_j A_[j]ᵀ p_j = Σ_{j,m} A1[j,i] P[j,m] A2[m,k], is the pair-index identity of kron_blocks step 5 "
           "(proved for all n, d); decided at the checker's sizes")
FIXED = {
    ("kron_blocks", "step 1"): _POSITIONS,
    ("matrix_logit_box", "step 3 side 1"): _POSITIONS,
    ("matrix_grad_normalized", "step 1"): _BLOCKS, ("matrix_grad_rescaled", "step 1"): _BLOCKS,
    ("matrix_grad_normalized", "step 2"): "the gradient of Σ_j ℓ(A_[j] x) through the blocks A_[j] (a loop over "
    "j): per row it is grad_normalized step 4 (proved for all n, d); " + _BLOCKS.split(": ", 1)[1],
    ("matrix_grad_rescaled", "step 2"): "the gradient of Σ_j ℓ(A_[j] x) through the blocks A_[j] (a loop over "
    "j): per row it is grad_rescaled step 3 (proved for all n, d); " + _BLOCKS.split(": ", 1)[1],
    ("xzw_invariance", "step 1"): "A2 is constructed (solved) so that A2 w = 1ₙ: the construction, not an "
    "identity in free entries, is what the step checks; decided at the checker's sizes",
    ("xzw_invariance", "step 2"): "uses A2 w = 1ₙ for the constructed A2 (step 1); decided at the checker's sizes",
    ("xzw_invariance", "step 3"): "uses A2 w = 1ₙ for the constructed A2 (step 1); decided at the checker's sizes",
    ("xzw_invariance", "step 4"): _ROWWISE.format("row_shift step 3"),
    ("xzw_invariance", "step 5"): _ROWWISE.format("row_shift step 4"),
    ("xzw_invariance", "step 6"): _ROWWISE.format("row_shift step 8"),
    ("xzw_invariance", "step 7"): "A1ᵀ dP A2 with dP = 0 by step 6; decided at the checker's sizes",
}
