"""Test helpers for pools whose workers a test kills (imported by the worker-death tests of certify and claims)."""
import os
import signal
import time


def dead(pid: int) -> bool:
    """Whether ``pid`` has died (a zombie, or already reaped), read from /proc without reaping it: a test that
    reaps the pool's child itself (``os.waitpid``) leaves multiprocessing's ``is_alive()`` True for ever, and the
    pool's manager thread then spins at shut-down (it hung a CI run)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def kill_workers(pool) -> None:
    """SIGKILL every worker process of ``pool`` (an :class:`attnreg.verify.executor` pool) and wait, up to 10 s,
    until each has died — without reaping it (see :func:`dead`)."""
    pool.executor.submit(int).result()  # the workers exist (a spawned pool starts them on demand)
    pids = list(pool.executor._processes)  # private, but the only handle there is
    assert pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # gone already (and reaped) between the listing and the kill: dead, as wanted
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(dead(pid) for pid in pids):
        time.sleep(0.01)
