r"""Symbolic derivations (sympy), one lemma per module, with a high-precision numeric second route.

``LEMMAS`` maps each lemma id to its :class:`~._core.Lemma`, in the explicit order of :data:`ORDER`
(dependencies first; no discovery magic). A bound lemma whose statement is in the claims-file
vocabulary carries a :class:`~._core.Bound` (``lemma.bound``); :func:`bound_lemmas` lists those whose chain,
and every lemma it rests on, verifies.
Every constant here is derived by us ("derived" provenance); none is a paper's constant.

>>> from attnreg import proofs
>>> proofs.LEMMAS["tensor_trick"].claim.startswith("vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(X)")
True
"""
from __future__ import annotations

import importlib

from . import _check
from ._check import Verdict, holds
from ._core import RULES, Bound, Estimate, Goal, Lemma, Step

ORDER = (
    "tensor_trick", "kron_blocks", "kron_norm",
    "u_deriv", "alpha_deriv", "f_deriv", "c_deriv", "h_deriv",
    "grad_normalized", "grad_rescaled", "hessian_normalized", "hessian_rescaled",
    "matrix_grad_normalized", "matrix_grad_rescaled",
    "matrix_hvp", "h_alpha_c", "rescaled_vs_normalized",
    "row_shift", "xzw_invariance",
    "softmax_jacobian_half", "softmax_lipschitz_logits", "logit_box", "exp_lipschitz_box",
    "alpha_lipschitz_logits", "h_lipschitz_logits",
    "normalized_grad_lipschitz_logits", "rescaled_grad_lipschitz_logits",
    "alpha_upper", "alpha_lower", "u_upper",
    "u_lipschitz_x", "u_lipschitz_A", "alpha_lipschitz_x", "alpha_lipschitz_A",
    "f_lipschitz_x", "f_lipschitz_A", "c_lipschitz_x", "c_lipschitz_A", "h_lipschitz_x", "h_lipschitz_A",
    "grad_lipschitz_normalized", "grad_lipschitz_normalized_A", "grad_lipschitz_rescaled",
    "matrix_logit_box", "matrix_alpha_upper", "matrix_alpha_lower",
    "matrix_f_lipschitz_X", "matrix_c_lipschitz_X", "matrix_u_lipschitz_X", "matrix_alpha_lipschitz_X",
    "matrix_h_lipschitz_X",
    "matrix_grad_lipschitz_normalized", "matrix_grad_lipschitz_normalized_factors", "matrix_grad_lipschitz_rescaled",
    "matrix_f_lipschitz_A1", "matrix_f_lipschitz_A2", "matrix_u_lipschitz_A1",
)

LEMMAS: dict[str, Lemma] = {name: importlib.import_module(f".{name}", __name__).LEMMA for name in ORDER}


def verify(lemma: Lemma, sizes=None, known: dict | None = None, *, numeric: bool = True) -> Verdict:
    """Check ``lemma`` at the checker's sizes (``sizes`` can only add larger ones): every step, every rule's
    pattern, the composition of a bound, and with ``numeric`` the lemma's own numeric route and the checker's
    own sampling; every lemma it requires must verify too. ``known`` (default :data:`LEMMAS`) maps the ids a
    citation or a ``requires`` may name. See :func:`._check.verify`."""
    return _check.verify(lemma, sizes, LEMMAS if known is None else known, numeric=numeric)


def bound_lemmas(*, verified: bool = True) -> list[Lemma]:
    """The lemmas with a claims-vocabulary :class:`Bound`, in :data:`ORDER`. With ``verified`` (the default)
    only those that :func:`verify` proves — every layer: steps at the checker's sizes, rule patterns,
    composition, the lemma's numeric route and the checker's own sampling — which includes every lemma they
    require, transitively (about a minute the first time in a process on 2 cores; verdicts are cached);
    ``verified=False`` lists them without checking."""
    found = [lem for lem in LEMMAS.values() if lem.bound is not None]
    return [lem for lem in found if verify(lem).ok] if verified else found


__all__ = ["LEMMAS", "ORDER", "RULES", "Bound", "Estimate", "Goal", "Lemma", "Step", "Verdict", "bound_lemmas",
           "holds", "verify"]
