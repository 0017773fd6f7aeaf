"""Review fixes: two enclosures of one entry that do not overlap mean one of them is false (an error, never
a bound); what `exp` of a wide ball guarantees; what a false bound costs the checker.
Found in review: ``enclose.on_box`` and ``check_formulas.enclosure`` kept the mean-value form silently when
it missed the direct enclosure."""
import dataclasses
import json
from pathlib import Path

import flint
import pytest

from attnreg.cli import main
from attnreg.verify.certify import bnb, certificate, check_formulas, checker, enclose, spec

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_run_side_raises_when_the_enclosures_miss_each_other():
    def fn(rows, x):  # a formula whose jets disagree with its point values by 100
        return [[x[0] + 100 if isinstance(x[0], enclose.Jet) else x[0]]]

    X = [flint.arb(0, 0.5)]
    assert enclose.on_box(lambda rows, x: [[x[0]]], None, [flint.arb(0)], X)[0][0].overlaps(X[0])
    with pytest.raises(enclose.Disjoint, match="do not overlap"):
        enclose.on_box(fn, None, [flint.arb(0)], X)


def test_certify_run_stops_with_one_sentence(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(enclose, "meet", lambda a, b: (_ for _ in ()).throw(enclose.Disjoint("entry (0, 0)")))
    out = tmp_path / "cert.json"
    assert main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_checker_rejects_when_its_enclosures_miss_each_other(monkeypatch):
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), refine_to=None)
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    assert checker.check(cert).startswith("certified")
    real = check_formulas.matrix_and_derivatives

    def shifted(rows, x, quantity, version):  # the direct enclosure over the box moved far away
        M, dM = real(rows, x, quantity, version)
        if any(xk.rad() > 0 for xk in x):
            M = [[e + 1000 for e in row] for row in M]
        return M, dM

    monkeypatch.setattr(check_formulas, "matrix_and_derivatives", shifted)
    with pytest.raises(checker.Rejected, match="contradict"):
        checker.check(cert)


def test_exp_of_a_wide_ball_contains_the_range_but_need_not_be_positive():
    """What the docstrings of ``jet.exp_ball`` and ``check_formulas._exp`` say (they used to say
    'positive'): containment holds, positivity is lost on wide balls, and the reciprocal of ``1 + e`` stays
    finite (clamped at ``1 + e ≥ 1``), though its ball is not positive either."""
    from attnreg.verify.certify import jet

    with flint.ctx.workprec(53):
        for f in (jet.exp_ball, check_formulas._exp):
            e = f(flint.arb(0, 44))
            assert e.contains(flint.arb(-44).exp()) and e.contains(flint.arb(44).exp())
            assert not e > 0
            q = enclose._reciprocal_of_at_least_one(1 + e)
            assert q.is_finite() and q.contains(1 / (1 + flint.arb(44).exp())) and q.contains(1)


def test_an_edited_bound_is_rejected_after_one_depth_first_path(monkeypatch):
    """What the comment at ``checker.MAX_DEPTH`` says: a piece fails only at depth 0, so a box whose bound
    was halved costs the boxes before it plus one path of ``MAX_DEPTH + 1`` enclosures (not one)."""
    import decimal

    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), refine_to=None)
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    calls, done = [], []
    real = checker.enclosure
    monkeypatch.setattr(checker, "enclosure", lambda *a: calls.append(1) or real(*a))
    checker.check(cert, progress=lambda k, _: done.append(len(calls)))  # enclosures after each box, valid
    i = max(range(len(cert["boxes"])), key=lambda j: decimal.Decimal(cert["boxes"][j]["bound"]))
    cert["boxes"][i]["bound"] = str(decimal.Decimal(cert["boxes"][i]["bound"]) / 2)
    calls.clear()
    with pytest.raises(checker.Rejected, match=f"box {i} "):
        checker.check(cert)
    assert len(calls) == (done[i - 1] if i else 0) + checker.MAX_DEPTH + 1
