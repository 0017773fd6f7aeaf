"""``attnreg certify run`` misuse found in review: a scheduler address that does not parse or does not
answer like a scheduler, an empty ``--scheduler``, and a worker count far beyond the machine (each worker is a
forked process, all started at once) must each be one sentence and exit 2, fast, with nothing started."""
import time
from pathlib import Path

import pytest

from attnreg.cli import main
from attnreg.verify.executor import ExecutorError, cores, executor

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _run(tmp_path, *opts):
    return main(["certify", "run", str(EXAMPLES / "certify-f.toml"), "--out", str(tmp_path / "c.json"), *opts])


@pytest.mark.parametrize("address", ["garbage", "tcp://[::1", ""])
def test_a_malformed_scheduler_address_is_one_sentence(address, tmp_path, capsys):
    pytest.importorskip("distributed")
    assert _run(tmp_path, "--scheduler", address) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "scheduler" in err
    assert not (tmp_path / "c.json").exists()


def test_a_scheduler_that_fails_in_any_way_is_one_sentence(monkeypatch):
    """Whatever the client raises while connecting (a peer that is no scheduler made distributed try to
    allocate exabytes: numpy's ArrayMemoryError) is 'cannot reach the scheduler', not a traceback."""
    distributed = pytest.importorskip("distributed")

    def client(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.07 EiB")

    monkeypatch.setattr(distributed, "Client", client)
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        with executor(scheduler="tcp://10.0.0.1:8786"):
            pass


@pytest.mark.parametrize("workers", [10 ** 9, 100_000])
def test_a_huge_worker_count_is_refused_before_forking(workers, tmp_path, capsys):
    start = time.monotonic()
    assert _run(tmp_path, "--workers", str(workers)) == 2
    assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "--workers" in err
    with pytest.raises(ExecutorError, match="--workers"):
        with executor(workers):
            pass


def test_the_worker_cap_leaves_room_for_oversubscription():
    with executor(min(4 * cores(), 3)) as pool:
        assert pool.slots == min(4 * cores(), 3)
