"""Objects the proof-checker reviews forged, shared by their tests."""
import pytest
import sympy as sp


class Rf(sp.Function):
    """A positive integer to sympy, R to evalf, printed as R."""
    is_positive = True
    is_integer = True

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)

    def _sympystr(self, printer):
        return printer._print(self.args[0])


@pytest.fixture(autouse=True)
def fresh_sympy_cache():
    """An altered node must not reach another test through sympy's constructor cache (nor come from one)."""
    sp.core.cache.clear_cache()
    yield
    sp.core.cache.clear_cache()
