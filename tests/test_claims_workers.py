"""The claims search's grid points on the one executor (``--workers`` / ``--scheduler``): the claims JSON is
byte for byte the same for any number of workers and on Dask, for a fixed seed."""
import json

import pytest

from attnreg.cli import main
from attnreg.verify import claims
from attnreg.verify import executor as E

CLAIM = """\
[[claim]]
id = "{id}"
provenance = "recalled"
form = "vector"
quantity = "alpha"
kind = "upper"
assume = ["norm(A) <= R", "norm(x) <= R", "n <= 8", "d <= 2"]
constant = "{constant}"
"""
FILE = CLAIM.format(id="alpha-upper", constant="n*exp(R**2)") + "\n" + \
    CLAIM.format(id="alpha-upper-no-n", constant="exp(R**2)")  # proved (ascent rounds run), refuted


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("claims") / "c.toml"
    path.write_text(FILE)
    return path


def _check(path, tmp_path, *extra):
    """The JSON (bytes) into ``tmp_path``; counterexamples next to ``path``, so the JSON names the same files."""
    out = tmp_path / f"claims{len(list(tmp_path.glob('claims*.json')))}.json"
    rc = main(["claims", "check", str(path), "--budget", "0.05", "--seed", "3", "--out", str(path.parent),
               "--json", str(out), *extra])
    return rc, out.read_bytes()


@pytest.fixture(scope="module")
def alone(claims_file, tmp_path_factory):
    """The JSON from this process alone (``--workers 1``)."""
    rc, text = _check(claims_file, tmp_path_factory.mktemp("alone"), "--workers", "1")
    assert rc == 1 and [c["status"] for c in json.loads(text)["claims"]] == ["proved", "refuted"]
    return text


def test_the_json_is_the_same_on_one_and_two_workers(claims_file, alone, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(E, "START_AFTER", 0.0)  # the worker starts at the first round, whatever the load
    started = []
    real = E.share

    def spy(pool, fn, parts):
        out = real(pool, fn, parts)
        started.append(pool.started)
        return out

    monkeypatch.setattr(E, "share", spy)
    monkeypatch.setattr(E, "THREADED", ())  # conftest loaded torch (spawn then), which this test is not about
    # threads an earlier test left (an in-process Dask cluster's) are not this test's either: only new ones count
    before = E.threading.active_count()
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes stderr for a terminal: the progress bar is drawn
    monkeypatch.setattr(E, "_threads", lambda: E.threading.active_count() - before + 1)
    methods = []
    context = E.multiprocessing.get_context
    monkeypatch.setattr(E.multiprocessing, "get_context", lambda m=None: methods.append(m) or context(m))
    rc, two = _check(claims_file, tmp_path, "--workers", "2")
    assert rc == 1 and two == alone
    assert started and all(started)
    # forked: the progress bar runs no thread of its own (rich's default refresh thread would force spawn)
    assert methods == ["fork"]
    err = capsys.readouterr().err
    assert "Traceback" not in err and "worker died" not in err


def test_mapper_keeps_the_item_order_for_any_number_of_parts():
    with E.executor(2, start_after=0) as pool:
        for parts in (1, 2, 3):
            assert E.mapper(pool, parts)(abs, range(-7, 4)) == [abs(i) for i in range(-7, 4)]
        assert pool.started
    assert list(E.mapper(None)(abs, [-1, 2])) == [1, 2]


def test_a_short_run_starts_no_worker():
    with E.executor(2, start_after=10.0) as pool:
        assert E.mapper(pool, 2)(abs, range(-7, 4)) == [abs(i) for i in range(-7, 4)]
        assert not pool.started and "only this process ran" in pool.kind


@pytest.mark.parametrize("argv,words", [(["--workers", "0"], "--workers"), (["--workers", "-3"], "--workers"),
                                        (["--workers", "100000"], "--workers"),
                                        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
                                        (["--scheduler", " "], "--scheduler")])
def test_bad_workers_or_scheduler_is_one_sentence_exit_2(argv, words, claims_file, tmp_path, capsys):
    assert main(["claims", "check", str(claims_file), "--budget", "0.1", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and words in err


def test_the_dask_scheduler_gives_the_same_json(claims_file, alone, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        rc, remote = _check(claims_file, tmp_path, "--scheduler", cluster.scheduler_address)
    assert rc == 1 and remote == alone
    assert "on dask" not in capsys.readouterr().err


def test_a_killed_worker_leaves_the_json_unchanged(claims_file, alone, tmp_path):
    """Grid points are pure work items: when the worker dies, this process runs its parts."""
    from _procs import kill_workers

    chosen = claims.load([claims_file])
    with E.executor(2, start_after=0) as pool:
        kill_workers(pool)
        outcomes = [claims.check_claim(c, budget=0.05, seed=3, out_dir=claims_file.parent,
                                       map_fn=E.mapper(pool, 2)) for c in chosen]
        assert pool.lost
    assert claims.to_json(outcomes).encode() == alone
