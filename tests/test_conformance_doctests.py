"""The docstring examples of attnreg.testing and the conformance modules run."""
import doctest
import importlib

import pytest

MODULES = ["attnreg.testing", "attnreg.testing.strategies", "attnreg.verify.conformance.independent"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    failed, attempted = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0 and attempted > 0
