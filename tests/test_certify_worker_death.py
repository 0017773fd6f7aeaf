"""A worker process that dies (killed, out of memory) must not lose the run: its parts are pure functions of
their inputs, so this process runs them and the certificate is the same byte for byte. Found in review: a
killed worker gave a BrokenProcessPool traceback and no certificate."""
import dataclasses
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import executor

from _procs import kill_workers

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_a_killed_worker_leaves_the_certificate_unchanged():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    alone = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2) as pool:
        kill_workers(pool)
        shared = certificate.dumps(certificate.build(bnb.run(s, pool)))
        assert pool.lost
    assert shared == alone


def test_a_worker_killed_during_the_run_leaves_the_certificate_unchanged():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    alone = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2) as pool:
        rounds = []

        def progress(*_):
            rounds.append(1)
            if len(rounds) == 2:
                kill_workers(pool)

        shared = certificate.dumps(certificate.build(bnb.run(s, pool, progress=progress)))
        assert len(rounds) > 2 and pool.lost
    assert shared == alone
