"""The examples in docstrings run (they are the executable specification)."""
import doctest
import importlib

import pytest

MODULES = ["attnreg", "attnreg.matrix", "attnreg.vector", "attnreg.tensor", "attnreg.reference", "attnreg.solvers",
           "attnreg.reference.solvers", "attnreg.verify.claims.expr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    failed, attempted = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0 and (attempted > 0 or name == "attnreg")
