"""One worker of benchmarks/run.py: one thread count, every case, in one process (pinned by run.py)."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import _arbiter
import _contenders
import _data
import _measure


def _fused_kernels() -> str:
    """Which row kernels attnreg's float64 NumPy path takes here (attnreg/_fused.py)."""
    import attnreg._fused as fused

    if not fused.available():
        return "NumPy (numba is not installed: pip install -e '.[fast]')"
    from importlib.metadata import version

    return f"fused (numba {version('numba')}) for rows of at least {fused.MIN_N} entries"


def machine(threads, libraries=("torch", "jax")) -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "cpu": _cpu_model(), "cores": os.cpu_count(), "threads": threads,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "first_touch_ms_per_mib": _first_touch(), "fused_kernels": _fused_kernels()}
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                                       "threading_layer", "prefix")} for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl is not installed (pip install -e '.[bench]')"
    try:
        if "torch" not in libraries:
            raise ImportError
        import torch

        torch.set_num_threads(threads)
        blas = [w for w in torch.__config__.show().replace(",", " ").split() if w.startswith("BLAS_INFO=")]
        info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads(),
                         "blas": blas[0].split("=", 1)[1] if blas else "unknown"}
    except ImportError:
        pass
    try:
        if "jax" not in libraries:
            raise ImportError
        import jax

        info["jax"] = {"version": jax.__version__, "backend": jax.default_backend(),
                       "xla_flags": os.environ.get("XLA_FLAGS", "")}
    except ImportError:
        pass
    return info


def _first_touch() -> float:
    """Milliseconds per MiB to allocate and first write fresh memory (64 MiB, above glibc's mmap threshold).

    Page faults cost ~0.05 ms/MiB on a typical Linux machine; sandboxes can charge 10-20x that, which
    penalises every contender that allocates n × n temporaries on each call."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        np.empty(2**23).fill(1.0)
        best = min(best, time.perf_counter() - t0)
    return best * 1e3 / 64


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _progress(text):
    if sys.stderr.isatty():
        print(text, file=sys.stderr, flush=True)


def work(a) -> dict:
    threads = a._worker
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass
    names = [c for c in a.contenders if _contenders.available(c)]
    info = machine(threads, {_contenders.LIBRARY[c] for c in names})
    skipped = [c for c in a.contenders if c not in names]
    results = []
    for dtype in a.dtype:
        for d in a.d:
            for n in a.n:
                results += _case(a, n, d, dtype, names, threads)
    return {"threads": threads, "machine": info, "skipped": skipped, "results": results,
            "arbiter": ("longdouble elementwise + exact float64 (Ozaki-split) products on dyadic data; see "
                        "benchmarks/_arbiter.py" if _arbiter.available() else
                        "unavailable: longdouble is not extended precision on this platform")}


# attnreg's loss+grad, timed again among the HVP contenders (interleaved with attnreg's HVP): the hvp ÷ loss+grad
# ratio then compares calls made seconds apart, not two sessions a minute apart on a machine whose speed drifts
SAME_SESSION_GRAD = "attnreg-numpy loss+grad"


def _case(a, n, d, dtype, names, threads):
    t0 = time.perf_counter()
    arrays = _data.problem(n, d, dtype, a.seed)
    if a.memory_only:
        return _memory_case(a, n, d, dtype, names, threads, arrays, t0)
    rows = []
    for version in a.version:
        G_star = (_arbiter.gradient(arrays["A1"], arrays["A2"], arrays["B"], arrays["X"], version)
                  if "grad" in a.op and _arbiter.available() else None)
        for op in a.op:
            built = {name: _contenders.build(name, arrays, version, op) for name in names}
            timed = {k: run for k, (run, _) in built.items()}
            if op == "hvp" and "attnreg-numpy" in built:  # hvp ÷ loss+grad from one interleaved session, not two
                timed[SAME_SESSION_GRAD] = _contenders.build("attnreg-numpy", arrays, version, "grad")[0]
            times = _measure.interleaved(timed, max_rounds=a.rounds,
                                         min_rounds=3, budget_s=2.0 if a.quick else 10.0,
                                         settle_s=_measure.SETTLE_S if threads > 1 else 0.0)
            med = {k: statistics.median(v) for k, v in times.items()}
            for name, (run, gradient) in built.items():
                G = gradient(run()) if op == "grad" and G_star is not None else None
                mem = None
                if not a.no_memory and _contenders.LIBRARY[name] == "numpy":
                    mem = _measure.tracemalloc_peak_mib(run)
                rows.append({
                    "threads": threads, "n": n, "d": d, "dtype": dtype, "version": version, "op": op,
                    "contender": name, "median_s": med[name], "rounds": len(times[name]),
                    "times_s": times[name],
                    "x_floor": med[name] / med["floor"] if "floor" in med else None,
                    "x_attnreg": med[name] / med["attnreg-numpy"] if "attnreg-numpy" in med else None,
                    "peak_mib": mem, "memory": "tracemalloc" if mem is not None else None,
                    "grad_rel_error": None if G is None else _arbiter.relative_error(G, G_star)})
                if name == "attnreg-numpy" and SAME_SESSION_GRAD in med:
                    rows[-1]["grad_same_session_s"] = med[SAME_SESSION_GRAD]
            del built
    if not a.no_memory:
        _rss_rows(a, n, d, dtype, names, rows)
    _progress(f"[{threads} thread(s)] n={n} d={d} {dtype}: {time.perf_counter() - t0:.1f} s")
    return rows


def _rss_rows(a, n, d, dtype, names, rows):
    """Peak RSS of the torch and jax contenders (a child process each library) into ``rows``."""
    for library in ("torch", "jax"):
        here = [c for c in names if _contenders.LIBRARY[c] == library]
        if here:
            peaks = _measure.rss_child({"n": n, "d": d, "dtype": dtype, "seed": a.seed, "contenders": here,
                                        "versions": a.version, "ops": a.op})
            for row in rows:
                key = f"{row['contender']}|{row['version']}|{row['op']}"
                if peaks.get(key) is not None:
                    row["peak_mib"], row["memory"] = peaks[key], "rss"


def _memory_case(a, n, d, dtype, names, threads, arrays, t0):
    """``--memory-only``: one warm-up call, then the peak extra memory of one call, per cell; also in units of
    one block-sized array (``block_rows × n`` entries of ``dtype``, the block attnreg's default chose here)."""
    from attnreg._threads import block_rows

    itemsize = arrays["A1"].dtype.itemsize
    block = block_rows(n, itemsize)
    rows = []
    for version in a.version:
        for op in a.op:
            for name in names:
                row = {"threads": threads, "n": n, "d": d, "dtype": dtype, "version": version, "op": op,
                       "contender": name, "block_rows": block, "block_mib": block * n * itemsize / 2**20,
                       "peak_mib": None, "memory": None}
                if _contenders.LIBRARY[name] == "numpy":
                    run, _ = _contenders.build(name, arrays, version, op)
                    run()
                    row["peak_mib"], row["memory"] = _measure.tracemalloc_peak_mib(run), "tracemalloc"
                    del run
                rows.append(row)
    _rss_rows(a, n, d, dtype, names, rows)
    _progress(f"[{threads} thread(s)] n={n} d={d} {dtype} (memory): {time.perf_counter() - t0:.1f} s")
    return rows
