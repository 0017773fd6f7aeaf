r"""Fused row kernels (numba, optional): the rows of :mod:`attnreg._fastrows`, each in one sweep of loops.

The NumPy kernels make one pass over the whole block per operation (eight besides the ``exp`` for the
normalized loss+gradient, ten rescaled, 13 and 18 for the HVPs), and each pass streams a block larger than the
caches. Here each row is read and written while it sits in the first-level cache, in three to five loops that
perform **the same operations in the same order on every entry** as the NumPy kernels (``f = e·(1/α)``,
``c = f − b``, ``p = f∘(c − ⟨f, c⟩)``, …; :mod:`attnreg._fastrows` derives each form and its rounding). The
``exp`` stays NumPy's (its SIMD ``exp``; numba's would be the scalar libm one without Intel's SVML).

What differs is the order of the row sums (``α = Σ e``, ``⟨f, c⟩``, ``Σ c²``, …): the loops that only add up
are compiled with reassociation allowed (LLVM's ``reassoc``, no other fast-math flag, so nan and inf propagate
as in NumPy), so that they vectorise into interleaved partial sums instead of NumPy's pairwise order. Either
order is backward stable: the computed sum is the exact sum of the terms each perturbed by at most ``γ_n``
relative (``γ_{⌈log₂ n⌉+1}`` for pairwise sums), and the fused order depends only on the row length and the
compiled code: the same bits for every row of that length, any block or thread count, run to run. The loops
that write entries are compiled without any fast-math flag. The flags are the NumPy kernels' (dominated rows:
some ``2·e_j > α``, i.e. ``f_max > ½``; a target entry above ½; sums that are not finite), computed inside
the loops instead of by ``max`` passes; where ``2·e_max`` and ``α`` tie to within the sums' rounding the two
kernels may flag differently, and either route is accurate there (tests/test_fused_attack.py).

Only float64 rows of at least :data:`MIN_N` entries take these kernels (:func:`usable`): below that a block
is small enough for the caches and importing numba (about 0.2 s, with SciPy, once per process) is not repaid;
float32 keeps the NumPy kernels, whose sums stay in float32 as the dtype's error model assumes. Set
``attnreg._fused.ENABLED = False`` to use the NumPy kernels everywhere (tests/test_fused.py runs the fast path's
accuracy tests on both; ``attnreg verify`` checks both against the 50-digit reference)."""
from __future__ import annotations

import importlib.util
import math
import sys
import threading

from . import _threads

ENABLED = True
MIN_N = 256  # row length from which a call takes these kernels (n ≥ 256: a 512-row block is 1 MiB)
_kernels = None
_failed: str | None = None  # why the kernels could not be loaded (then the NumPy kernels serve every call)
_LOCK = threading.Lock()


def available() -> bool:
    """Whether the fused kernels can serve a call: numba installed and, once a call has needed them, importable
    and compiled (a numba that fails to import, e.g. one built for another NumPy, leaves the NumPy kernels)."""
    if _failed is not None:
        return False
    if _kernels is not None:
        return True
    return importlib.util.find_spec("numba") is not None and kernels() is not None


def wanted(S_dtype, B_dtype, n) -> bool:
    """Whether rows of ``n`` entries of these NumPy dtypes take the fused kernels (float64 in native byte order:
    numba compiles no other)."""
    return (ENABLED and n >= MIN_N and S_dtype.char == "d" and B_dtype.char == "d" and S_dtype.isnative
            and B_dtype.isnative and available())


def usable(S, Bb, dS=None) -> bool:
    """Whether the rows of ``S`` (a NumPy block; ``dS`` its direction) take the fused kernels."""
    return (wanted(S.dtype, Bb.dtype, S.shape[1]) and S.flags.c_contiguous
            and (dS is None or (dS.dtype.char == "d" and dS.flags.c_contiguous)))


def kernels():
    """The kernels' module (numba imported and the kernels compiled, or loaded from numba's cache, on first use),
    or None when they cannot be loaded (:data:`_failed` says why)."""
    global _kernels, _failed
    with _LOCK:
        if _kernels is None and _failed is None:
            try:
                _kernels = _load()
            except Exception as err:  # numba not importable: the NumPy kernels serve every call
                _failed = f"{type(err).__name__}: {err}"
    return _kernels


def _load():
    """Import the kernels and compile them (or load them from numba's cache) on a one-entry row, here rather than
    in a call's lanes: compiling loads SciPy's OpenBLAS, which :mod:`attnreg._threads` must see before it limits."""
    np = sys.modules["numpy"]  # loaded: the call that needs the kernels has NumPy arrays (the core imports no NumPy)
    try:
        from . import _fused_numba as k  # deferred: numba (and the SciPy it loads) only when a call needs it
        one, flags = np.ones((1, 1)), np.zeros(1, dtype=bool)
        k.normalized(one.copy(), one, np.empty(1), flags, True)
        k.rescaled(one.copy(), one, np.empty(1), np.empty(1), flags, True)
        k.normalized_hvp(one.copy(), one, one.copy(), np.empty(1), flags)
        k.rescaled_hvp(one.copy(), one, one.copy(), np.empty(1), np.empty(1), flags)
    finally:
        _threads.refresh()  # numba loaded SciPy and its OpenBLAS: limit that one too from now on
    return k


def _calm(ss, n, big):
    """As :func:`attnreg._fastrows._calm`."""
    calm = 0.4 * math.log(big)
    return (ss < math.exp(2 * calm)) & (ss > n * math.exp(-2 * calm))


def _rows(np, Bb):
    return Bb if Bb.flags.c_contiguous else np.ascontiguousarray(Bb)


def normalized(np, S, Bb, *, with_p):
    """``(ℓ, flags)``; ``S`` holds ``e = exp(logits)`` (shifted where the caller shifted) on entry and ``P`` on
    exit (``with_p``; else ``e``)."""
    k = S.shape[0]
    loss, flags = np.empty(k), np.empty(k, dtype=bool)
    kernels().normalized(S, _rows(np, Bb), loss, flags, with_p)
    return loss, flags


def rescaled(np, S, Bb, *, big, with_p):
    """``(ℓ, flags)``; ``S`` holds ``u`` on entry and ``P`` on exit (``with_p``)."""
    k, n = S.shape
    hh, pp, flags = np.empty(k), np.empty(k), np.empty(k, dtype=bool)
    kernels().rescaled(S, _rows(np, Bb), hh, pp, flags, with_p)
    flags |= ~_calm(hh, n, big)
    if with_p:
        flags |= ~_calm(pp, n, big)
    return 0.5 * hh, flags


def normalized_hvp(np, S, Bb, dS):
    """``(flags, r)``; ``S`` holds ``e``, ``dS`` the direction; ``dP`` is left in ``dS`` (``S`` keeps ``e``)."""
    k = S.shape[0]
    r, flags = np.empty(k), np.empty(k, dtype=bool)
    kernels().normalized_hvp(S, _rows(np, Bb), dS, r, flags)
    return flags, r


def rescaled_hvp(np, S, Bb, dS, *, big):
    """``(flags, Σh²)``; ``S`` holds ``u``, ``dS`` the direction; ``dP`` is left in ``dS``."""
    k, n = S.shape
    hh, pp, flags = np.empty(k), np.empty(k), np.empty(k, dtype=bool)
    kernels().rescaled_hvp(S, _rows(np, Bb), dS, hh, pp, flags)
    flags |= ~_calm(hh, n, big) | ~_calm(pp, n, big)
    return flags, hh
