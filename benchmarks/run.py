"""Benchmark attnreg's loss+gradient and HVP against its peers and the floor, measured in one run.

Contenders (each where its library is installed): attnreg on NumPy arrays and on torch tensors, torch
autograd (``backward``; ``torch.func.jvp`` of ``grad`` for the HVP), ``jax.jit(jax.value_and_grad)``
(``jvp`` of ``grad``), a naive NumPy analytic gradient, and the floor (the matrix products and one exp
over the n² logits, whole and row-blocked). Timings are interleaved medians with warm-up excluded; the
report gives ratios to the floor and to attnreg (NumPy), peak extra memory (tracemalloc for NumPy, peak
RSS in a child process for torch and jax) and each gradient's relative error against an
extended-precision arbiter (benchmarks/_arbiter.py says what it is).

Each thread count runs in its own worker process, pinned to that many cores, with every library told
to use that many threads. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, are removed for the workers
(they slow a current NumPy; --keep-openblas-env keeps them); the kernel OpenBLAS then chose is printed.

    python benchmarks/run.py --quick                  # under 3 minutes on 2 cores
    python benchmarks/run.py --n 2048,4096,8192 --d 128 --dtype float64 --threads 1,2 --json bench.json
    python benchmarks/run.py --memory-only --contenders attnreg-numpy,floor-blocked --n 2048,4096,8192 --d 128 \
        --dtype float64 --threads 1,2     # peak extra memory only, also in block-sized arrays: no timing
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS, OPS, DTYPES = ("normalized", "rescaled"), ("grad", "hvp"), ("float64", "float32")
OP_LABEL = {"grad": "loss+grad", "hvp": "HVP"}
OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class BadInput(Exception):
    pass


def _ints(text, name, lo, hi):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise BadInput(f"{name} must be comma-separated integers, got {text!r}") from None
    if not values or any(not lo <= v <= hi for v in values):
        raise BadInput(f"{name} must be integers from {lo} to {hi}, got {text!r}")
    return values


def _choices(text, name, allowed):
    values = text.split(",")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise BadInput(f"{name} must be among {', '.join(allowed)}; got {', '.join(bad)}")
    return values


def parse(argv):
    sys.path.insert(0, str(HERE))
    from _contenders import ALL

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Ratios are what matter: absolute times depend on the machine and its load.")
    p.add_argument("--quick", action="store_true",
                   help="n = 1024, 2048, d = 128, float64, at most 5 rounds (under 3 minutes on 2 cores)")
    p.add_argument("--n", help="comma-separated sizes (default 1024,2048,4096,8192)")
    p.add_argument("--d", help="comma-separated d (default 32,128; at most 256)")
    p.add_argument("--dtype", help="float64, float32 or both comma-separated (default both)")
    p.add_argument("--version", default=",".join(VERSIONS), help="normalized, rescaled (default both)")
    p.add_argument("--op", default=",".join(OPS), help="grad (loss+grad), hvp (default both)")
    p.add_argument("--threads", default=str(cores), help=f"comma-separated thread counts (default {cores})")
    p.add_argument("--contenders", default=",".join(ALL), help="comma-separated subset of: " + ", ".join(ALL))
    p.add_argument("--rounds", type=int, help="most timed rounds per cell (default 7; 5 with --quick)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurements")
    p.add_argument("--memory-only", action="store_true",
                   help="measure only peak extra memory (one call per cell, no timing, no gradient errors); the "
                        "report also gives it in block-sized arrays (block rows × n entries, the default block)")
    p.add_argument("--seed", type=int, default=0, help="seed of the benchmark data (default 0)")
    p.add_argument("--json", metavar="OUT", help="write every measurement to OUT (JSON, written atomically)")
    p.add_argument("--omp-passive", action="store_true",
                   help="set OMP_WAIT_POLICY=PASSIVE for the workers: on a loaded machine torch's spinning OpenMP "
                        "threads can make small calls 100x slower (the report says which policy ran)")
    p.add_argument("--keep-openblas-env", action="store_true",
                   help="do not remove OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the workers")
    p.add_argument("--_worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--_out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.n = _ints(a.n or ("1024,2048" if a.quick else "1024,2048,4096,8192"), "--n", 2, 2**15)
    a.d = _ints(a.d or ("128" if a.quick else "32,128"), "--d", 1, 256)
    a.dtype = _choices(a.dtype or ("float64" if a.quick else ",".join(DTYPES)), "--dtype", DTYPES)
    a.version = _choices(a.version, "--version", VERSIONS)
    a.op = _choices(a.op, "--op", OPS)
    a.threads = _ints(a.threads, "--threads", 1, cores)
    a.contenders = _choices(a.contenders, "--contenders", ALL)
    if a.memory_only and a.no_memory:
        raise BadInput("--memory-only and --no-memory exclude each other")
    a.rounds = a.rounds if a.rounds is not None else (5 if a.quick else 7)
    if not 3 <= a.rounds <= 1000:
        raise BadInput(f"--rounds must be from 3 to 1000, got {a.rounds}")
    if not 0 <= a.seed < 2**32:
        raise BadInput(f"--seed must be from 0 to 2**32 - 1, got {a.seed}")
    if a.json is not None:
        out = Path(a.json)
        if out.is_dir() or not out.parent.is_dir():
            raise BadInput(f"--json {a.json}: " + ("is a folder" if out.is_dir() else "its folder does not exist"))
    return a


def worker_env(threads, keep_openblas, omp_passive):
    env = dict(os.environ)
    if omp_passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if not keep_openblas:
        for key in OPENBLAS_ENV:
            env.pop(key, None)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(threads)
    if threads == 1:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    return env


def drive(a, argv):
    runs, t0 = [], time.perf_counter()
    for threads in a.threads:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "worker.json"
            cmd = [sys.executable, str(HERE / "run.py"), *argv, "--threads", str(threads),
                   "--_worker", str(threads), "--_out", str(out)]
            proc = subprocess.run(cmd, env=worker_env(threads, a.keep_openblas_env, a.omp_passive))
            if proc.returncode != 0:
                print(f"run.py: the worker for {threads} thread(s) failed (exit {proc.returncode})", file=sys.stderr)
                return 1
            runs.append(json.loads(out.read_text()))
    original = {k: os.environ.get(k) for k in OPENBLAS_ENV}
    report = {"machine": runs[0]["machine"], "openblas_env": {
        "before": original, "removed_for_workers": not a.keep_openblas_env and any(original.values())},
        "omp_wait_policy": "PASSIVE" if a.omp_passive else os.environ.get("OMP_WAIT_POLICY", "default"),
        "arbiter": runs[0]["arbiter"], "runs": runs, "seconds": round(time.perf_counter() - t0, 1),
        "memory_only": a.memory_only}
    sys.path.insert(0, str(HERE))
    from _report import render

    print(render(report))
    if a.json:
        sys.path.insert(0, str(HERE.parent))
        from attnreg._io import atomic_write_text

        atomic_write_text(a.json, json.dumps(report, indent=1) + "\n")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--_worker" in argv and hasattr(os, "sched_setaffinity"):  # pin before any library starts its threads
        threads = int(argv[argv.index("--_worker") + 1])
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    try:
        a = parse(argv)
    except BadInput as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    if a._worker is not None:
        from _worker import work

        Path(a._out).write_text(json.dumps(work(a)))
        return 0
    clean = []
    skip = False
    for arg in argv:  # the workers get everything but --threads and --json (the driver's business)
        if skip:
            skip = False
            continue
        if arg in ("--threads", "--json"):
            skip = True
            continue
        if not arg.startswith(("--threads=", "--json=")):
            clean.append(arg)
    return drive(a, clean)


if __name__ == "__main__":
    sys.exit(main())
