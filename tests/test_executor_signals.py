"""The local pool's workers never outlive the run: a SIGTERM/SIGHUP of the main process (or a failure in it)
stops them at once, and a refused scheduler address is refused without waiting for the connect timeout."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from attnreg.verify import executor as E

RUN = """\
import os, signal, sys, time
from attnreg.verify import executor as E
for sig in (signal.SIGTERM, signal.SIGHUP):  # as a terminal leaves them (a test run under nohup ignores SIGHUP)
    signal.signal(sig, signal.SIG_DFL)
E.THREADED = ()
with E.executor(2, start_after=0) as pool:
    f = pool.executor.submit(time.sleep, 60)
    time.sleep(0.5)
    print(*pool.executor._processes, flush=True)
    time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead (its reaper may be slow)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_workers_die_with_the_main_process(sig):
    proc = subprocess.Popen([sys.executable, "-c", RUN], stdout=subprocess.PIPE, text=True)
    workers = []
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(map(_alive, workers))
        proc.send_signal(sig)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "a worker outlived the main process"
    finally:
        proc.kill()
        proc.wait()
        for pid in filter(_alive, workers):  # do not leave the orphans this test looks for
            os.kill(pid, signal.SIGKILL)


def test_an_exception_stops_running_tasks_at_once():
    """A failure (or Ctrl-C) in the caller does not wait for the workers' tasks to end."""
    clock = time.monotonic()
    with pytest.raises(KeyError):
        with E.executor(2, start_after=0) as pool:
            pool.executor.submit(time.sleep, 30)
            time.sleep(0.3)
            raise KeyError("x")
    assert time.monotonic() - clock < 10


def test_a_refused_scheduler_port_is_refused_at_once():
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = time.monotonic()
    with pytest.raises(E.ExecutorError, match="cannot reach the Dask scheduler"):
        with E.executor(scheduler=f"tcp://127.0.0.1:{port}"):
            pass
    assert time.monotonic() - clock < 5


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "tcp://127.0.0.1:x", "tcp://"])
def test_a_malformed_scheduler_address_is_one_sentence(address):
    pytest.importorskip("distributed")
    clock = time.monotonic()
    with pytest.raises(E.ExecutorError, match="Dask scheduler"):
        with E.executor(scheduler=address):
            pass
    assert time.monotonic() - clock < 5


def _where(_item):
    import threading

    return threading.current_thread().name


def test_a_one_thread_dask_cluster_is_used_not_bypassed():
    """``--scheduler`` with one thread in all still sends the work there (it ran here, reported as dask)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with E.executor(scheduler=cluster.scheduler_address) as pool:
            assert pool.slots == 1
            assert "MainThread" not in E.mapper(pool, 2)(_where, range(3))
            assert "MainThread" not in E.share(pool, _where, [0])


def test_a_dask_cluster_without_workers_is_refused_not_awaited_for_ever():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        clock = time.monotonic()
        with pytest.raises(E.ExecutorError, match="no workers"):
            with E.executor(scheduler=cluster.scheduler_address, timeout=2):
                pass
        assert time.monotonic() - clock < 10
