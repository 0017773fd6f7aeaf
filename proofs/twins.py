r"""The version twins: a normalized and a rescaled lemma of the same shape, built by one factory per shape.

* :func:`grad` — the vector gradient ``∇L(x) = Aᵀ p(Ax)`` and its logit form ``p(s)`` (the two chains differ:
  the normalized one goes through ``J = Jᵀ``, the rescaled one through ``diag(u) − u bᵀ``);
* :func:`hessian` — the vector Hessian ``∇²L(x) = Aᵀ K(Ax) A``, the row Hessian ``K = ∂p/∂s``, its symmetry
  and its structure diagonal plus rank 2, ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ`` (normalized: ``g =
  f∘(f + c − ⟨f, c⟩)``, ``v = g``, ``e = f``, ``κ = ‖f‖²``; rescaled: ``g = u∘(h + u − ⟨h, b⟩)``, ``v = u∘b``,
  ``e = u``, ``κ = ‖b‖²``), which the low-rank reference Hessian (:mod:`attnreg.reference.hessian_lowrank`)
  evaluates;
* :func:`matrix_grad` — the matrix gradient ``∇_X L = A1ᵀ P A2`` as the sum of the n row problems.

What differs between the versions is the row: :data:`._forms.P`, :data:`._forms.LOSS` and the residual
(c = f − b, h = u − α b). :data:`LEMMAS` holds the six lemmas by id.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import (LOSS, P, jac, k_low_rank, k_normalized, k_rescaled, matrix_rows, p_normalized, p_rescaled, parts,
                     stack)
from ._numeric import gradient_route, hessian_route, matrix_gradient_route
from ._ops import SYM, entries, row, vec
from .symbols import matrix, vector

LETTER = {"normalized": "N", "rescaled": "R"}
VERSIONS = tuple(LETTER)

_GRAD = {
    "normalized": "∇L_N(x) = Aᵀ (f ∘ c − ⟨f, c⟩ f); p_N(s) = ∂ℓ_N/∂s = J c\n\nStatement\n"
    "    For L_N(x) = ½ ||f(x) − b||² (with the ½, docs/design.md §2) and c = f − b, J = diag(f) − f fᵀ:\n"
    "        ∇L_N(x) = Aᵀ J c = Aᵀ (f ∘ c − ⟨f, c⟩ f).\n"
    "    In the logits s = Ax the row gradient is p_N(s) = ∂ℓ_N/∂s = J c = f ∘ c − ⟨f, c⟩ f.\n",
    "rescaled": "∇L_R(x) = Aᵀ (u ∘ h − ⟨h, b⟩ u);\np_R(s) = ∂ℓ_R/∂s = u ∘ h − ⟨h, b⟩ u\n\nStatement\n"
    "    For L_R(x) = ½ ||u(x) − α(x) b||² (with the ½) and h = u − α b:\n"
    "        ∇L_R(x) = Aᵀ (diag(u) − u bᵀ) h = Aᵀ (u ∘ h − ⟨h, b⟩ u).\n"
    "    In the logits s = Ax the row gradient is p_R(s) = u ∘ h − ⟨h, b⟩ u.\n",
}
_HESSIAN = {
    "normalized": "    In the logits s = Ax, with f, c = f − b, w = f + c, J = diag(f) − f fᵀ, the row Hessian is\n"
    "        K_N[k, l] = ∂²ℓ_N/∂s_k∂s_l = J[k, l] (w_k − ⟨f, c⟩) − f_k f_l (w_l − ⟨f, w⟩)\n"
    "                  = diag(g) − g fᵀ − f gᵀ + ||f||² f fᵀ,   g = f ∘ (f + c − ⟨f, c⟩),\n",
    "rescaled": "    In the logits s = Ax, with u = exp(s), h = u − α b, the row Hessian is\n"
    "        K_R[k, l] = δ_kl u_l (h_l + u_l − ⟨h, b⟩) − u_k u_l (b_k + b_l − ||b||²)\n"
    "                  = diag(g) − v uᵀ − u vᵀ + ||b||² u uᵀ,   g = u ∘ (h + u − ⟨h, b⟩), v = u ∘ b,\n",
}
_MATRIX = {
    "normalized": "P, rows p_jᵀ, = F∘C − rowsum(F∘C)·F\n\nStatement\n"
    "    For L_N(X) = ½ ||D(X)⁻¹ exp(A1 X A2ᵀ) − B||_F² (with the ½), F = D⁻¹ exp(A1 X A2ᵀ), C = F − B:\n"
    "        ∇_X L_N = A1ᵀ P A2,   P = F∘C − rowsum(F∘C)·F   (row j: p_j = (diag f_j − f_j f_jᵀ) c_j),\n"
    "    and, with x = vec(X) (row-major) and A_[j] = A1[j,:] ⊗ A2,\n"
    "        vec(∇_X L_N) = Σ_j A_[j]ᵀ p_j = Σ_j ∇_x ½||f(A_[j] x) − b_j||²,\n"
    "    the sum of the gradients of the n vector problems that share x.\n",
    "rescaled": "P, rows p_jᵀ, = U∘H − rowsum(H∘B)·U\n\nStatement\n"
    "    For L_R(X) = ½ ||exp(A1 X A2ᵀ) − D(X) B||_F² (with the ½), U = exp(A1 X A2ᵀ), H = U − D(X) B:\n"
    "        ∇_X L_R = A1ᵀ P A2,   P = U∘H − rowsum(H∘B)·U   (row j: p_j = u_j ∘ h_j − ⟨h_j, b_j⟩ u_j),\n"
    "    and vec(∇_X L_R) = Σ_j A_[j]ᵀ p_j = Σ_j ∇_x ½||u(A_[j] x) − α_j b_j||² (x = vec(X), A_[j] = A1[j,:] ⊗ A2).\n"
    "    Each row has its own α_j: D(X) holds n different scalars.\n",
}


def _grad_normalized_steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    r = parts(SYM, A * x, b)
    J, c, f = jac(SYM, r.f), r.c, r.f
    L = SYM.dot(c, c) / 2
    grad = sp.Matrix([L]).jacobian(x).T
    rs = parts(SYM, s, b)
    return [
        Step("∂L_N/∂x_k = ⟨c, ∂c/∂x_k⟩", "product rule", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(c, c.diff(x[k])))),
        Step("∂L_N/∂x_k = ⟨c, J A[:,k]⟩", "Lemma c_deriv", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(c, J * A[:, k])),
             uses=("c_deriv",)),
        Step("J = Jᵀ", "diag(f) − f fᵀ is symmetric", J, J.T),
        Step("∇L_N(x) = Aᵀ (f ∘ c − ⟨f, c⟩ f)", "J c = f ∘ c − ⟨f, c⟩ f", grad,
             A.T * (SYM.had(f, c) - SYM.dot(f, c) * f)),
        Step("p_N(s) = ∂ℓ_N/∂s = J c", "step 4 with A = I", sp.Matrix([SYM.dot(rs.c, rs.c) / 2]).jacobian(s).T,
             p_normalized(SYM, rs.f, rs.c)),
    ]


def _grad_rescaled_steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    r = parts(SYM, A * x, b)
    h, u = r.h, r.u
    grad = sp.Matrix([SYM.dot(h, h) / 2]).jacobian(x).T
    rs = parts(SYM, s, b)
    return [
        Step("∂L_R/∂x_k = ⟨h, ∂h/∂x_k⟩", "product rule", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(h, h.diff(x[k])))),
        Step("∇L_R(x) = Aᵀ (diag(u) − u bᵀ) h", "Lemma h_deriv: ∂h/∂x_k = (diag(u) − b uᵀ) A[:,k]", grad,
             A.T * (SYM.diag(u) - u * b.T) * h, uses=("h_deriv",)),
        Step("∇L_R(x) = Aᵀ (u ∘ h − ⟨h, b⟩ u)", "(diag(u) − u bᵀ) h = u ∘ h − ⟨b, h⟩ u", grad,
             A.T * p_rescaled(SYM, u, h, b)),
        Step("p_R(s) = ∂ℓ_R/∂s = u ∘ h − ⟨h, b⟩ u", "step 3 with A = I",
             sp.Matrix([SYM.dot(rs.h, rs.h) / 2]).jacobian(s).T,
             p_rescaled(SYM, rs.u, rs.h, b)),
    ]


def _check(what: str, sizes: str, numeric: str) -> str:
    return f"\nCheck\n    sympy: {what} at {sizes}; numeric: {numeric}.\n"


def grad(version: str) -> Lemma:
    """Lemma ``grad_<version>``: the vector gradient and its logit form."""
    k = LETTER[version]
    dep = "c_deriv" if version == "normalized" else "h_deriv"
    row_p = (lambda ops, r, A: A.T * (jac(ops, r.f) * r.c)) if version == "normalized" else \
        (lambda ops, r, A: A.T * p_rescaled(ops, r.u, r.h, r.b))
    doc = (f"Lemma grad_{version} (gradient of the {version} vector loss): {_GRAD[version]}"
           + _check("every step", "n = 3, d = 2",
                    f"ctx.diff of attnreg.reference.forms.vector_loss ({k}) at 60 digits along each coordinate, "
                    "n = 6, d = 4"))
    return Lemma(doc=doc, steps=_grad_normalized_steps if version == "normalized" else _grad_rescaled_steps,
                 numeric=lambda ctx, rng: gradient_route(ctx, rng, version, row_p), requires=(dep,),
                 sizes=((3, 2),), shows=(4, 5) if version == "normalized" else (3, 4))


def _row_hessian(version, rs, b):
    """``(∂p/∂s, K, K as diagonal plus rank 2)`` of one row, in the logits; the last is reference/rows.py's
    formula (:func:`._forms.k_low_rank`), so step 3 proves what the reference evaluates."""
    low = k_low_rank(SYM, version, rs)
    if version == "normalized":
        return p_normalized(SYM, rs.f, rs.c), k_normalized(SYM, rs.f, rs.c), low
    return p_rescaled(SYM, rs.u, rs.h, b), k_rescaled(SYM, rs.u, rs.h, b), low


def hessian(version: str) -> Lemma:
    """Lemma ``hessian_<version>``: the row Hessian, its symmetry and rank-2 structure, and the chain rule."""
    k = LETTER[version]
    uses = ("grad_normalized", "f_deriv") if version == "normalized" else ("grad_rescaled", "u_deriv", "h_deriv")
    why = ("Lemma grad_normalized (logit form) and Lemma f_deriv, product rule" if version == "normalized" else
           "Lemma grad_rescaled (logit form), Lemmas u_deriv and h_deriv, product rule")

    def steps(n, d):
        A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
        rs, r = parts(SYM, s, b), parts(SYM, A * x, b)
        p, K, low = _row_hessian(version, rs, b)
        res = r.c if version == "normalized" else r.h
        grad_x = sp.Matrix([SYM.dot(res, res) / 2]).jacobian(x)
        return [
            Step(f"∂p_{k}/∂s = K_{k}", why, p.jacobian(s), K, uses=uses),
            Step(f"K_{k} = K_{k}ᵀ", "second derivatives commute", K, K.T),
            Step(f"K_{k} = diag(g) − v eᵀ − e vᵀ + κ e eᵀ", "expand the entries (the Statement's g, v, e, κ)", K, low),
            Step(f"∇²L_{k}(x) = Aᵀ K_{k}(Ax) A", "chain rule for s = Ax", grad_x.jacobian(x),
                 A.T * _row_hessian(version, r, b)[1] * A),
        ]

    def numeric(ctx, rng):
        return hessian_route(ctx, rng, version, lambda ops, r, A: A.T * (
            k_normalized(ops, r.f, r.c) if version == "normalized" else k_rescaled(ops, r.u, r.h, r.b)) * A)

    doc = (f"Lemma hessian_{version} (Hessian of the {version} vector loss): ∂p_{k}/∂s = K_{k}; "
           f"∇²L_{k}(x) = Aᵀ K_{k}(Ax) A\n\n"
           f"Statement\n{_HESSIAN[version]}    and ∇²L_{k}(x) = Aᵀ K_{k}(Ax) A (K_{k} is symmetric).\n"
           + _check("the logit Hessian, its rank-2 form and the chain rule end to end",
                    "n = 3, d = 2",
                    f"ctx.diff of the reference gradient along a random direction at 60 digits, n = 6, d = 4, "
                    f"against Aᵀ K_{k} A v"))
    return Lemma(doc=doc, steps=steps, numeric=numeric, requires=uses, shows=(1, 4))


def matrix_grad(version: str) -> Lemma:
    """Lemma ``matrix_grad_<version>``: the matrix gradient as the sum of the n row problems."""
    k = LETTER[version]

    def steps(n, d):
        A1, A2, B, X = matrix("A1", n, d), matrix("A2", n, d), matrix("B", n, n), matrix("X", d, d)
        S, rows = matrix_rows(SYM, A1, A2, X, B)
        G = matrix("P", n, n)
        x = vec(X, SYM)
        Aj = [SYM.kron(A1[j, :], A2) for j in range(n)]
        loss = sum(LOSS[version](SYM, r) for r in rows)
        per_row = [parts(SYM, Aj[j] * x, row(B, j)) for j in range(n)]
        grad_x = sp.Matrix([loss]).jacobian(entries(x)).T
        Pm = stack(SYM, [P[version](SYM, r) for r in rows])
        if version == "normalized":
            F, C = stack(SYM, [r.f for r in rows]), stack(SYM, [r.c for r in rows])
            FC = SYM.had(F, C)
            last = Step("P, rows p_jᵀ, = F∘C − rowsum(F∘C)·F", "row j: f_j ∘ c_j − ⟨f_j, c_j⟩ f_j", Pm,
                        FC - SYM.diag(FC * SYM.ones(n)) * F)
            first = "L_N(X) = Σ_j ½||f(A_[j] x) − b_j||²"
        else:
            U, H = stack(SYM, [r.u for r in rows]), stack(SYM, [r.h for r in rows])
            last = Step("P, rows p_jᵀ, = U∘H − rowsum(H∘B)·U", "row j: u_j ∘ h_j − ⟨h_j, b_j⟩ u_j", Pm,
                        SYM.had(U, H) - SYM.diag(SYM.had(H, B) * SYM.ones(n)) * U)
            first = "L_R(X) = Σ_j ½||u(A_[j] x) − α_j b_j||²"
        return [
            Step(first, "rows of A1 X A2ᵀ are A_[j] x (Lemma kron_blocks)",
                 loss, sum(LOSS[version](SYM, r) for r in per_row), uses=("kron_blocks",)),
            Step(f"vec(∇_X L_{k}) = Σ_j A_[j]ᵀ p_j", f"Lemma grad_{version} for each row; gradient of a sum", grad_x,
                 sum((Aj[j].T * P[version](SYM, r) for j, r in enumerate(rows)),
                     sp.zeros(d * d, 1)), uses=(f"grad_{version}",)),
            Step("Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2)", "Lemma kron_blocks (adjoint form); linear in P, so verified with "
                 "P a matrix of free symbols and then instantiated",
                 sum((Aj[j].T * row(G, j) for j in range(n)), sp.zeros(d * d, 1)),
                 vec(A1.T * G * A2, SYM), uses=("kron_blocks",)),
            last,
        ]

    doc = (f"Lemma matrix_grad_{version} ({version} matrix gradient): vec(∇_X L_{k}) = Σ_j A_[j]ᵀ p_j;\n"
           f"Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2); {_MATRIX[version]}"
           + _check("end to end", "n = 3, d = 2",
                    "ctx.diff of attnreg.reference.forms.matrix_loss per entry of X, and the sum of reference "
                    "vector gradients with data A_[j], at 60 digits, n = 4, d = 3"))
    return Lemma(doc=doc, steps=steps, numeric=lambda ctx, rng: matrix_gradient_route(ctx, rng, version),
                 requires=("kron_blocks", f"grad_{version}"), sizes=((3, 2),), shows=(2, 3, 4))


LEMMAS: dict[str, Lemma] = {lem.id: lem for make in (grad, hessian, matrix_grad) for lem in map(make, VERSIONS)}
