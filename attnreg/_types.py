"""Type aliases for the annotations of the production code.

The production functions take and return arrays of any library that follows the array API (NumPy,
array-api-strict, torch, JAX, dask, ...), chosen at run time through ``array_api_compat``. The array API
standard publishes no static array type that all those libraries satisfy and that we could depend on, so an
array is ``Any`` to the type checker: the aliases below say what is meant, and mark the places to tighten
once such a type exists. The same holds for an array namespace (the ``xp`` of the functions).
"""
from __future__ import annotations

from typing import Any, TypeAlias

Array: TypeAlias = Any
"""An array of the array API (any library); a NumPy array, a torch tensor, ..."""

Namespace: TypeAlias = Any
"""An array API namespace (``xp``): ``array_api_compat.array_namespace(...)`` of the arrays at hand."""
