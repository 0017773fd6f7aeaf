"""The opening of the branch-and-bound: breadth-first rounds, so the first large round is many small tasks
that a pool started with the default delay shares (before it, the root's two halves ran in this process)."""
import os
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import executor

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "certify-f.toml"


def test_the_first_rounds_fan_out_breadth_first_then_a_round_of_sixteen_tasks(monkeypatch):
    seen, real = [], bnb._map

    def spy(pool, prob, rnd, tasks, cpu):
        seen.append((len(tasks), {k for _, k in tasks}))
        return real(pool, prob, rnd, tasks, cpu)

    monkeypatch.setattr(bnb, "_map", spy)
    bnb.run(spec.load(EXAMPLE))
    assert seen[:5] == [(1, {1}), (2, {1}), (4, {1}), (8, {1}), (16, {bnb.KMAX})]


def test_a_pool_shares_the_rounds_and_gives_the_single_process_certificate():
    """A pool started at once runs part of the rounds, and the certificate is the one of a single process.
    (Whether the default ``START_AFTER`` starts the worker during the opening or only after the first large
    round depends on the machine's speed, so that is measured by benchmarks/bench_certify.py, not asserted.)"""
    s = spec.load(EXAMPLE)
    one = certificate.dumps(certificate.build(bnb.run(s)))
    rounds: list = []
    with executor(2, start_after=0) as pool:
        two = certificate.dumps(certificate.build(bnb.run(s, pool, cpu=rounds)))
        assert pool.started and not pool.lost
    assert one == two
    assert any(set(r) - {os.getpid()} for r in rounds), rounds


def test_runs_that_end_inside_or_just_after_the_opening_are_the_same_on_any_pool_and_check():
    """max_boxes ending the run before, inside and right after the opening (1, 2, 3, 7, 15, 16, 17 boxes), with
    a pool started at the first shared round: byte for byte the single-process certificate, which the checker
    accepts (boxes 16 and 17 stop at 15: the next round, 16 children, would pass the cap)."""
    import dataclasses
    import json

    from attnreg.verify.certify import checker

    base = spec.load(EXAMPLE)
    with executor(3, start_after=0) as pool:
        for cap, evaluated in ((1, 1), (2, 1), (3, 3), (7, 7), (15, 15), (16, 15), (17, 15)):
            s = dataclasses.replace(base, max_boxes=cap)
            one = certificate.dumps(certificate.build(bnb.run(s)))
            assert certificate.dumps(certificate.build(bnb.run(s, pool))) == one
            cert = json.loads(one)
            assert (cert["stop"], cert["boxes_evaluated"]) == ("max_boxes", evaluated)
            assert checker.check(cert).startswith("not certified")
        assert pool.started and not pool.lost
