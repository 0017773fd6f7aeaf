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
    assert seen[:5] == [(1, {1}), (2, {1}), (4, {1}), (8, {1}), (16, {bnb.ROUND // 16})]


def test_a_pool_started_after_the_default_delay_shares_the_first_large_round():
    """With the default ``START_AFTER`` the worker starts during the opening or the first large round and
    runs part of that round; the certificate is the one of a single process."""
    s = spec.load(EXAMPLE)
    one = certificate.dumps(certificate.build(bnb.run(s)))
    rounds: list = []
    with executor(2) as pool:
        two = certificate.dumps(certificate.build(bnb.run(s, pool, cpu=rounds)))
        assert pool.started and not pool.lost
    assert one == two
    assert set(rounds[3]) - {os.getpid()}, rounds[3]  # rounds[3]: the 16 tasks (the root is not recorded)
