"""``attnreg solve DATA.npz``: results, exit codes, and one clear sentence for every bad data file."""
from __future__ import annotations

import numpy as np
import pytest

from attnreg.cli import main
from attnreg.verify.checks import solver_problems as sp


@pytest.fixture
def data(tmp_path):
    p = sp.realisable(0, 8, 2)
    np.savez(tmp_path / "m.npz", A1=p.A1, A2=p.A2, B=p.B)
    A, b, xs = sp.vector_realisable(0, 6, 2)
    np.savez(tmp_path / "v.npz", A=A, b=b, x0=np.zeros(2))
    return tmp_path, p, xs


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "reference"])
def test_solve_writes_the_result_atomically(data, capsys, method):
    tmp, p, _ = data
    out = tmp / "r.npz"
    argv = ["solve", str(tmp / "m.npz"), "--version", "rescaled", "--method", method, "--out", str(out)]
    assert main(argv + (["--dps", "30"] if method == "reference" else [])) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("converged:") and f"wrote {out}" in printed
    with np.load(out) as r:
        assert bool(r["converged"]) and str(r["method"]) == method and str(r["version"]) == "rescaled"
        assert np.linalg.norm(r["X"] - p.X_star) <= 1e-8 * np.linalg.norm(p.X_star)
        assert r["history"].shape == (int(r["iterations"]) + 1, 3)
        if method == "reference":
            assert len(str(r["X_digits"][0, 0]).lstrip("-0.")) >= 30
    assert sorted(f.name for f in tmp.iterdir()) == ["m.npz", "r.npz", "v.npz"]  # no temporary left behind


def test_vector_form_and_dps_implies_reference(data, capsys):
    tmp, _, xs = data
    out = tmp / "rv.npz"
    assert main(["solve", str(tmp / "v.npz"), "--version", "normalized", "--dps", "25", "--out", str(out)]) == 0
    with np.load(out) as r:
        assert str(r["method"]) == "reference" and r["X"].shape == (2,)
        np.testing.assert_allclose(r["X"], xs, atol=1e-12)


def test_unbounded_and_max_iter_exit_1_with_the_reason(tmp_path, capsys):
    p = sp.escape(0, 8, 2)
    np.savez(tmp_path / "e.npz", A1=p.A1, A2=p.A2, B=p.B)
    assert main(["solve", str(tmp_path / "e.npz"), "--version", "rescaled"]) == 1
    assert capsys.readouterr().out.startswith("unbounded:")
    assert main(["solve", str(tmp_path / "e.npz"), "--version", "normalized", "--max-iter", "1"]) == 1
    assert capsys.readouterr().out.startswith("max_iter:")


def test_overflowing_data_is_not_convergence_and_exits_1(tmp_path, capsys):
    p = sp.realisable(0, 8, 4)
    np.savez(tmp_path / "big.npz", A1=p.A1 * 1e200, A2=p.A2, B=p.B)
    assert main(["solve", str(tmp_path / "big.npz"), "--version", "normalized"]) == 1
    out, err = capsys.readouterr()
    out = " ".join(out.split())  # rich wraps long lines
    assert not out.startswith("converged") and "point: not a stationary point" in out and err.strip() == ""


def test_restarts_and_the_point_are_reported(tmp_path, capsys):
    p = sp.realisable(4, 4, 1)  # from X0 = 0 the rescaled loss stops at a local minimum (L_R ≈ 6.83)
    np.savez(tmp_path / "m.npz", A1=p.A1, A2=p.A2, B=p.B, X0=np.zeros((1, 1)))
    out_file = tmp_path / "r.npz"
    assert main(["solve", str(tmp_path / "m.npz"), "--version", "rescaled", "--out", str(out_file)]) == 0
    assert "point: local minimum" in " ".join(capsys.readouterr().out.split())
    with np.load(out_file) as r:
        assert str(r["point"]) == "local minimum" and str(r["stop"]) == "converged"
    assert main(["solve", str(tmp_path / "m.npz"), "--version", "rescaled", "--restarts", "3"]) == 0
    assert "point: global minimum" in " ".join(capsys.readouterr().out.split())
    assert main(["solve", str(tmp_path / "m.npz"), "--version", "rescaled", "--restarts", "-1"]) == 2


def _bad_files(tmp):
    p = sp.realisable(0, 5, 2)
    nan_B = p.B.copy()
    nan_B[0, 0] = np.nan
    cases = {
        "missing.npz": (None, "no such file"),
        "only_a.npz": (dict(A1=p.A1, A2=p.A2), "expected A1, A2, B"),
        "shape.npz": (dict(A1=p.A1, A2=p.A2[:3], B=p.B), "A2 must have shape"),
        "nan.npz": (dict(A1=p.A1, A2=p.A2, B=nan_B), "non-finite"),
        "extra.npz": (dict(A1=p.A1, A2=p.A2, B=p.B, X_0=np.zeros((2, 2))), "unknown arrays X_0"),
        "x0.npz": (dict(A1=p.A1, A2=p.A2, B=p.B, X0=np.zeros((3, 3))), "X0 must have shape (d, d) = (2, 2)"),
        "complex.npz": (dict(A1=p.A1 + 0j, A2=p.A2, B=p.B), "dtype complex128"),
        "vec.npz": (dict(A=p.A1, b=np.ones(4)), "b must have shape"),
    }
    for name, (arrays, _) in cases.items():
        if arrays is not None:
            np.savez(tmp / name, **arrays)
    (tmp / "text.npz").write_text("not an archive")
    cases["text.npz"] = (None, "is not a NumPy .npz archive")
    np.save(tmp / "single.npy", p.A1)
    cases["single.npy"] = (None, "holds a single array")
    return {name: msg for name, (_, msg) in cases.items()}


def test_bad_data_files_exit_2_with_one_sentence(tmp_path, capsys):
    for name, message in _bad_files(tmp_path).items():
        assert main(["solve", str(tmp_path / name), "--version", "normalized"]) == 2, name
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, (name, err)


@pytest.mark.parametrize("extra,message", [
    (["--dps", "30", "--method", "lbfgs"], "--dps applies to --method reference only"),
    (["--dps", "3"], "--dps: dps must be an integer between 15"),
    (["--tol", "-1"], "--tol must be a positive number"),
    (["--max-iter", "-2"], "--max-iter must be a non-negative integer"),
    (["--out", "/no/such/folder/r.npz"], "does not exist"),
])
def test_bad_options_exit_2(data, capsys, extra, message):
    tmp, _, _ = data
    assert main(["solve", str(tmp / "m.npz"), "--version", "normalized", *extra]) == 2
    assert message in capsys.readouterr().err
