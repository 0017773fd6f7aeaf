"""A claim naming ``certificate = "spec.toml"`` is reported certified for that data and box."""
from pathlib import Path

import pytest

from attnreg.verify import claims
from attnreg.verify.claims import certified
from attnreg.verify.claims.verdict import Outcome

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

CLAIM = """\
[[claim]]
id = "{id}"
provenance = "derived"
form = "vector"
quantity = "{quantity}"
{version}
kind = "lipschitz"
wrt = "x"
assume = ["norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"]
constant = "{constant}"
certificate = "{spec}"
"""


def _claim(tmp_path, quantity="f", constant="R/2", spec="certify-f.toml", version="", target=None,
           assume='["norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"]'):
    text = (EXAMPLES / spec).read_text()
    if target:
        text = "\n".join(f'target = "{target}"' if line.startswith("target") else line for line in text.splitlines())
    (tmp_path / spec).write_text(text)
    path = tmp_path / "claims.toml"
    path.write_text(CLAIM.format(id="c", quantity=quantity, constant=constant, spec=spec, version=version)
                    .replace('["norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"]', assume))
    (claim,) = claims.load([path])
    return claim


def _after(claim, status="survived"):
    """The verdict once the search said ``status`` (the search itself is tested in test_claims_*)."""
    return certified.apply(claim, Outcome(claim, status, f"{status}: (search stub)"), Outcome)


def test_a_survived_claim_with_a_valid_certificate_becomes_certified(tmp_path):
    claim = _claim(tmp_path, quantity="grad", constant="0.5*R**2", spec="certify-grad.toml",
                   version='version = "normalized"', target="0.5 * norm(A)^2")
    assert claim.certificate == "certify-grad.toml"
    out = _after(claim)
    assert out.status == "certified", out.evidence
    assert "for the data and box of" in out.evidence and "checked independently" in out.evidence


def test_proved_and_refuted_verdicts_are_kept_with_the_certificate_as_extra_evidence(tmp_path):
    claim = _claim(tmp_path)
    for status in ("proved", "refuted"):
        out = _after(claim, status)
        assert out.status == status and "certificate: for the data and box" in out.evidence


def test_constant_below_the_certified_bound_is_not_certified(tmp_path):
    claim = _claim(tmp_path, constant="R/4")  # below sup ||J_f|| ≈ 0.59 here (||A|| ≈ 1.57): false
    out = _after(claim)
    assert out.status == "survived" and "not below the claimed constant" in out.evidence


def test_data_outside_the_assumptions_is_an_error(tmp_path):
    claim = _claim(tmp_path, assume='["norm(A) <= 1", "norm(x) <= R"]')
    out = _after(claim)
    assert out.status == "error" and "do not satisfy 'norm(A) <= 1'" in out.evidence


def test_certificate_about_another_quantity_is_an_error(tmp_path):
    claim = _claim(tmp_path, quantity="grad", constant="3.25*R**2", spec="certify-f.toml",
                   version='version = "normalized"')
    out = _after(claim)
    assert out.status == "error" and "certifies quantity 'f'" in out.evidence


@pytest.mark.slow
def test_check_claim_end_to_end(tmp_path):
    claim = _claim(tmp_path, quantity="grad", constant="0.5*R**2", spec="certify-grad.toml",
                   version='version = "normalized"', target="0.5 * norm(A)^2")
    out = claims.check_claim(claim, budget=0.3, out_dir=tmp_path)
    assert out.status == "certified", out.evidence


def test_certificate_key_must_be_a_string(tmp_path):
    path = tmp_path / "claims.toml"
    text = CLAIM.format(id="c", quantity="f", constant="R/2", spec="x", version="")
    path.write_text(text.replace('certificate = "x"', "certificate = 3"))
    with pytest.raises(claims.ClaimError, match="'certificate'"):
        claims.load([path])


def test_the_certificate_runs_on_the_pool_given_with_the_same_verdict(tmp_path):
    """``attnreg claims check --workers N`` hands its pool to the claim's certificate: the boxes go to the
    executor (counted here), and the verdict is the one this process alone reaches."""
    from concurrent.futures import ThreadPoolExecutor

    from attnreg.verify.executor import Pool

    claim = _claim(tmp_path)
    alone = _after(claim)

    class Counting(ThreadPoolExecutor):
        submitted = 0

        def submit(self, fn, *args, **kwargs):
            Counting.submitted += 1
            return super().submit(fn, *args, **kwargs)

    with Counting(2) as ex:
        shared = certified.apply(claim, Outcome(claim, "survived", "survived: (search stub)"), Outcome,
                                 Pool(ex, 3, "threads", caller_works=True))
    assert Counting.submitted > 0
    assert (shared.status, shared.evidence) == (alone.status, alone.evidence) and alone.status == "certified"


def test_a_certified_claim_through_the_command_line(tmp_path, capsys):
    """The CLI's table styles every evidence word: a certified claim was a rich MarkupError traceback, and no JSON
    (``"[]certified[/]"``: the table's styles had no "certified")."""
    import json

    from attnreg.cli import main

    claim = _claim(tmp_path, quantity="grad", constant="0.5*R**2", spec="certify-grad.toml",
                   version='version = "normalized"', target="0.5 * norm(A)^2")
    out = tmp_path / "o.json"
    code = main(["claims", "check", claim.file, "--budget", "0.3", "--workers", "1", "--json", str(out),
                 "--out", str(tmp_path)])
    printed = capsys.readouterr()
    assert code == 0 and "Traceback" not in printed.err, printed.err
    assert "certified" in printed.out and "1 claims: 1 certified" in printed.out
    assert json.loads(out.read_text())["claims"][0]["status"] == "certified"


def test_a_certificate_cut_short_by_its_wall_clock_budget_says_so(tmp_path):
    """Such a verdict can differ between machines and worker counts (the certificate's own promise holds only for runs
    that end before ``budget_seconds``): the evidence says why."""
    claim = _claim(tmp_path)
    spec = tmp_path / "certify-f.toml"
    spec.write_text("\n".join("budget_seconds = 1e-9" if line.startswith("budget_seconds") else line
                              for line in spec.read_text().splitlines() if not line.startswith("refine_to")))
    out = _after(claim)
    assert out.status == "survived" and "stopped by budget_seconds" in out.evidence, out.evidence
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert "stopped by" not in _after(_claim(fresh)).evidence  # the example as it is: certified, no such remark
