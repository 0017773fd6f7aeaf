"""``attnreg certify run / check``: exit codes, one-sentence errors naming the key, atomic output, the
documented example specs."""
import json
from pathlib import Path

import pytest

from attnreg.cli import main
from attnreg.verify.certify import spec

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.mark.parametrize("name", ["certify-f.toml", "certify-grad.toml"])
def test_documented_examples_certify_and_check(name, tmp_path, capsys):
    out = tmp_path / "cert.json"
    assert main(["certify", "run", str(EXAMPLES / name), "--out", str(out), "--workers", "1"]) == 0
    assert capsys.readouterr().out.startswith("certified:")
    assert json.loads(out.read_text())["status"] == "certified"
    assert main(["certify", "check", str(out), "--spec", str(EXAMPLES / name)]) == 0
    assert capsys.readouterr().out.startswith("valid: certified")


def _run_edited(tmp_path, example, old, new):
    """``(exit code, certificate path)`` of ``certify run`` on the documented ``example`` with ``old`` → ``new``."""
    text = (EXAMPLES / example).read_text()
    assert old in text
    sp = tmp_path / "edited.toml"
    sp.write_text(text.replace(old, new))
    out = tmp_path / "cert.json"
    return main(["certify", "run", str(sp), "--out", str(out), "--workers", "1"]), out


def test_not_certified_exits_1_and_check_exits_1(tmp_path, capsys):
    rc, out = _run_edited(tmp_path, "certify-f.toml", 'target = "1.01 * 0.5 * norm(A)"', 'target = "0.5"')
    assert rc == 1
    printed = capsys.readouterr().out
    assert printed.startswith("not certified") and "counterexample" in printed
    assert main(["certify", "check", str(out)]) == 1
    assert capsys.readouterr().out.startswith("valid: not certified")


def test_check_rejects_a_tampered_file_and_a_different_spec(tmp_path, capsys):
    out = tmp_path / "cert.json"
    assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(out), "--workers", "1"]) == 0
    cert = json.loads(out.read_text())
    cert["boxes"].pop()
    out.write_text(json.dumps(cert))
    capsys.readouterr()
    assert main(["certify", "check", str(out)]) == 1
    assert capsys.readouterr().out.startswith("rejected: the boxes do not cover")


@pytest.mark.parametrize("edit,key", [
    (lambda t: t.replace('quantity = "f"', 'quantity = "h"'), "quantity"),
    (lambda t: t.replace('radius = "0.5"', 'radius = "-1"'), "radius"),
    (lambda t: t.replace('center = ["0", "0"]', 'center = ["0"]'), "center"),
    (lambda t: t.replace('target = "1.01 * 0.5 * norm(A)"', 'target = "__import__(1)"'), "target"),
    (lambda t: t.replace('target = "1.01 * 0.5 * norm(A)"', 'target = "norm(B)"'), "target"),
    (lambda t: t + "\ncolour = 1\n", "colour"),
    (lambda t: t.replace('budget_seconds = 120', ''), "budget_seconds"),
    (lambda t: t.replace('["0.3", "0.9"]', '["0.3"]'), "A"),
    (lambda t: t.replace('["0.3", "0.9"]', '["0.3", "x"]'), "A"),
    (lambda t: t + "\nprecision_bits = 20\n", "precision_bits"),
    (lambda t: t.replace('refine_to = "1.05"', 'refine_to = "0.9"'), "refine_to"),
    (lambda t: t + '\nA1 = [["1"]]\n', "A1"),
])
def test_bad_specs_are_one_sentence_naming_the_key(edit, key, tmp_path, capsys):
    sp = tmp_path / "bad.toml"
    sp.write_text(edit((EXAMPLES / "certify-f.toml").read_text()))
    out = tmp_path / "cert.json"
    assert main(["certify", "run", str(sp), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{key}'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_grad_needs_version_and_b():
    text = (EXAMPLES / "certify-grad.toml").read_text()
    with pytest.raises(spec.SpecError, match="'version'"):
        spec.loads(text.replace('version = "normalized"', ""))
    with pytest.raises(spec.SpecError, match="'b'"):
        spec.loads(text.replace('b = ["0.2", "0.5", "0.3"]', ""))


def test_toml_floats_keep_their_decimal_text():
    s = spec.loads((EXAMPLES / "certify-f.toml").read_text().replace('radius = "0.5"', "radius = 0.1"))
    assert s.radius == "0.1"


def test_bad_options_and_files(tmp_path, capsys):
    assert main(["certify", "run", str(tmp_path / "none.toml"), "--out", str(tmp_path / "c.json")]) == 2
    assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(tmp_path / "no" / "c.json")]) == 2
    assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(tmp_path / "c.json"),
                 "--workers", "0"]) == 2
    assert main(["certify", "check", str(tmp_path / "none.json")]) == 2
    assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(tmp_path / "c.json"),
                 "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 5


def test_help_explains(capsys):
    with pytest.raises(SystemExit):
        main(["certify", "--help"])
    text = capsys.readouterr().out
    assert "exit 0 if certified" in text and "docs/certify.md" in text


def test_the_spec_shown_in_the_docs_is_the_example_the_tests_run():
    import re

    doc = (EXAMPLES.parent / "certify.md").read_text()
    (shown,) = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert shown == (EXAMPLES / "certify-f.toml").read_text()
    table = doc.split("## The spec")[1].split("## Method")[0]
    assert all(f"`{key}`" in table for key in spec.KEYS)


def test_time_budget_spent_is_not_certified_with_the_worst_box(tmp_path, capsys):
    rc, out = _run_edited(tmp_path, "certify-matrix-f.toml", "budget_seconds = 120", "budget_seconds = 0.001")
    assert rc == 1
    assert "worst remaining box" in capsys.readouterr().out
    cert = json.loads(out.read_text())
    assert cert["stop"] == "budget_seconds" and cert["worst_box"]["bound"] == cert["bound"]
    assert main(["certify", "check", str(out)]) == 1
    assert capsys.readouterr().out.startswith("valid: not certified")
