"""attnreg check-impl and attnreg audit from the command line: exit codes, one-line usage errors, outputs."""
import json
from pathlib import Path

import pytest

from attnreg.cli import main

IMPLS = Path(__file__).resolve().parent / "impls"


def cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pass_exit_0_and_json(capsys, tmp_path):
    js = tmp_path / "o.json"
    code, out, err = cli(capsys, "check-impl", f"{IMPLS}/correct_np.py:normalized", "--examples", "3",
                         "--json", str(js))
    assert code == 0 and "verdict: PASS" in out and "matrix-sat1024" in out
    data = json.loads(js.read_text())
    assert data["verdict"] == "pass" and data["backend"] == "numpy" and data["dtype"] == "float64"


def test_fail_exit_1_with_diagnosis(capsys):
    code, out, _ = cli(capsys, "check-impl", f"{IMPLS}/bugs_np.py:unshifted", "--dtype", "float32", "--examples", "3")
    assert code == 1 and "verdict: FAIL" in out and "without shifting each row" in out


def test_scale_full(capsys):
    code, out, _ = cli(capsys, "check-impl", f"{IMPLS}/correct_np.py:normalized_full", "--scale", "full",
                       "--examples", "3")
    assert code == 0


def test_vector_form_and_torch_backend(capsys):
    pytest.importorskip("torch")
    code, out, _ = cli(capsys, "check-impl", f"{IMPLS}/correct_torch.py:rescaled_autograd", "--version", "rescaled",
                       "--backend", "torch", "--dtype", "float32", "--examples", "3")
    assert code == 0, out
    code, out, _ = cli(capsys, "check-impl", f"{IMPLS}/bugs_np.py:vector_wrong_sign", "--form", "vector",
                       "--examples", "3")
    assert code == 1 and "wrong sign" in out


@pytest.mark.parametrize("target,message", [
    ("nofile.py:f", "no file nofile.py"),
    ("no_colon", "must be path/to/file.py:function"),
    (f"{IMPLS}/correct_np.py:missing", "has no function 'missing'"),
    ("attnreg_no_such_module:f", "importing attnreg_no_such_module failed"),
    (f"{IMPLS}/bugs_np.py:wrong_shape", "the gradient must have shape (2, 2), got (4,)"),
])
def test_usage_errors_exit_2_in_one_line(capsys, target, message):
    code, out, err = cli(capsys, "check-impl", target)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_seed_and_json_folder(capsys, tmp_path):
    code, _, err = cli(capsys, "check-impl", f"{IMPLS}/correct_np.py:normalized", "--seed", "-1")
    assert code == 2 and "--seed" in err
    code, _, err = cli(capsys, "check-impl", f"{IMPLS}/correct_np.py:normalized", "--json", str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_audit_writes_report_and_plots(capsys, tmp_path, monkeypatch):
    from attnreg.verify.conformance import audit

    monkeypatch.setattr(audit, "SCALES", (1.0, 128.0))
    monkeypatch.setattr(audit, "SIZES", (4,))
    code, out, err = cli(capsys, "audit", "--out", str(tmp_path / "aud"))
    assert code == 0, err
    for name in ("report.md", "report.json", "normalized_loss.png", "rescaled_grad.png", "softmax.png"):
        assert (tmp_path / "aud" / name).stat().st_size > 0
    assert "plots:" in out and "normalized_loss.png" in out
    data = json.loads((tmp_path / "aud" / "report.json").read_text())
    assert data["low_precision"] in ("torch", "numpy") and data["points"]
    # the production path keeps within the table's bounds wherever the true values are representable
    assert all(s["outside_bound"] == [] for v in data["summary"].values() for s in v.values())


def test_audit_of_an_unshifted_target_finds_the_overflow(capsys, tmp_path, monkeypatch):
    from attnreg.verify.conformance import audit

    monkeypatch.setattr(audit, "SCALES", (1.0, 128.0))
    monkeypatch.setattr(audit, "SIZES", (4,))
    code, out, err = cli(capsys, "audit", f"{IMPLS}/bugs_np.py:unshifted", "--out", str(tmp_path / "a"))
    assert code == 0, err
    data = json.loads((tmp_path / "a" / "report.json").read_text())
    assert data["summary"]["normalized"]["float32"]["nonfinite_from"] == 128.0
    assert data["summary"]["normalized"]["float64"]["nonfinite_from"] is None


def test_audit_exits_1_naming_the_point_when_a_call_timed_out(capsys, tmp_path, monkeypatch):
    """A timed-out call leaves the audit incomplete: exit 1 and one line naming the point (it exited 0)."""
    from attnreg.verify.conformance import audit

    monkeypatch.setattr(audit, "SCALES", (1.0, 4.0))
    monkeypatch.setattr(audit, "SIZES", (4,))
    f = tmp_path / "slow.py"
    f.write_text("import time\nfrom attnreg import matrix\n"
                 "def fn(A1, A2, B, X):\n    if abs(A1 @ X @ A2.T).max() > 2:\n        time.sleep(3600)\n"
                 "    return matrix.loss_and_grad(A1, A2, B, X, version='normalized')\n")
    code, out, err = cli(capsys, "audit", f"{f}:fn", "--timeout", "0.5", "--out", str(tmp_path / "a"))
    assert code == 1 and "report.md" in out
    line = [x for x in err.splitlines() if x.strip()]
    assert len(line) == 1 and line[0].startswith("audit incomplete: the call at n = 4, max|S| = 4")
    assert "Incomplete:" in (tmp_path / "a" / "report.md").read_text()


def test_audit_plots_are_written_atomically(tmp_path):
    """A PNG is rendered in memory and renamed into place: a failure while rendering leaves the previous file
    whole (it used to be ``savefig`` straight into the path, so a half-written PNG could be left behind)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnreg.verify.conformance.audit_report import _save

    path = tmp_path / "softmax.png"
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    _save(fig, path)
    good = path.read_bytes()
    assert good.startswith(b"\x89PNG") and not plt.get_fignums()

    fig = plt.figure()

    def torn(target, **kwargs):
        target.write(b"\x89PNG half")
        raise OSError("disk full")

    fig.savefig = torn
    with pytest.raises(OSError, match="disk full"):
        _save(fig, path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["softmax.png"]


EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.mark.parametrize("argv", [
    ("check-impl", f"{IMPLS}/correct_np.py:normalized", "--json", "-"),
    ("verify", "-k", "nothing-matches-this", "--json", "out.json/"),  # pathlib dropped the slash: wrote out.json
    ("verify", "-k", "nothing-matches-this", "--json", "-"),
    ("certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", "-"),
    ("claims", "check", "--builtin", "--json", "-"),
])
def test_dash_or_a_trailing_slash_is_refused_not_written_as_a_file(capsys, tmp_path, monkeypatch, argv):
    """``-`` (the usual spelling of standard output) is one usage error before any work; it was written as a
    file named ``-`` in the working folder. So is a file path ending in ``/`` (pathlib drops the slash)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert ("is a folder" if argv[-1].endswith("/") else "standard output is not supported") in err
    assert not (tmp_path / "-").exists() and not (tmp_path / "out.json").exists()


def test_what_the_target_prints_is_kept_out_of_the_report_and_in_the_json(capsys, tmp_path):
    target = tmp_path / "chatty.py"
    target.write_text(f"import sys\nsys.path.insert(0, {str(IMPLS.parent.parent)!r})\n"
                      "from tests.impls.correct_np import normalized as _n\n\n"
                      "def normalized(A1, A2, B, X):\n    print('CHATTY', A1.shape[0])\n    return _n(A1, A2, B, X)\n")
    js = tmp_path / "o.json"
    code, out, err = cli(capsys, "check-impl", f"{target}:normalized", "--examples", "2", "--json", str(js))
    assert code == 0 and "CHATTY" not in out + err
    cases = json.loads(js.read_text())["cases"]
    assert cases and all(c["printed"] == f"CHATTY {c['n']}\n" for c in cases)


@pytest.mark.parametrize("argv", [
    ("audit", "--out", "-"),
    ("audit", "--out", "sub/folder/-"),  # a folder to be made, whose name is "-": accepted
    ("audit", "--out", "locked/aud"),
    ("audit", "--out", "a-file"),
    ("claims", "check", "--builtin", "--out", "-"),
    ("claims", "check", "--builtin", "--out", "locked"),
    ("audit", "--out", ""),  # Path("") is "." : it wrote the report into the working folder
    ("claims", "check", "--builtin", "--out", ""),
    ("audit", "--out", "dangling"),  # mkdir then failed with "File exists", after loading the backends
    ("audit", "--out", "loop"),
    ("audit", "--out", "dangling/sub"),  # a link to nothing above the folder to be made
])
def test_output_folders_are_checked_before_any_work(capsys, tmp_path, monkeypatch, argv):
    """``--out -`` (standard output) ran the whole audit into a folder named ``-``; a folder that cannot be written
    failed only after the sweep, naming a temporary file. Each is one usage error now, before any work."""
    import os

    from attnreg.verify.conformance import audit

    if argv[2] == "sub/folder/-":  # the one accepted here: made and written
        monkeypatch.setattr(audit, "SCALES", (1.0,))
        monkeypatch.setattr(audit, "SIZES", (4,))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    (tmp_path / "-").mkdir()  # an existing folder named "-" is still not taken for standard output
    (tmp_path / "locked").mkdir(mode=0o500)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "aud")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    if "locked" in argv[-1] and os.access(tmp_path / "locked", os.W_OK):
        pytest.skip("running as a user who can write into a read-only folder (root)")
    code, _, err = cli(capsys, *argv)
    if argv[2] == "sub/folder/-":
        assert code == 0 and (tmp_path / "sub" / "folder" / "-" / "report.json").exists(), err
        return
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not any((tmp_path / "-").iterdir()) and not (tmp_path / "report.json").exists()
    if argv[-1] == "-":  # a folder option is not pointed at /dev/stdout, as a file option is
        assert "a folder is needed here" in err and "/dev/stdout" not in err


def test_a_failing_target_keeps_what_it_printed(capsys, tmp_path):
    """The output of a call that raised is the most useful one: it was dropped (only "ok" cases kept it)."""
    target = tmp_path / "loud.py"
    target.write_text("def normalized(A1, A2, B, X):\n    print('BEFORE-RAISE')\n    raise ValueError('no')\n")
    js = tmp_path / "o.json"
    code, out, err = cli(capsys, "check-impl", f"{target}:normalized", "--examples", "1", "--json", str(js))
    assert code == 1 and "BEFORE-RAISE" not in out + err
    cases = json.loads(js.read_text())["cases"]
    assert cases and all(c["status"] == "raised" and c["printed"] == "BEFORE-RAISE\n" for c in cases)
