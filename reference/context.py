"""Local mpmath contexts, exact input conversion and precision-verified evaluation.

Nothing here touches the global ``mpmath.mp``: every computation gets its own ``MPContext``
(mpmath's docs: the global context is not thread-safe). Float inputs (float64, float32) convert
exactly; decimal strings and fractions are rounded at the working precision, which is above the
requested one.
"""
from __future__ import annotations

import numbers
from fractions import Fraction

import mpmath

MIN_DPS, MAX_DPS = 15, 10_000


def check_dps(dps) -> int:
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral) or not MIN_DPS <= dps <= MAX_DPS:
        raise ValueError(f"dps must be an integer between {MIN_DPS} and {MAX_DPS}, got {dps!r}")
    return int(dps)


def make_context(dps: int) -> mpmath.MPContext:
    """A fresh ``MPContext`` working with ``dps`` decimal digits."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def to_mpf(ctx, name: str, value):
    """One real number as ``ctx.mpf``: floats exactly, strings/fractions at ``ctx``'s precision."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must hold real numbers, got a bool")
    if isinstance(value, str | numbers.Real | Fraction) or hasattr(value, "_mpf_"):
        try:
            if isinstance(value, Fraction):
                x = ctx.mpf(value.numerator) / value.denominator
            elif _is_extended_float(value):  # np.longdouble: exact, through its binary fraction
                p, q = value.as_integer_ratio()
                x = ctx.ldexp(ctx.mpf(p), -(q.bit_length() - 1))
            else:
                x = ctx.mpf(float(value) if _is_binary_float(value) else value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} holds {value!r}, which is not a real number") from exc
        if not ctx.isfinite(x):
            raise ValueError(f"{name} contains non-finite entries (nan or inf)")
        return x
    raise TypeError(f"{name} must hold real numbers (floats, ints, decimal strings), got {type(value).__name__}")


def _is_binary_float(value) -> bool:
    # numpy floating scalars up to 64 bits convert exactly through Python float; longdouble would not.
    return isinstance(value, float) or (type(value).__module__ == "numpy" and getattr(value, "dtype", None) is not None
                                        and value.dtype.kind == "f" and value.dtype.itemsize <= 8)


def _is_extended_float(value) -> bool:
    # finite extended floats only: nan and inf fall through to the finiteness check's sentence
    if type(value).__module__ != "numpy" or getattr(value, "dtype", None) is None:
        return False
    import numpy as np  # deferred: numpy, only for numpy inputs (the reference needs mpmath alone)

    return value.dtype.kind == "f" and value.dtype.itemsize > 8 and bool(np.isfinite(value))


def _nested(value):
    """A nested Python list from a list, tuple, numpy/torch/array-API array or mpmath matrix."""
    if isinstance(value, list | tuple):
        return [_nested(v) if isinstance(v, list | tuple) else v for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):
        if hasattr(value, "detach"):  # torch
            value = value.detach().cpu()
        if type(value).__module__.startswith("array_api_strict"):
            import numpy as np  # deferred: numpy, only for numpy inputs (the reference needs mpmath alone)

            value = np.asarray(value)
        return value.tolist()
    return value


def to_matrix(ctx, name: str, value, shape: tuple, leaf=None) -> list[list]:
    """A 2-D input as a list of rows of ``ctx.mpf``; ``shape`` holds ints or None (free).

    With ``leaf``, each entry is ``leaf(raw entry, its ctx.mpf)`` instead (the ball path keeps the raw
    decimal strings and fractions, see :mod:`.balls`)."""
    rows = _nested(value)
    if isinstance(value, mpmath.matrix) or hasattr(value, "rows") and hasattr(value, "cols"):
        rows = [[value[i, j] for j in range(value.cols)] for i in range(value.rows)]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows) or len({len(r) for r in rows}) > 1:
        raise ValueError(f"{name} must be a 2-D array (a list of equal-length rows)")
    if any(isinstance(v, list) for r in rows for v in r):
        raise ValueError(f"{name} must be a 2-D array, got one with more dimensions")
    got = (len(rows), len(rows[0]) if rows else 0)
    if any(w is not None and g != w for g, w in zip(got, shape)):
        want = ", ".join("?" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} must have shape ({want}), got {got}")
    if 0 in got:
        raise ValueError(f"{name} is empty (shape {got}); n and d must be at least 1")
    leaf = leaf or (lambda raw, x: x)
    return [[leaf(v, to_mpf(ctx, name, v)) for v in r] for r in rows]


def to_vector(ctx, name: str, value, length: int | None = None, leaf=None) -> list:
    """A 1-D input as a list of ``ctx.mpf`` (an n × 1 mpmath matrix is accepted too); ``leaf`` as in
    :func:`to_matrix`."""
    if isinstance(value, mpmath.matrix) or hasattr(value, "rows") and hasattr(value, "cols"):
        if value.cols != 1:
            raise ValueError(f"{name} must be a vector, got a {value.rows}×{value.cols} matrix")
        items = [value[i, 0] for i in range(value.rows)]
    else:
        items = _nested(value)
    if not isinstance(items, list) or any(isinstance(v, list) for v in items):
        raise ValueError(f"{name} must be a 1-D array")
    if not items:
        raise ValueError(f"{name} is empty; n and d must be at least 1")
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have length {length}, got {len(items)}")
    leaf = leaf or (lambda raw, x: x)
    return [leaf(v, to_mpf(ctx, name, v)) for v in items]


def evaluate(compute, dps: int, *, guard: int = 10):
    """Run ``compute(ctx)`` at increasing precision until two runs agree to ``dps + 3`` digits.

    This is the mpmath route, a heuristic: two runs can lose the same term and agree on a wrong
    value (a saturated row beside an ordinary one). The public reference proves its digits with
    balls instead (:mod:`.balls`); this stays for the ``ctx``-first mpmath code that has no ball
    counterpart yet and as a second route to compare against.

    ``compute`` returns an mpf, a (nested) list of mpf, or a tuple of those. It runs first with
    ``dps + guard`` digits, then with the extra digits doubled each time, so that cancellation (for
    example a loss near zero at a realisable point) cannot leave fewer than ``dps`` correct digits.
    A value that still moves at ``3·dps`` extra digits is zero to that precision, relative to its
    terms; the highest-precision value is returned then. Results are rounded into a fresh context
    of ``dps`` digits, so arithmetic on them continues at ``dps``.
    """
    dps = check_dps(dps)
    extra, previous = guard, None
    while True:
        value = compute(make_context(dps + extra))
        if previous is not None and _agree(previous, value, mpmath.mpf(10) ** -(dps + 3)):
            break
        if extra >= 3 * dps:
            break
        previous, extra = value, 2 * extra
    return _round(make_context(dps), value)


def _flat(value):
    if isinstance(value, list | tuple):
        return [y for v in value for y in _flat(v)]
    return [value]


def _agree(a, b, tol) -> bool:
    fa, fb = _flat(a), _flat(b)
    diff = max(abs(x - y) for x, y in zip(fa, fb))
    return diff == 0 or diff <= tol * max(abs(y) for y in fb)


def _round(ctx, value):
    """Into ``ctx``: scalars as ``ctx.mpf``, lists of rows as ``ctx.matrix``, lists as column matrices."""
    if isinstance(value, tuple):
        return tuple(_round(ctx, v) for v in value)
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return ctx.matrix([[ctx.mpf(x) for x in row] for row in value])
        return ctx.matrix([ctx.mpf(x) for x in value])
    return ctx.mpf(value)
