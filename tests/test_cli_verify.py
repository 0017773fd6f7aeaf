"""`attnreg verify`: selection, exit codes, reports written atomically, usage errors without tracebacks."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from attnreg.cli import main
from attnreg.verify import catalogue, registry


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "attnreg", *args], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_selected_checks_pass_and_reports_are_written(tmp_path, capsys):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    assert main(["verify", "-k", "identity.", "--json", str(out_json), "--report", str(out_md)]) == 0
    data = json.loads(out_json.read_text())
    assert {r["check"] for r in data["results"]} == {c.name for c in catalogue.select("identity.")}
    assert all(r["status"] == "pass" and r["evidence"] == "confirmed" for r in data["results"])
    assert "| `identity.tensor_trick` | confirmed |" in out_md.read_text()
    printed = capsys.readouterr().out
    assert "identity.tensor_trick" in printed and "confirmed" in printed and "3 checks: 3 pass" in printed


def test_a_failing_check_exits_1_and_its_json_is_strict(monkeypatch, capsys, tmp_path):
    failing = registry.Check("zz.always_fails", "a check that fails on purpose", "confirmed",
                             lambda *, seed: registry.Result.of(False, measured=float("inf"), bound=1.0, detail="x"))
    monkeypatch.setitem(registry.REGISTRY, failing.name, failing)
    assert main(["verify", "-k", "zz.always_fails", "--json", str(tmp_path / "r.json")]) == 1
    assert "FAIL" in capsys.readouterr().out

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    (row,) = json.loads((tmp_path / "r.json").read_text(), parse_constant=refuse)["results"]
    assert row["measured"] == "inf"


def test_list_shows_claims_without_running(capsys):
    assert main(["verify", "--list", "-k", "ref."]) == 0
    out = capsys.readouterr().out
    assert "ref.matrix.normalized.grad_vs_diff" in out and "ctx.diff" in out


@pytest.mark.parametrize("args,words", [
    (["verify", "-k", "no-such-check"], "no check matches"),
    (["verify", "--json", "/no/such/folder/r.json"], "does not exist"),
    (["verify", "--seed", "abc"], "invalid int value"),
    (["verify", "--seed", "-1"], "--seed must be"),
    (["verify", "--report", "/tmp"], "is a folder"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_one_line_and_no_traceback(args, words):
    code, out, err = run_cli(*args)
    assert code == 2 and words in err and "Traceback" not in err + out


def test_help_explains_itself():
    code, out, _ = run_cli("verify", "--help")
    assert code == 0 and "--slow" in out and "exit 0 if all pass" in out


def test_atomic_writes_have_ordinary_permissions(tmp_path):
    import os

    from attnreg._io import atomic_write_text

    atomic_write_text(tmp_path / "a.txt", "x")
    (tmp_path / "b.txt").write_text("x")
    assert os.stat(tmp_path / "a.txt").st_mode == os.stat(tmp_path / "b.txt").st_mode
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


def test_one_line_per_check_whole_when_piped():
    code, out, err = run_cli("verify", "-k", "identity.")
    lines = out.strip().splitlines()
    names = {c.name for c in catalogue.select("identity.")}
    assert code == 0 and len(lines) == len(names) + 1 and lines[-1] == f"{len(names)} checks: {len(names)} pass"
    assert {line.split()[1] for line in lines[:-1]} == names and "…" not in out
    assert err == ""  # no progress bar and no warning when stderr is not a terminal
    code, verbose, _ = run_cli("verify", "-k", "identity.", "-v")
    assert code == 0 and "verified:" in verbose and "how:" in verbose


def test_a_reader_that_leaves_early_is_no_error():
    proc = subprocess.run(f"{sys.executable} -m attnreg proofs | head -1", shell=True, capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.count("\n") == 1 and proc.stderr == ""


def test_version_comes_from_the_installed_metadata():
    from importlib.metadata import version

    import attnreg

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"attnreg {version('attnreg')}" == f"attnreg {attnreg.__version__}"


def test_atomic_writes_to_a_pipe_or_a_link_keep_it_what_it_was(tmp_path):
    """``--json /dev/stdout`` (as root) used to rename a temporary file over /dev/stdout, making it an ordinary
    file. A path that is not a regular file is written in place; a link to a file stays a link."""
    import os
    import threading

    from attnreg._io import atomic_write_text

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    atomic_write_text(fifo, "through the pipe")
    reader.join(timeout=10)
    assert got == ["through the pipe"] and fifo.is_fifo()
    (tmp_path / "target.json").write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    atomic_write_text(link, "new")
    assert link.is_symlink() and (tmp_path / "target.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_json_to_the_commands_own_stdout_keeps_what_it_printed(tmp_path):
    """``--json /dev/stdout > out.txt``: /dev/stdout is then out.txt itself, and the atomic rename replaced it with
    the JSON alone, throwing the printed table away. The JSON is now written after it, through the open stdout."""
    impl = Path(__file__).resolve().parent / "impls" / "correct_np.py"
    out = tmp_path / "out.txt"
    for json_path in ("/dev/stdout", str(out)):
        with open(out, "wb") as fh:
            r = subprocess.run([sys.executable, "-m", "attnreg", "check-impl", f"{impl}:normalized", "--examples", "1",
                                "--json", json_path], stdout=fh, stderr=subprocess.PIPE, timeout=300)
        text = out.read_text()
        assert r.returncode == 0 and "verdict: PASS" in text, r.stderr
        assert json.loads(text[text.index("\n{") + 1:])["verdict"] == "pass"  # the JSON follows the report whole


def test_a_loop_of_links_as_output_is_one_usage_error(tmp_path, capsys):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    code = main(["verify", "-k", "nothing-matches-this", "--json", str(loop)])
    err = capsys.readouterr().err
    assert code == 2 and "loop of symbolic links" in err and len(err.strip().splitlines()) == 1
    from attnreg._io import atomic_write_text

    with pytest.raises(OSError, match="loop of symbolic links"):
        atomic_write_text(loop, "x")


def test_a_certificate_written_to_stdout_is_alone_there(tmp_path):
    """``certify run --out /dev/stdout > c.json``: the report goes to stderr and the file is the certificate alone,
    which the checker reads back (after the own-stream writes it came first, with the report after it)."""
    spec = Path(__file__).resolve().parent.parent / "docs" / "examples" / "certify-f.toml"
    for out, stream in (("/dev/stdout", "stdout"), ("/dev/stderr", "stderr")):
        cert = tmp_path / f"{stream}.json"
        with open(cert, "wb") as fh:
            r = subprocess.run([sys.executable, "-m", "attnreg", "certify", "run", str(spec), "--out", out,
                                "--workers", "1"], capture_output=False, timeout=300,
                               **{stream: fh, ("stderr" if stream == "stdout" else "stdout"): subprocess.PIPE})
        other = (r.stderr if stream == "stdout" else r.stdout).decode()
        assert r.returncode == 0 and "certified:" in other and "wrote" not in other
        check = subprocess.run([sys.executable, "-m", "attnreg", "certify", "check", str(cert)],
                               capture_output=True, text=True, timeout=300)
        assert check.returncode == 0 and check.stdout.startswith("valid"), (cert.read_text()[-300:], check.stderr)
