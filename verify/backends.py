"""Array libraries the checks can run the production path on (numpy always; others when installed)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Backend:
    name: str
    module: object

    def asarray(self, a):
        if self.name == "torch":  # keep the dtype of the numpy array (float64 or float32)
            return self.module.asarray(np.ascontiguousarray(a), dtype=getattr(self.module, np.asarray(a).dtype.name))
        return self.module.asarray(a)

    def to_numpy(self, a):
        if self.name == "torch":
            return a.detach().cpu().numpy()
        return np.asarray(a) if self.name == "numpy" else np.from_dlpack(a)

    def is_native(self, a) -> bool:
        """The production path returns arrays of the library it was given."""
        kind = {"numpy": "numpy", "torch": "torch", "array_api_strict": "array_api_strict"}[self.name]
        return type(a).__module__.split(".")[0] == kind


def backend(name: str) -> Backend | None:
    """The backend ``name`` ("numpy", "array_api_strict", "torch"), or None when not installed."""
    try:
        return Backend(name, importlib.import_module(name))
    except ImportError:
        return None
