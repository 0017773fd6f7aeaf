"""Load a candidate function, hand it inputs as its library's arrays, read back what it returns.

``TARGET`` is ``path/to/file.py:function`` or ``package.module:function``. The function is called as
``fn(A1, A2, B, X)`` (matrix form) or ``fn(A, b, x)`` (vector form) and returns the loss or
``(loss, grad)``. Mistakes in the target itself raise :class:`TargetError` (one sentence).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from .dtypes import numpy_dtype

BACKENDS = ("numpy", "torch", "jax", "cupy")


class TargetError(ValueError):
    """The target cannot be loaded or does not return what it must; the message is one sentence."""


def load(target: str):
    if ":" not in target:
        raise TargetError(f"TARGET {target!r} must be path/to/file.py:function or package.module:function")
    where, name = target.rsplit(":", 1)
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where)
            if not path.is_file():
                raise TargetError(f"TARGET {target!r}: no file {where}")
            spec = importlib.util.spec_from_file_location(f"_attnreg_target_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except TargetError:
        raise
    except (Exception, SystemExit) as exc:  # the user's module failed to import: say why, in one line
        raise TargetError(f"TARGET {target!r}: importing {where} failed: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise TargetError(f"TARGET {target!r}: {where} has no function {name!r}")
    return fn


def converter(backend: str, dtype: str, device=None):
    """``to_backend(float64 array) -> array of that library`` (on ``device``); a device the library does
    not have is a :class:`TargetError`."""
    if device is not None and backend == "numpy":
        raise TargetError(f"--device {device}: NumPy arrays have no device; --device is for torch, jax, cupy")
    if device is None:
        return _converter(backend, dtype, device)
    try:
        convert = _converter(backend, dtype, device)
        convert(np.zeros(1))
    except TargetError:
        raise
    except Exception as exc:
        raise TargetError(f"--device {device}: {backend} cannot use it ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return convert


def _converter(backend: str, dtype: str, device=None):
    if backend == "numpy":
        nd = numpy_dtype(dtype)
        return lambda a: np.asarray(a, dtype=np.float64).astype(nd)
    try:
        lib = importlib.import_module({"jax": "jax.numpy"}.get(backend, backend))
    except ImportError:
        raise TargetError(f"--backend {backend}: {backend} is not installed") from None
    if backend == "torch":
        t = getattr(lib, dtype)
        return lambda a: lib.asarray(np.asarray(a, dtype=np.float64)).to(dtype=t, device=device or "cpu")
    if backend == "jax":
        import jax  # deferred: jax, an optional dependency

        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        dev = jax.devices(device)[0] if device else None
        return lambda a: jax.device_put(lib.asarray(np.asarray(a, dtype=np.float64), dtype=getattr(lib, dtype)), dev)
    if backend == "cupy":
        if dtype == "bfloat16":
            raise TargetError("--backend cupy has no bfloat16")
        return lambda a: lib.asarray(np.asarray(a, dtype=np.float64).astype(dtype))
    raise TargetError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def _refuse_hidden(v, depth: int = 0) -> None:
    """TypeError for text or masked values anywhere in ``v`` (nested lists, tuples, object arrays): ``np.asarray``
    reads a masked array's hidden data (or nan for ``np.ma.masked``) and ``astype(float64)`` parses ``'1.5'``, so a
    string loss, or a gradient of fully masked rows, had passed (tests/test_contain_attack*.py)."""
    if depth > 8:
        return
    if v is np.ma.masked or (isinstance(v, np.ma.MaskedArray) and np.ma.getmaskarray(v).any()):
        raise TypeError("masked values, not numbers")
    if isinstance(v, str | bytes):
        raise TypeError("text, not numbers")
    kind = getattr(getattr(v, "dtype", None), "kind", None)
    if isinstance(kind, str) and kind in "US":
        raise TypeError(f"text ({v.dtype}), not numbers")
    if isinstance(v, list | tuple) or kind == "O":
        for e in (v.flat if kind == "O" else v):
            _refuse_hidden(e, depth + 1)


def to_float64(v) -> np.ndarray:
    """Any array-like (NumPy, torch, JAX, CuPy, Python number) as a float64 NumPy array."""
    if hasattr(v, "detach"):  # torch: bfloat16 has no NumPy dtype, so widen first
        import torch  # deferred: torch, an optional dependency

        return v.detach().to(torch.float64).cpu().numpy()
    if hasattr(v, "get") and type(v).__module__.startswith("cupy"):
        v = v.get()
    _refuse_hidden(v)
    a = np.asarray(v)
    if np.iscomplexobj(a):
        if np.any(a.imag != 0):
            raise TargetError("the function returned complex values with a nonzero imaginary part")
        a = a.real
    return a.astype(np.float64)


def split(result, grad_shape):
    """``(loss, grad or None)`` from what the function returned; raises TargetError on a wrong shape."""
    if result is None or isinstance(result, str | bytes | dict):
        raise TargetError(f"the function must return the loss or (loss, grad); it returned {type(result).__name__}")
    if isinstance(result, tuple | list):
        if len(result) != 2:
            raise TargetError(f"the function must return the loss or (loss, grad); it returned {len(result)} values")
        loss, grad = to_float64(result[0]), to_float64(result[1])
        if grad.shape != grad_shape:
            raise TargetError(f"the gradient must have shape {grad_shape}, got {grad.shape}")
    else:
        loss, grad = to_float64(result), None
    if loss.size != 1:
        raise TargetError(f"the loss must be a scalar, got an array of shape {loss.shape}")
    return float(loss.reshape(())), grad
