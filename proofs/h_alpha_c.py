r"""Lemma h_alpha_c (the rescaled and the normalized residual): h = α (f − b) = α c;
exp(A1 X A2ᵀ) − D(X) B = D(X) (F − B)

Statement
    For u = exp(s), α = ⟨u, 1ₙ⟩, f = u/α, c = f − b and h = u − α b:  h = α c.
    In matrix form, row by row: H = D(X) C, i.e. exp(A1 X A2ᵀ) − D(X) B = D(X) (F − B).

Check
    sympy at n = 3 (vector) and n = 3, d = 2 (matrix); numeric: attnreg.reference.forms.vector_blocks and
    matrix_blocks at 60 digits, n = 6, d = 4 and n = 4, d = 3.
"""
from __future__ import annotations

from attnreg.reference import forms

from ._core import Lemma, Step
from ._forms import matrix_rows, parts, stack
from ._numeric import agree, matrix_point, vector_point
from ._ops import SYM, entries
from .symbols import matrix, vector


def steps(n, d):
    s, b = vector("s", n), vector("b", n)
    r = parts(SYM, s, b)
    A1, A2, B, X = matrix("A1", n, d), matrix("A2", n, d), matrix("B", n, n), matrix("X", d, d)
    S, rows = matrix_rows(SYM, A1, A2, X, B)
    D = SYM.diag([q.alpha for q in rows])
    return [
        Step("u = α f", "definition of f", r.u, r.alpha * r.f),
        Step("h = α (f − b) = α c", "step 1", r.h, r.alpha * r.c),
        Step("exp(A1 X A2ᵀ) − D(X) B = D(X) (F − B)", "step 2 for each row, with its own α_j",
             stack(SYM, [q.u for q in rows]) - D * B, D * (stack(SYM, [q.f for q in rows]) - B)),
    ]


def numeric(ctx, rng):
    _, _, _, _, r = vector_point(ctx, rng)
    ops, A1, A2, B, X = matrix_point(ctx, rng)
    m = forms.matrix_blocks(ctx, A1.tolist(), A2.tolist(), X.tolist(), B.tolist())
    hm = [[a * c for c in row] for a, row in zip(m["alpha"], m["c"])]
    return agree(ctx, [(entries(r.h), entries(r.alpha * r.c)), (m["h"], hm)],
                 "reference h vs α c (vector, n=6, d=4) and H vs D(X) C (matrix, n=4, d=3)")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, sizes=((3, 2),), shows=(2, 3))
