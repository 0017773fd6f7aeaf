"""Validation at the public boundary (docs/design.md §6): one clear sentence naming the argument."""
from __future__ import annotations

import functools
import math
import numbers
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from array_api_compat import array_namespace, device, is_array_api_obj, is_jax_array, is_lazy_array

from ._types import Array, Namespace

VERSIONS = ("normalized", "rescaled")


def check_version(version: object) -> str:
    if version not in VERSIONS:
        raise ValueError(f"version must be 'normalized' or 'rescaled', got {version!r}")
    return version


def namespace(**arrays: Array) -> Namespace:
    """Resolve the one array namespace of the named arrays, checking type, dtype and device."""
    for name, a in arrays.items():
        if not is_array_api_obj(a):
            raise TypeError(
                f"{name} must be an array (numpy, torch, cupy, jax or array_api_strict), "
                f"got {type(a).__name__}; convert it first, e.g. numpy.asarray({name}, dtype=float)"
            )
    try:
        xp = array_namespace(*arrays.values())
    except TypeError as exc:
        kinds = ", ".join(f"{n}: {type(a).__module__}.{type(a).__name__}" for n, a in arrays.items())
        raise TypeError(f"arrays come from different libraries ({kinds}); pass arrays of one library") from exc
    (first_name, first), *rest = arrays.items()
    for name, a in arrays.items():
        try:
            floating = xp.isdtype(a.dtype, "real floating")
        except TypeError:  # a dtype the library does not know as its own (ml_dtypes' bfloat16 in a NumPy array)
            floating = False
        if not floating:
            raise TypeError(f"{name} must have a real floating-point dtype of its library, got {a.dtype}")
        if getattr(a.dtype, "itemsize", 8) > 8:  # np.longdouble: no exp/log kernels we can vouch for
            raise TypeError(f"{name} has the extended-precision dtype {a.dtype}, which the production path does "
                            f"not support; convert it to float64, or use attnreg.reference for more digits")
    for name, a in rest:
        if a.dtype != first.dtype:
            raise TypeError(f"{name} has dtype {a.dtype} but {first_name} has {first.dtype}; pass one dtype")
        here, there = device(a), device(first)
        if here is not None and there is not None and here != there:  # a jit-traced array has no device
            raise ValueError(f"{name} is on device {here} but {first_name} is on {there}")
    for name, a in arrays.items():
        if getattr(device(a), "type", None) == "meta":
            raise ValueError(f"{name} is on torch's 'meta' device, which holds shapes but no values; attnreg "
                             f"computes values: put the tensors on 'cpu' or 'cuda'")
    return xp


def check_shape(name: str, a: Array, shape: tuple[int | None, ...], meaning: str) -> None:
    """`shape` holds ints or None (free); `meaning` spells it in the paper's letters, e.g. '(n, d)'."""
    if a.ndim != len(shape) or any(want is not None and got != want for got, want in zip(a.shape, shape)):
        raise ValueError(f"{name} must have shape {meaning} = {_shape_text(shape)}, got {tuple(a.shape)}")
    if any(s == 0 for s in a.shape):
        raise ValueError(f"{name} is empty (shape {tuple(a.shape)}); n and d must be at least 1")


def readable(x: Array) -> bool:
    """Whether ``x``'s values can be read now. array_api_compat's ``is_lazy_array`` is True for *every* JAX array
    (it errs on the side of caution); only a JAX tracer (under ``jax.jit``, ``jax.grad``, ``vmap``) cannot be
    read, so eager JAX arrays are read like NumPy's."""
    if is_jax_array(x):  # jax is loaded when x is a jax array: reach it through sys.modules (no import here)
        return not isinstance(x, sys.modules["jax"].core.Tracer)
    return not is_lazy_array(x)


def check_finite(xp: Namespace, **arrays: Array) -> None:
    for name, a in arrays.items():
        # A traced array has no values yet, so its finiteness cannot be known here; nor can that of an eager JAX
        # array's inside a trace (closed over by a jit-compiled function: the test itself is then traced).
        if not readable(a):
            continue
        finite = xp.all(xp.isfinite(a))
        if readable(finite) and not bool(finite):
            raise ValueError(f"{name} contains non-finite entries (nan or inf)")


def check_int(name: str, value: object, *, minimum: int) -> int:
    """An integer option: any integral number (``int``, ``numpy.int64``, …, not ``bool``) ``≥ minimum``,
    returned as ``int``; otherwise one sentence naming the option."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative" if minimum == 0 else f"an (>= {minimum})"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")
    return int(value)


def check_block_rows(block_rows: object, n: int) -> int:
    if block_rows is None:
        return max(1, min(n, BLOCK_ELEMENTS // n))
    return min(check_int("block_rows", block_rows, minimum=1), n)


def check_max_entries(max_entries: object) -> int:
    return check_int("max_entries", max_entries, minimum=1)


# Rows per block so that one block×n temporary holds about 2**20 numbers (8 MiB in float64).
BLOCK_ELEMENTS = 2**20


def check_solver_options(max_iter: object, tol: object, callback: object) -> None:
    """The options both solvers share: ``max_iter`` a non-negative int, ``tol`` None or a positive finite
    real number, ``callback`` None or callable."""
    check_int("max_iter", max_iter, minimum=0)
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                            or not 0 < float(tol) < math.inf):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(iteration, loss, grad_norm), got {callback!r}")


def check_move(A1_new: Array | None, A2_new: Array | None, X_new: Array | None) -> str:
    """The in-context-learning move: ``"data"`` (A1_new and/or A2_new) or ``"weight"`` (X_new), not both."""
    if A1_new is None and A2_new is None and X_new is None:
        raise ValueError("give a data shift (A1_new and/or A2_new) or a weight shift (X_new)")
    if X_new is not None and (A1_new is not None or A2_new is not None):
        raise ValueError("give either a data shift (A1_new, A2_new) or a weight shift (X_new), not both")
    return "weight" if X_new is not None else "data"


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def matrix_problem(A1: Array, A2: Array, X: Array, B: Array | None = None, V: Array | None = None,
                   finite: bool = True, uses_b: bool = True) -> tuple[Namespace, int, int]:
    """Validate the matrix form's (A1, A2, X[, B][, V]) and return (xp, n, d); ``finite=False`` leaves the
    finiteness check to the caller (the row sweep does it in O(1) passes). ``uses_b=False``: the caller
    (the blocks u, α, f) does not use the target, so ``B`` may be None."""
    _target_given(B, "B", "an n × n array", uses_b)
    arrays = {k: a for k, a in dict(A1=A1, A2=A2, B=B, X=X, V=V).items() if a is not None or k in ("A1", "A2", "X")}
    xp = namespace(**arrays)
    if A1.ndim != 2:
        raise ValueError(f"A1 must be a 2-D array of shape (n, d), got {A1.ndim}-D shape {tuple(A1.shape)}")
    n, d = A1.shape
    shapes = dict(A1=((n, d), "(n, d)"), A2=((n, d), "(n, d)"), B=((n, n), "(n, n)"), X=((d, d), "(d, d)"),
                  V=((d, d), "(d, d)"))
    for name, a in arrays.items():
        check_shape(name, a, *shapes[name])
    if finite:
        check_finite(xp, **arrays)
    return xp, n, d


def vector_problem(A: Array, x: Array, b: Array | None = None,
                   v: Array | None = None, uses_b: bool = True) -> tuple[Namespace, int, int]:
    """Validate the vector form's (A, x[, b][, v]) and return (xp, n, d); ``b`` may be None only with
    ``uses_b=False``."""
    _target_given(b, "b", "a length-n array", uses_b)
    arrays = {k: a for k, a in dict(A=A, b=b, x=x, v=v).items() if a is not None or k in ("A", "x")}
    xp = namespace(**arrays)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array of shape (n, d), got {A.ndim}-D shape {tuple(A.shape)}")
    n, d = A.shape
    shapes = dict(A=((n, d), "(n, d)"), b=((n,), "(n,)"), x=((d,), "(d,)"), v=((d,), "(d,)"))
    for name, a in arrays.items():
        check_shape(name, a, *shapes[name])
    check_finite(xp, **arrays)
    return xp, n, d


def _target_given(B: Array | None, name: str, what: str, uses_b: bool) -> None:
    if B is None and uses_b:
        raise TypeError(f"{name} is required here (the target): pass {what} of real numbers, got None")


def omitted_b(B: Array | None, X: Array | None, x_name: str = "X") -> tuple[Array | None, Array]:
    """``(B, X)`` for a building block called ``(A1, A2, B, X)`` like every block and loss, or with the
    target left out, ``(A1, A2, X)``, by the blocks that do not use it (``u``, ``alpha``, ``f``): then the
    third argument is ``X``. Same for the vector form's ``(A, b, x)`` / ``(A, x)``. Only a *positional* third
    argument may stand for ``X``: a target given by keyword without ``X`` is refused (:func:`target_optional`)."""
    if X is None:
        if B is None:
            raise TypeError(f"{x_name} is required: pass an array of real numbers, got None")
        return None, B
    return B, X


F = TypeVar("F", bound=Callable[..., Any])


def target_optional(lead: int, b_name: str = "B", x_name: str = "X") -> Callable[[F], F]:
    """For the blocks that may omit the target (:func:`omitted_b`): the third *positional* argument is ``X``
    when the target is left out, but a target given by keyword (``B=M``) without ``X`` is an error, not
    ``X``. ``lead``: the arguments before the target (2 for ``(A1, A2, …)``, 1 for ``(A, …)``)."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get(b_name) is not None and kwargs.get(x_name) is None and len(args) <= lead:
                raise TypeError(f"{x_name} is required: {b_name}= was given by keyword without {x_name} (only a "
                                f"third positional argument stands for {x_name} when the target is left out)")
            return fn(*args, **kwargs)
        return call  # type: ignore[return-value]
    return decorate
