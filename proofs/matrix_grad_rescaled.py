r"""Lemma matrix_grad_rescaled (rescaled matrix gradient): ∇_X L_R = A1ᵀ P A2, P = U∘H − rowsum(H∘B)·U.

Statement
    For L_R(X) = ½ ||exp(A1 X A2ᵀ) − D(X) B||_F² (with the ½), U = exp(A1 X A2ᵀ), H = U − D(X) B:
        ∇_X L_R = A1ᵀ P A2,   P = U∘H − rowsum(H∘B)·U   (row j: p_j = u_j ∘ h_j − ⟨h_j, b_j⟩ u_j),
    and vec(∇_X L_R) = Σ_j A_[j]ᵀ p_j = Σ_j ∇_x ½||u(A_[j] x) − α_j b_j||² (x = vec(X), A_[j] = A1[j,:] ⊗ A2).
    Each row has its own α_j: D(X) holds n different scalars.

Check
    sympy end to end at n = 2, d = 2 (slow: n = 3, d = 2 and d = 1); numeric: ctx.diff of
    attnreg.reference.forms.matrix_loss per entry of X, and the sum of reference vector gradients with data
    A_[j], at 60 digits, n = 4, d = 3.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import LOSS, P, matrix_rows, parts, stack
from ._numeric import matrix_gradient_route
from ._ops import SYM, entries, row, vec
from .symbols import matrix

VERSION = "rescaled"


def steps(n, d):
    A1, A2, B, X = matrix("A1", n, d), matrix("A2", n, d), matrix("B", n, n), matrix("X", d, d)
    S, rows = matrix_rows(SYM, A1, A2, X, B)
    G = matrix("P", n, n)
    x = vec(X, SYM)
    Aj = [SYM.kron(A1[j, :], A2) for j in range(n)]
    loss = sum(LOSS[VERSION](SYM, r) for r in rows)
    per_row = [parts(SYM, Aj[j] * x, row(B, j)) for j in range(n)]
    grad = sp.Matrix([loss]).jacobian(entries(x)).T
    Pm = stack(SYM, [P[VERSION](SYM, r) for r in rows])
    U, H = stack(SYM, [r.u for r in rows]), stack(SYM, [r.h for r in rows])
    return [
        Step("L_R(X) = Σ_j ½||u(A_[j] x) − α_j b_j||²", "rows of A1 X A2ᵀ are A_[j] x (Lemma kron_blocks)",
             loss, sum(LOSS[VERSION](SYM, r) for r in per_row), uses=("kron_blocks",)),
        Step("vec(∇_X L_R) = Σ_j A_[j]ᵀ p_j", "Lemma grad_rescaled for each row; gradient of a sum", grad,
             sum((Aj[j].T * P[VERSION](SYM, r) for j, r in enumerate(rows)),
                 sp.zeros(d * d, 1)), uses=("grad_rescaled",)),
        Step("Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2)", "Lemma kron_blocks (adjoint form); linear in P, so verified with P "
             "a matrix of free symbols and then instantiated",
             sum((Aj[j].T * row(G, j) for j in range(n)), sp.zeros(d * d, 1)),
             vec(A1.T * G * A2, SYM), uses=("kron_blocks",)),
        Step("P = U∘H − rowsum(H∘B)·U", "row j: u_j ∘ h_j − ⟨h_j, b_j⟩ u_j", Pm,
             SYM.had(U, H) - SYM.diag(SYM.had(H, B) * SYM.ones(n)) * U),
    ]


def numeric(ctx, rng):
    return matrix_gradient_route(ctx, rng, VERSION)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("kron_blocks", "grad_rescaled"),
              sizes=((2, 2),), slow_sizes=((3, 2), (2, 1), (3, 1)))
