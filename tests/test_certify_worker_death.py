"""A worker process that dies (killed, out of memory) must not lose the run: its parts are pure functions of
their inputs, so this process runs them and the certificate is the same byte for byte. Found in review: a
killed worker gave a BrokenProcessPool traceback and no certificate."""
import dataclasses
import os
import signal
import time
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import executor

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def dead(pid: int) -> bool:
    """Whether ``pid`` has died (a zombie, or already reaped), read from /proc without reaping it: a test that
    reaps the pool's child itself (``os.waitpid``) leaves multiprocessing's ``is_alive()`` True for ever, and the
    pool's manager thread then spins at shut-down (it hung a CI run)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _kill_workers(pool):
    pool.executor.submit(int).result()  # the workers exist (a spawned pool starts them on demand)
    pids = list(pool.executor._processes)  # private, but the only handle there is
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(dead(pid) for pid in pids):
        time.sleep(0.01)


def test_a_killed_worker_leaves_the_certificate_unchanged():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.6")
    alone = certificate.dumps(certificate.build(bnb.run(s)))
    with executor(2) as pool:
        _kill_workers(pool)
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
                _kill_workers(pool)

        shared = certificate.dumps(certificate.build(bnb.run(s, pool, progress=progress)))
        assert len(rounds) > 2 and pool.lost
    assert shared == alone
