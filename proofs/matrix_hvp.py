r"""Lemma matrix_hvp (matrix Hessian-vector product): ∇²L(X)[V] = A1ᵀ dP A2 with dp_j = K_j ds_j, dS = A1 V A2ᵀ.

Statement
    For either loss (normalized or rescaled, with the ½), S = A1 X A2ᵀ with rows s_j, K_j the row
    Hessian in the logits at s_j (Lemmas hessian_normalized, hessian_rescaled) and a direction V ∈ R^{d×d}:
        ∇²L(X)[V] = A1ᵀ dP A2,   dS = A1 V A2ᵀ,   dp_j = K_j ds_j   (ds_j = row j of dS).
    In x = vec(X) (row-major): ∇²L = Σ_j A_[j]ᵀ K_j A_[j] = Σ_j (a_j a_jᵀ) ⊗ (A2ᵀ K_j A2), a_j = A1[j,:]ᵀ.

Check
    sympy: steps 1, 3, 4 at n = 3, d = 2; step 2 end to end for both losses at n = 2, d = 1 (slow: n = 2,
    d = 2); numeric: ctx.diff of the reference matrix gradient along a random V at 60 digits, n = 4, d = 3,
    both versions.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._forms import K, LOSS, matrix_rows
from ._numeric import agree, directional, matrix_point, shifted
from ._ops import SYM, entries, row, vec
from .symbols import matrix


def steps(n, d):
    A1, A2, B, X, V = (matrix(m, r, c) for m, r,
                       c in (("A1", n, d), ("A2", n, d), ("B", n, n), ("X", d, d), ("V", d, d)))
    t = sp.Symbol("t")
    Aj = [SYM.kron(A1[j, :], A2) for j in range(n)]
    Kj = [matrix(f"K{j}_", n, n) for j in range(n)]
    dS, v = A1 * V * A2.T, vec(V, SYM)
    hess = sum((Aj[j].T * Kj[j] * Aj[j] for j in range(n)), sp.zeros(d * d, d * d))
    dP = sp.Matrix.vstack(*[(Kj[j] * row(dS, j)).T for j in range(n)])
    out = [
        Step("d/dt A1 (X + tV) A2ᵀ = A1 V A2ᵀ", "linear in X", (A1 * (X + t * V) * A2.T).diff(t), dS),
        Step("Σ_j A_[j]ᵀ K_j A_[j] vec(V) = vec(A1ᵀ dP A2), dp_j = K_j ds_j", "Lemma kron_blocks; K_j free symbols",
             hess * v, vec(A1.T * dP * A2, SYM), uses=("kron_blocks",)),
        Step("A_[j]ᵀ K_j A_[j] = (a_j a_jᵀ) ⊗ (A2ᵀ K_j A2)", "mixed product rule",
             sp.Matrix.vstack(*[Aj[j].T * Kj[j] * Aj[j] for j in range(n)]),
             sp.Matrix.vstack(*[SYM.kron(row(A1, j) * row(A1, j).T, A2.T * Kj[j] * A2) for j in range(n)])),
    ]
    if (n, d) in ((2, 1), (2, 2)):  # the end-to-end Hessian is expensive: smallest sizes only
        for version, lemma in (("normalized", "hessian_normalized"), ("rescaled", "hessian_rescaled")):
            S, rows = matrix_rows(SYM, A1, A2, X, B)
            x = entries(vec(X, SYM))
            H = sp.Matrix([sum(LOSS[version](SYM, r) for r in rows)]).jacobian(x).T.jacobian(x)
            out.append(Step(f"∇²L_{version[0].upper()}(X) = Σ_j A_[j]ᵀ K_j A_[j] ({version})",
                            f"Lemma {lemma} per row; Hessian of a sum", H,
                            sum((Aj[j].T * K[version](SYM, r) * Aj[j] for j, r in enumerate(rows)),
                                sp.zeros(d * d, d * d)),
                            uses=(lemma, "kron_blocks")))
    return out


def numeric(ctx, rng):
    pairs = []
    for version in ("normalized", "rescaled"):
        ops, A1, A2, B, X = matrix_point(ctx, rng)
        V = ops.matrix([[ctx.mpf(rng.gauss(0, 1)) for _ in range(X.cols)] for _ in range(X.rows)])
        args = A1.tolist(), A2.tolist(), B.tolist()
        G = lambda t: forms.matrix_loss_and_grad(ctx, *args, shifted(X.tolist(), t, V.tolist()), version)[1]  # noqa: E731
        got = directional(ctx, G, X.rows * X.cols)
        S, rows = matrix_rows(ops, A1, A2, X, B)
        dS = A1 * V * A2.T
        dP = ops.matrix([entries(K[version](ops, r) * row(dS, j)) for j, r in enumerate(rows)])
        pairs.append((got, entries(A1.T * dP * A2)))
    return agree(ctx, pairs, "ctx.diff of the reference matrix gradient along a random V vs A1ᵀ dP A2, both versions, "
                             "n=4, d=3")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric,
              requires=("kron_blocks", "hessian_normalized", "hessian_rescaled"),
              sizes=((2, 1), (3, 2)), slow_sizes=((2, 2),))
