"""``attnreg claims``: check (the JSON format, report, exit codes), list, replay, icl."""
import json
import os

import pytest

from attnreg.cli import main

FILE = """\
[[claim]]
id = "f-lip-x"
source = "docs/design.md §2"
provenance = "derived"
form = "vector"
quantity = "f"
kind = "lipschitz"
wrt = "x"
assume = ["norm(A) <= R", "norm(x) <= R"]
constant = "R/2"

[[claim]]
id = "alpha-upper-no-n"
source = "a wrong bound: the factor n is missing"
provenance = "recalled"
form = "vector"
quantity = "alpha"
kind = "upper"
assume = ["norm(A) <= R", "norm(x) <= R"]
constant = "exp(R**2)"
"""


@pytest.mark.xdist_group("lemmas")  # it proves claims: on the worker whose lemma verdicts are already cached
def test_check_json_report_and_replay(tmp_path, capsys):
    claims = tmp_path / "c.toml"
    claims.write_text(FILE)
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    rc = main(["claims", "check", str(claims), "--budget", "0.3", "--json", str(out), "--report", str(md),
               "--out", str(tmp_path)])
    assert rc == 1  # one claim is refuted
    data = json.loads(out.read_text())
    assert list(data) == ["claims"]
    by_id = {c["id"]: c for c in data["claims"]}
    for c in data["claims"]:
        assert list(c) == ["id", "status", "worst", "counterexample", "evidence"]
        assert list(c["worst"]) == ["params", "observed", "constant", "slack"]
        assert list(c["worst"]["params"]) == ["n", "d", "R"]
        w = c["worst"]
        assert abs(w["slack"] - w["constant"] / w["observed"]) <= 1e-12 * w["slack"]
    assert by_id["f-lip-x"]["status"] == "proved" and by_id["f-lip-x"]["counterexample"] is None
    bad = by_id["alpha-upper-no-n"]
    assert bad["status"] == "refuted" and bad["worst"]["slack"] < 1
    text = md.read_text()
    assert "alpha-upper-no-n" in text and "recalled" in text and "r.slack.png" in text
    assert (tmp_path / "r.slack.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["claims", "replay", bad["counterexample"]]) == 0
    assert "stands" in capsys.readouterr().out


def test_check_exit_0_when_nothing_is_refuted(tmp_path, capsys):
    claims = tmp_path / "c.toml"
    claims.write_text(FILE.split("\n\n")[0] + "\n")
    assert main(["claims", "check", str(claims), "--budget", "0.2", "--out", str(tmp_path)]) == 0
    got = capsys.readouterr()
    assert "proved" in got.out
    assert got.err == ""  # stderr is no terminal: no progress bar, not even its closing blank line


def test_usage_errors_exit_2(tmp_path, capsys):
    claims = tmp_path / "c.toml"
    claims.write_text(FILE)
    for argv in (["claims", "check"], ["claims", "check", str(claims), "--budget", "-1"],
                 ["claims", "check", str(claims), "--json", str(tmp_path / "no" / "r.json")],
                 ["claims", "replay", str(claims)], ["claims", "replay", str(tmp_path / "absent.json")],
                 ["claims", "icl", "--sizes", "a,b"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_list_shows_builtin_claims(capsys):
    assert main(["claims", "list"]) == 0
    out = capsys.readouterr().out
    assert "precursor-m-weight-shift" in out and "f-lip-x" in out and "recalled" in out


def test_icl_table(tmp_path, capsys):
    md = tmp_path / "icl.md"
    assert main(["claims", "icl", "--sizes", "4,8", "--d", "2", "--report", str(md)]) == 0
    text = md.read_text()
    rows = [line for line in text.splitlines() if line.startswith(("| 4 |", "| 8 |"))]
    assert len(rows) == 8  # 2 sizes x 2 versions x 2 moves
    assert "n^1.5" in text and "derived" in text


@pytest.mark.parametrize("change", [
    lambda d: d.update(claim=[1, 2]), lambda d: d.update(inputs=[1]), lambda d: d["params"].update(R="x"),
    lambda d: d.update(lhs="abc"), lambda d: d["inputs"].pop(next(iter(d["inputs"]))), lambda d: d.pop("params"),
])
def test_malformed_counterexample_files_give_one_line_and_exit_2(tmp_path, change, capsys):
    claims = tmp_path / "c.toml"
    claims.write_text(FILE)
    report = tmp_path / "r.json"
    main(["claims", "check", str(claims), "--budget", "0.3", "--out", str(tmp_path), "--json", str(report)])
    (path,) = [c["counterexample"] for c in json.loads(report.read_text())["claims"] if c["counterexample"]]
    data = json.loads(open(path).read())
    change(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    capsys.readouterr()
    code = main(["claims", "replay", str(bad)])
    err = capsys.readouterr().err
    assert code in (1, 2) and "Traceback" not in err  # 2: malformed; 1: well-formed but not standing
    if code == 2:
        assert err.count("\n") == 1


@pytest.mark.parametrize("text", ["R+" * 5000 + "R", "-" * 5000 + "1", "(" * 400 + "R" + ")" * 400])
def test_huge_or_deep_expressions_are_refused(tmp_path, text, capsys):
    f = tmp_path / "deep.toml"
    f.write_text(FILE.split("\n\n")[0].replace('constant = "', f'constant = "{text}" #'))
    assert main(["claims", "check", str(f), "--budget", "0.2", "--out", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_report_sent_to_a_stream_gets_no_plot_beside_it(tmp_path, monkeypatch):
    """``--report /dev/stdout`` made a regular file ``/dev/stdout.slack.png`` (as root): a stream has no folder of
    files beside it. Here a FIFO stands for the stream."""
    import os
    import threading

    from attnreg.verify.claims import report

    monkeypatch.setattr(report, "plot_png", lambda outcomes: b"\\x89PNG")
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert report.write(fifo, [], {"seed": 0}) == [fifo]
    reader.join(timeout=10)
    assert got and "slack.png" not in got[0] and sorted(p.name for p in tmp_path.iterdir()) == ["fifo.md"]
    plain = tmp_path / "r.md"  # a file still gets its plot
    assert report.write(plain, [], {"seed": 0}) == [plain, tmp_path / "r.slack.png"]


def test_a_report_to_the_commands_own_stdout_file_gets_no_plot(tmp_path):
    """``--report /proc/self/fd/1 > rep.md`` (or ``/dev/stdout``): stdout is then a regular file, and the plot was
    written beside the link's name (``/proc/self/fd/1.slack.png``: an error after all the work; as root
    ``/dev/stdout.slack.png`` was made in /dev). The report follows what was printed; no plot file is made."""
    import subprocess
    import sys

    code = ("import sys\nfrom attnreg.verify.claims import report\nreport.plot_png = lambda outcomes: b'PNG'\n"
            "print('PRINTED', flush=True)\nreport.write(sys.argv[1], [], {'seed': 0})\n")
    with open(tmp_path / "rep.md", "w") as fh:
        r = subprocess.run([sys.executable, "-c", code, "/proc/self/fd/1"], stdout=fh, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    text = (tmp_path / "rep.md").read_text()
    assert r.returncode == 0, r.stderr
    assert text.startswith("PRINTED\n") and "slack.png" not in text and sorted(os.listdir(tmp_path)) == ["rep.md"]


def test_a_report_through_a_link_gets_its_plot_beside_the_file_it_lands_in(tmp_path, monkeypatch):
    from attnreg.verify.claims import report

    monkeypatch.setattr(report, "plot_png", lambda outcomes: b"PNG")
    (tmp_path / "sub").mkdir()
    (tmp_path / "dl").symlink_to(tmp_path / "sub" / "r.md")
    assert report.write(tmp_path / "dl", [], {"seed": 0})[1] == tmp_path / "sub" / "r.slack.png"
    assert "r.slack.png" in (tmp_path / "sub" / "r.md").read_text() and not (tmp_path / "dl.slack.png").exists()
