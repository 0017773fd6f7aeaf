"""attnreg.testing: assert_conforms, the problems() strategy, and the README's pytest file."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from impls import bugs_np, correct_np

from attnreg.testing import assert_conforms
from attnreg.testing.strategies import problems

ROOT = Path(__file__).resolve().parents[1]


def test_assert_conforms_passes_a_correct_implementation():
    data = assert_conforms(correct_np.normalized, version="normalized", examples=5)
    assert data["verdict"] == "pass" and data["diagnosis"] == []


def test_assert_conforms_message_is_the_diagnosis():
    with pytest.raises(AssertionError, match="transpose of the true one"):
        assert_conforms(bugs_np.column_major, version="normalized", examples=5)
    with pytest.raises(AssertionError, match="wrong sign"):
        assert_conforms(bugs_np.vector_wrong_sign, version="normalized", form="vector", examples=5)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_problems_are_consistent(data):
    form = data.draw(st.sampled_from(["matrix", "vector"]))
    dtype = data.draw(st.sampled_from(["float64", "float32", "float16", "bfloat16"]))
    p = data.draw(problems(form=form, version="rescaled", n=st.integers(1, 6), d=st.integers(1, 3),
                           logit_scale=st.sampled_from([0.5, 30.0]), dtype=dtype))
    n, d = p.n, p.d
    shapes = [(n, d), (n, d), (n, n), (d, d)] if form == "matrix" else [(n, d), (n,), (d,)]
    assert [a.shape for a in p.args] == shapes
    assert all(a.dtype.name == dtype for a in p.args) and p.version == "rescaled"
    A = [np.asarray(a).astype(np.float64) for a in p.args]
    S = A[0] @ A[3] @ A[1].T if form == "matrix" else A[0] @ A[2]
    top = np.abs(S).max()
    assert top == 0 or p.logit_scale / 2 <= top <= p.logit_scale * 2
    if p.b_kind == "simplex":
        B = A[2] if form == "matrix" else A[1][None, :]
        assert np.allclose(B.sum(axis=-1), 1, atol=0.05) and np.all(B >= 0)


def test_problems_rejects_unknown_arguments():
    with pytest.raises(ValueError, match="dtype must be one of"):
        problems(dtype="float8")
    with pytest.raises(ValueError, match="form must be"):
        problems(form="tensor")
    with pytest.raises(ValueError, match="b_kind must be"):
        problems(b_kind="dense")


def test_readme_pytest_file_runs(tmp_path):
    (code,) = re.findall(r"```py\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(code.strip().splitlines()) <= 16
    (tmp_path / "test_readme_example.py").write_text(code)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout
