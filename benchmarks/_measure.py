"""Timing (interleaved medians) and peak extra memory (tracemalloc in process; peak RSS in a child process).

Timing: every contender is called twice first (jit compilation, caches, lazy imports: excluded), then
round after round each contender is called once, the order rotating from round to round, so that a
slow spell of a shared machine spreads over all of them; the median of the rounds is reported. Before
each timed call the process sleeps ``settle_s`` (not counted in the time or the budget), so that no
contender starts while threads left busy by the one before still run: OpenBLAS's idle worker threads
wait for work by spinning for 2²⁸ cycles (about 0.11 s at 2.45 GHz) after a product. The rotation keeps
the cyclic order, so without the pause attnreg-numpy always followed floor-blocked (and attnreg-torch
naive-numpy), both running OpenBLAS on 2 threads in the 2-thread worker, and started its 2 lanes with
that spinning thread on their 2 cores (10–20 ms of the worker thread's CPU during a 2-lane call at
n = 2048, load average 8–9; none after a pause of 0.15 s). One thread has no worker threads: the pause is
taken only where a worker runs more than one thread.

Memory: NumPy allocations are seen by :mod:`tracemalloc` (peak minus what was held before the call).
torch and jax allocate outside Python's view, so they are measured in a fresh child process
(``python _measure.py rss SPEC``): after the warm-up calls the kernel's high-water mark is reset
(``/proc/self/clear_refs``), and the peak RSS during one call minus the RSS before it is reported. The
child runs with ``MALLOC_MMAP_THRESHOLD_`` fixed at 64 KiB, so freed large buffers go back to the
system and the baseline does not hide reused memory. Linux only; elsewhere the RSS figure is None. Both
free attnreg's kept block buffers first, so that its figure includes them.
"""
from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 2.0**20


SETTLE_S = 0.15  # above OpenBLAS's spin of 2**28 cycles at clocks from 1.8 GHz up (module docstring)


def interleaved(runs: dict, *, max_rounds: int, min_rounds: int, budget_s: float, settle_s: float = 0.0) -> dict:
    """``{name: [seconds, ...]}`` for the zero-argument callables in ``runs``; ``settle_s`` of sleep before
    each timed call (module docstring), counted in neither the times nor ``budget_s``."""
    for run in runs.values():
        run(), run()
    names = list(runs)
    times = {name: [] for name in names}
    start, slept = time.perf_counter(), 0.0
    for r in range(max_rounds):
        gc.collect()
        for name in names[r % len(names):] + names[:r % len(names)]:
            if settle_s > 0:  # the pause as slept (a loaded machine wakes late), not as asked
                t0 = time.perf_counter()
                time.sleep(settle_s)
                slept += time.perf_counter() - t0
            t0 = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - t0)
        if r + 1 >= min_rounds and time.perf_counter() - start - slept > budget_s:
            break
    return times


def _release_buffers():
    """attnreg keeps its block buffers from one call to the next (``attnreg._fastrows.BufferPool``): free them
    before the measured call, so that it allocates what it uses and the figure counts it."""
    module = sys.modules.get("attnreg._fastrows")
    if module is not None:
        module.POOL.release()


def tracemalloc_peak_mib(run) -> float:
    _release_buffers()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del out
    return (peak - before) / MIB


def _status_kib(key: str) -> int:
    return int(re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M).group(1))


def _rss_peak_mib(run):
    for _ in range(2):
        out = run()
    del out
    _release_buffers()
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")     # reset the high-water mark (Linux ≥ 4.0)
    except OSError:
        return None
    before = _status_kib("VmRSS")
    out = run()
    peak = _status_kib("VmHWM")
    del out
    return (peak - before) * 1024 / MIB


def rss_child(spec: dict) -> dict:
    """Run the child for ``spec`` = {n, d, dtype, seed, contenders, versions, ops}; ``{key: MiB or None}``."""
    if not Path("/proc/self/status").exists():
        return {}
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    proc = subprocess.run([sys.executable, str(HERE / "_measure.py"), "rss", json.dumps(spec)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:  # e.g. out of memory at a large n: no figure rather than no benchmark
        last = (proc.stderr.strip().splitlines() or ["killed"])[-1]
        print(f"run.py: the memory child for {spec['contenders']} at n={spec['n']} failed ({last}); "
              "its peak memory is not reported", file=sys.stderr)
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child(spec: dict) -> dict:
    sys.path.insert(0, str(HERE))
    import _contenders
    import _data

    arrays = _data.problem(spec["n"], spec["d"], spec["dtype"], spec["seed"])
    found = {}
    for name in spec["contenders"]:
        for version in spec["versions"]:
            for op in spec["ops"]:
                run, _ = _contenders.build(name, arrays, version, op)
                found[f"{name}|{version}|{op}"] = _rss_peak_mib(run)
                del run
    return found


if __name__ == "__main__" and sys.argv[1:2] == ["rss"]:
    print(json.dumps(_child(json.loads(sys.argv[2]))))
