"""Claim files: the vocabulary is accepted; every malformed file is one error line, exit 2, no traceback."""
import pytest

from attnreg.cli import main
from attnreg.verify.claims import claimfile
from attnreg.verify.claims.assume import NormBound, ParamBound, Simplex, StepBound

GOOD = """\
[[claim]]
id = "softmax-lip-x"           # unique, [a-z0-9-]+
source = "2304.13276, main theorem, part 1"   # free text
provenance = "recalled"        # quoted | recalled | derived
form = "vector"                # vector | matrix
version = "normalized"         # normalized | rescaled (required for c, h, loss, grad)
quantity = "f"                 # u | alpha | f | c | h | loss | grad
kind = "lipschitz"             # lipschitz | upper | lower
wrt = "x"                      # lipschitz only. vector: x | A ; matrix: X | A1 | A2
loss_scale = "half"            # half | full — only for loss and grad (default half)
assume = ["norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"]
constant = "R/2"               # expression in n, d, R; + - * / **, exp, log, sqrt, numbers
"""


def _claim(**over):
    keys = dict(id='"c1"', provenance='"derived"', form='"vector"', quantity='"f"', kind='"upper"',
                constant='"1"')
    keys.update(over)
    return "[[claim]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)


def test_issue_example_is_accepted():
    (c,) = claimfile.loads(GOOD, "good.toml")
    assert (c.id, c.form, c.quantity, c.kind, c.wrt, c.wrt_norm, c.version) == (
        "softmax-lip-x", "vector", "f", "lipschitz", "x", "fro", None)  # f does not depend on the version
    assert [type(a) for a in c.hypotheses] == [NormBound, NormBound, NormBound]
    assert c.constant.evaluate(dict(n=2, d=2, R=3.0)) == 1.5


def test_whole_assume_vocabulary_is_accepted():
    text = _claim(form='"matrix"', quantity='"grad"', version='"rescaled"', kind='"lipschitz"', wrt='"A1"',
                  wrt_norm='"fro"', loss_scale='"full"',
                  assume='["norm(A1) <= R", "norm(A2)<=R", "norm(kron(A1,A2)) <= R**2", "norm(X) <= sqrt(R)", '
                         '"norm(x) <= 2", "norm(b) <= 1", "simplex(b)", "norm_inf(A(x-y)) <= 0.01", '
                         '"norm_inf((A-A\')x) < 0.01", "R >= 4", "n <= 64", "d >= 2", "R < 10"]')
    (c,) = claimfile.loads(text)
    kinds = [type(a).__name__ for a in c.hypotheses]
    assert kinds.count("NormBound") == 6 and Simplex in map(type, c.hypotheses)
    assert sum(isinstance(a, StepBound) for a in c.hypotheses) == 2
    assert sum(isinstance(a, ParamBound) for a in c.hypotheses) == 4
    assert {a.target for a in c.hypotheses if isinstance(a, NormBound)} == {"A1", "A2", "kron", "X", "b"}


MALFORMED = {
    "unknown-key": (_claim(colour='"red"'), ["'c1'", "colour"]),
    "unknown-quantity": (_claim(quantity='"q"'), ["quantity", "'q'"]),
    "import-expression": (_claim(constant='"__import__(\'os\')"'), ["constant", "exp, log and sqrt"]),
    "dangling-power": (_claim(constant='"R**"'), ["constant", "not a valid expression"]),
    "caret-power": (_claim(constant='"R^2"'), ["constant", "'**'"]),
    "unknown-name": (_claim(constant='"x + 1"'), ["constant", "unknown name 'x'"]),
    "attribute": (_claim(constant='"R.real"'), ["constant", "Attribute"]),
    "huge-power": (_claim(constant='"10**10**10"'), ["constant", "too large"]),
    "undefined-constant": (_claim(constant='"log(0)"'), ["constant"]),
    "string-for-number": (_claim(assume='["R >= four"]'), ["assume", "four"]),
    "param-not-number": (_claim(assume='["R >= n"]'), ["assume", "must be a number"]),
    "bool-constant": (_claim(constant="true"), ["constant"]),
    "assume-not-list": (_claim(assume='"norm(A) <= R"'), ["assume", "list"]),
    "assume-not-string": (_claim(assume="[3]"), ["assume", "string"]),
    "unknown-assumption": (_claim(assume='["norm(Q) <= R"]'), ["assume", "vocabulary"]),
    "matrix-name-in-vector": (_claim(assume='["norm(X) <= R"]'), ["assume", "matrix form"]),
    "bad-expression-in-assume": (_claim(assume='["norm(A) <= R**"]'), ["assume", "not a valid expression"]),
    "duplicate-id": (_claim() + _claim(), ["duplicate", "'c1'"]),
    "missing-constant": (_claim(constant=None), ["missing required key 'constant'"]),
    "missing-id": (_claim(id=None), ["missing required key 'id'"]),
    "missing-version": (_claim(quantity='"loss"'), ["missing required key 'version'"]),
    "missing-wrt": (_claim(kind='"lipschitz"'), ["missing required key 'wrt'"]),
    "wrong-wrt": (_claim(kind='"lipschitz"', wrt='"X"'), ["wrt", "'X'"]),
    "spectral-x": (_claim(kind='"lipschitz"', wrt='"x"', wrt_norm='"spectral"'), ["wrt_norm"]),
    "bad-id": (_claim(id='"Bad_ID"'), ["id", "[a-z0-9-]+"]),
    "number-for-string": (_claim(form="3"), ["form", "string"]),
    "bad-provenance": (_claim(provenance='"folklore"'), ["provenance", "quoted"]),
    "bad-toml": ("[[claim]]\nid = \"c1\nform = 'vector'\n", ["invalid TOML"]),
    "no-claims": ("# nothing here\n", ["no [[claim]] tables"]),
    "top-level-key": ('title = "x"\n' + _claim(), ["top-level key 'title'"]),
    "claim-not-array": ("[claim]\nid = \"c1\"\n", ["no [[claim]] tables"]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_is_one_error_line_and_exit_2(name, tmp_path, capsys):
    text, needles = MALFORMED[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["claims", "check", str(path), "--budget", "0.01", "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("attnreg claims: error: ") and str(path) in lines[0]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]
    assert not list(tmp_path.glob("counterexample-*"))


def test_error_names_the_line_of_the_key():
    text = _claim() + _claim(id='"c2"', quantity='"nope"')
    with pytest.raises(claimfile.ClaimError) as info:
        claimfile.loads(text, "f.toml")
    line = text.splitlines().index('quantity = "nope"') + 1
    assert str(info.value).startswith(f"f.toml:{line}: claim 'c2', key 'quantity'")


def test_unreadable_and_missing_files(tmp_path, capsys):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"id = \"\xe9\"\n")
    for path in (bad, tmp_path / "absent.toml"):
        assert main(["claims", "check", str(path)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_ids_must_be_unique_across_files(tmp_path, capsys):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(_claim())
    b.write_text(_claim())
    assert main(["claims", "check", str(a), str(b)]) == 2
    assert "also used in" in capsys.readouterr().err


def test_inert_keys_are_accepted():
    # The issue's own template gives loss_scale and version for f; an upper bound may carry a stray wrt.
    (c,) = claimfile.loads(_claim(kind='"upper"', wrt='"x"', loss_scale='"full"', version='"rescaled"'))
    assert c.wrt is None and c.statement() == "||f(x)|| ≤ 1"
