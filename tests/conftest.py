"""Shared test setup: Hypothesis profiles, the array-library fixture, a guard on global mpmath state."""
from __future__ import annotations

import importlib
import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

# "ci" (the default) is derandomized so that CI runs are reproducible; "dev" explores more.
settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = ["numpy", "array_api_strict", "torch"]


def _available(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.skipif(not _available(name), reason=f"{name} missing"))
                        for name in BACKENDS])
def backend(request):
    from attnreg.verify.backends import backend as get

    return get(request.param)


@pytest.fixture(autouse=True)
def global_mpmath_untouched():
    """Library code must never change the global mpmath context (docs/design.md §7)."""
    before = (mpmath.mp.prec, mpmath.iv.prec)
    yield
    assert (mpmath.mp.prec, mpmath.iv.prec) == before, "the global mpmath precision was changed"


def pytest_report_header(config):
    import numpy
    import sympy

    return (f"attnreg: numpy {numpy.__version__}, mpmath {mpmath.__version__}, sympy {sympy.__version__}; "
            f"hypothesis profile {settings._current_profile}; backends: "
            + ", ".join(b for b in BACKENDS if _available(b)))
