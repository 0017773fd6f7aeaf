"""Convert and validate public inputs of the reference path (same sentences as the production path)."""
from __future__ import annotations

from attnreg._validate import check_version

from .balls import Certified, certify, leaf, logit_bound
from .context import check_dps, evaluate, make_context, to_matrix, to_vector


def matrix_inputs(ctx, A1, A2, B, X, V=None, leaf=None):
    """``(A1, A2, B, X[, V])`` as lists of rows of ``ctx.mpf``; ``B`` may be None (not needed)."""
    A1 = to_matrix(ctx, "A1", A1, (None, None), leaf)
    n, d = len(A1), len(A1[0])
    out = [A1, to_matrix(ctx, "A2", A2, (n, d), leaf), None if B is None else to_matrix(ctx, "B", B, (n, n), leaf),
           to_matrix(ctx, "X", X, (d, d), leaf)]
    return out if V is None else [*out, to_matrix(ctx, "V", V, (d, d), leaf)]


def vector_inputs(ctx, A, b, x, v=None, leaf=None):
    """``(A, b, x[, v])`` as lists of ``ctx.mpf``; ``b`` may be None (not needed)."""
    A = to_matrix(ctx, "A", A, (None, None), leaf)
    n, d = len(A), len(A[0])
    out = [A, None if b is None else to_vector(ctx, "b", b, n, leaf), to_vector(ctx, "x", x, d, leaf)]
    return out if v is None else [*out, to_vector(ctx, "v", v, d, leaf)]


NO_VERSION = object()  # for the building blocks, which have no version


def require(**named) -> None:
    """One sentence naming an argument that is required but given as None."""
    for name, value in named.items():
        if value is None:
            raise TypeError(f"{name} is required: pass an array of real numbers, got None")


def run(fn, convert, args, dps, version=NO_VERSION):
    """mpmath path: validate, then ``evaluate(ctx -> fn(ctx, *convert(ctx, *args)[, version]), dps)``."""
    if version is not NO_VERSION:
        check_version(version)
    check_dps(dps)
    tail = () if version is NO_VERSION else (version,)
    return evaluate(lambda ctx: fn(ctx, *convert(ctx, *args), *tail), dps)


def _logits(convert, pairs) -> float:
    """A bound on ``|S|`` (and ``|dS|``) of the inputs, for :func:`.balls.max_extra`."""
    if convert is vector_inputs:
        A, x, v = pairs[0], pairs[2], pairs[3] if len(pairs) > 3 else None
        return max(logit_bound(A, [[t] for t in y]) for y in (x, v) if y is not None)
    A1, A2 = pairs[0], pairs[1]
    A2t = [list(col) for col in zip(*A2)]
    return max(logit_bound(A1, M, A2t) for M in pairs[3:] if M is not None and len(M) == len(A1[0]))


def proven(fn, convert, args, dps, version=NO_VERSION, record=False, deep=False):
    """Ball path: validate, then :func:`.balls.certify` ``fn(*balls[, version])``; the value, or the
    :class:`.balls.Certified` record when ``record`` is true. Only ``deep`` computations get a precision
    cap that grows with the logits (:func:`.balls.max_extra`): second derivatives (a saturated row's
    Hessian is ``e^{−4|S|}`` of its terms) and the ICL target (``B̃ = (u − h')/α`` needs ``h'`` to
    ``e^{−|S'|}`` of its terms). Elsewhere the growth only made unprovable exact zeros (the gradient
    along an invariance direction ``X → X + z wᵀ``, ``A2 w = 1``) cost up to 43,000 digits."""
    if version is not NO_VERSION:
        check_version(version)
    dps = check_dps(dps)
    pairs = convert(make_context(dps + 20), *args, leaf=leaf)
    tail = () if version is NO_VERSION else (version,)
    result = certify(lambda *a: fn(*a, *tail), pairs, dps, _logits(convert, pairs) if deep else 0.0)
    return result if record else result.value


def log_of(public, fn, convert, args, dps, version, record):
    """``log`` of the proven value of ``fn``: ``-inf`` where the value is exactly 0, an ``ArithmeticError``
    naming the proven bound where the balls cannot separate it from 0."""
    first = public(*args, version=version, dps=dps, record=True)
    if first.value == 0:
        if first.radius == 0:
            value = first.value.context.ninf
            return Certified(value, first.radius, (), first.dps, first.working_dps) if record else value
        raise ArithmeticError(f"the loss cannot be told apart from 0 at {first.working_dps} working digits "
                              f"(|L| <= {first.value.context.nstr(first.radius, 5)}), so its log is not determined")
    return proven(lambda *a: fn(*a).log(), convert, args, dps, version, record)
