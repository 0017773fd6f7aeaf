r"""In-context learning with proven digits: the shifted target ``B̃`` and the exactness of the construction.

The production construction is :mod:`attnreg.icl` (its docstring has the mathematics). Here ``B̃`` is
evaluated in ball arithmetic through the new problem's residual (:func:`.ball_forms.shifted_target`:
``B̃ = F(S) − c'`` normalized, ``B̃ = (u − h') / α`` rescaled) with the precision raised until every
entry has ``dps`` proven digits (:mod:`.balls`), so a move across a huge logit range (``X = −400 → 0``)
costs working precision, not digits.

:func:`exactness` measures, in ball arithmetic, how far the old problem's residual with the returned
``B̃`` is from the new problem's residual with ``B``, relative to the *terms* of the old residual
(``|f|, |B̃|`` normalized; ``|u|, |α B̃|`` rescaled, entry by entry). That is the scale at which ``dps``
digits of ``B̃`` act, so a correct ``B̃`` gives about ``10^{−dps}`` and a wrong one gives its error
relative to the terms (a ``B̃`` of 0 where 0.5 is right gives 1, even when the residuals are 1e-174).
The result is a proven upper bound.
"""
from __future__ import annotations

import math

import flint
from mpmath import libmp

from attnreg._validate import check_move, check_version

from . import ball_forms
from ._inputs import _logits, matrix_inputs, proven, require
from .balls import balls, certify, leaf
from .context import check_dps, make_context

__all__ = ["shifted_target", "exactness"]


def _new(A1, A2, X, A1_new, A2_new, X_new):
    check_move(A1_new, A2_new, X_new)
    return (A1 if A1_new is None else A1_new, A2 if A2_new is None else A2_new, X if X_new is None else X_new)


def _both(ctx, A1, A2, B, X, A1n, A2n, Xn, leaf=None):
    """The inputs of the old and the new problem (validated, same sentences as the public functions)."""
    a1n, a2n, _, xn = matrix_inputs(ctx, A1n, A2n, B, Xn, leaf=leaf)
    return [*matrix_inputs(ctx, A1, A2, B, X, leaf=leaf), a1n, a2n, xn]


def shifted_target(A1, A2, B, X, *, version, A1_new=None, A2_new=None, X_new=None, dps: int = 50, record=False):
    """``B̃`` as an n × n ``mpmath.matrix`` with ``dps`` proven digits per entry (``record=True``: the
    :class:`.balls.Certified` record)."""
    version = check_version(version)
    require(A1=A1, A2=A2, B=B, X=X)
    A1n, A2n, Xn = _new(A1, A2, X, A1_new, A2_new, X_new)

    def compute(A1, A2, B, X, A1n, A2n, Xn):
        return ball_forms.shifted_target(A1, A2, B, X, A1n, A2n, Xn, version)

    return proven(compute, _both, (A1, A2, B, X, A1n, A2n, Xn), dps, record=record, deep=True)


def exactness(A1, A2, B, X, *, version, A1_new=None, A2_new=None, X_new=None, dps: int = 50):
    """``max_ij |residual_new(B) − residual_old(B̃)|_ij / terms_old_ij`` as a proven upper bound (an mpf;
    about ``10^{−dps}`` when the construction is exact; module docstring).

    The residual differences are certified like every reference value (:func:`.balls.certify`: the
    precision rises until each is proven to ``dps`` digits or bounded as an unresolved zero), so a new
    residual that cancels far below its own terms (rescaled rows at large logits: ``u' − α'·½`` with
    ``u' = e^{400}``) does not make a correct ``B̃`` look inexact."""
    version = check_version(version)
    dps = check_dps(dps)
    A1n, A2n, Xn = _new(A1, A2, X, A1_new, A2_new, X_new)
    Bt = shifted_target(A1, A2, B, X, version=version, A1_new=A1_new, A2_new=A2_new, X_new=X_new, dps=dps)
    ctx = make_context(dps + 20)
    new_pairs, old_pairs = matrix_inputs(ctx, A1n, A2n, B, Xn, leaf=leaf), matrix_inputs(ctx, A1, A2, Bt, X, leaf=leaf)
    key = "c" if version == "normalized" else "h"

    def gaps(A1n, A2n, B, Xn, A1, A2, Bt, X):
        new, old = ball_forms.matrix_blocks(A1n, A2n, Xn, B), ball_forms.matrix_blocks(A1, A2, X, Bt)
        return [[a - b for a, b in zip(rn, ro)] for rn, ro in zip(new[key], old[key])]

    logits = max(_logits(matrix_inputs, p) for p in (new_pairs, old_pairs))
    rec = certify(gaps, [*new_pairs, *old_pairs], dps, logits)
    with flint.ctx.workprec(math.ceil((dps + 20) * math.log2(10)) + 8):
        A1, A2, Bt, X = (balls(p) for p in old_pairs)
        old = ball_forms.matrix_blocks(A1, A2, X, Bt)
        worst = flint.arb(0)
        for j, row in enumerate(Bt):
            for k in range(len(row)):
                if version == "normalized":
                    terms = max(abs(old["f"][j][k]).lower(), abs(Bt[j][k]).lower())
                else:
                    terms = max(abs(old["u"][j][k]).lower(), abs(old["alpha"][j] * Bt[j][k]).lower())
                gap = abs(_arb(rec.value[j, k])) + _arb(rec.radius[j, k])  # ≥ |true gap|
                worst = max(worst, (gap / terms).upper())
        return _upper(make_context(dps), worst)


def _arb(x):
    """An mpf as an exact ``arb``."""
    sign, man, exp, _ = x._mpf_
    return flint.arb((-man if sign else man, exp))


def _upper(ctx, b):
    man, exp = b.upper().mid().man_exp()
    return ctx.make_mpf(libmp.from_man_exp(int(man), int(exp), ctx.prec, "u"))
