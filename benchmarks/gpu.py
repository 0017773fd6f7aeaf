"""GPU benchmark: attnreg on CUDA tensors against torch autograd, torch.compile of the analytic gradient and jax.

    python benchmarks/gpu.py                      # n = 16384, d = 128, float64 and float32 (under 5 minutes)
    python benchmarks/gpu.py --device cpu --n 512 # smoke mode: the same code on the CPU

For each dtype it prints, per contender, the median time of the loss and gradient (after two warm-up
calls, which include compilation; the contenders interleaved), the ratio to attnreg, the peak extra device memory
(``torch.cuda.max_memory_allocated`` minus what was allocated before; jax's ``peak_bytes_in_use`` where
its device reports it) and the gradient's relative difference from attnreg's float64 result on NumPy
arrays on the CPU (the check that the device computes the same thing: exit status 1 when a float64 gradient
differs by more than the tolerance, or when attnreg's float64 gradient was not computed at all). The
contenders are those of benchmarks/_contenders.py on the device, timed interleaved by
benchmarks/_measure.py. Without a CUDA GPU it prints one line and exits 0.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LABELS = {"attnreg-torch": "attnreg", "torch-autograd": "torch-autograd",
          "torch-compile": "torch.compile(analytic)", "jax-jit": "jax.jit(value_and_grad)"}


def contenders(arrays, version, device, compile_, use_jax):
    """``{name: (run, gradient)}`` from benchmarks/_contenders.py, each ``run`` waiting for the device; a
    contender that cannot even be built (e.g. out of device memory) is ``(None, its error)``."""
    import torch

    import _contenders

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    names = ["attnreg-torch", "torch-autograd"] + ["torch-compile"] * compile_ + ["jax-jit"] * use_jax
    built = {}
    for name in names:
        try:
            run, gradient = _contenders.build(name, arrays, version, "grad", device=device)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            built[name] = (None, exc)
            continue
        built[name] = ((lambda run=run: (run(), sync())[0]), gradient)
    return built


def peak_mib(run, device):
    """Peak extra device memory of one call (MiB): ``torch.cuda.max_memory_allocated`` minus what was
    allocated before; None off CUDA."""
    if device != "cuda":
        return None
    import torch

    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = run()
    del out
    return (torch.cuda.max_memory_allocated() - before) / 2**20


def jax_peak_mib():
    try:
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use", 0) / 2**20 or None
    except Exception:  # a device without memory statistics (the CPU)
        return None


def _failed(exc):
    return f"failed: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:80]}"


def measure_all(built, device, rounds):
    """``{name: (median s, peak MiB, gradient) or error text}``: each contender is called once alone (a
    failure, e.g. out of memory, is reported and the others go on), then the survivors are timed
    interleaved (benchmarks/_measure.py), then each one's peak memory is taken on a call of its own."""
    import statistics

    import _measure

    found, ok = {}, {}
    for name, (run, gradient) in built.items():
        if run is None:
            found[name] = _failed(gradient)
            continue
        try:
            out = run()
            ok[name] = (run, gradient(out))
        except Exception as exc:  # noqa: BLE001 - reported in the table
            found[name] = _failed(exc)
        out = None
    times = _measure.interleaved({k: run for k, (run, _) in ok.items()}, max_rounds=rounds, min_rounds=rounds,
                                 budget_s=float("inf")) if ok else {}
    for name, (run, grad) in ok.items():
        peak = jax_peak_mib() if name == "jax-jit" and device == "cuda" else peak_mib(run, device)
        found[name] = (statistics.median(times[name]), peak, grad)
    return found


def verdict(diffs, limit):
    """``(exit status, sentence)`` of the float64 check against the CPU: it passes only when attnreg's float64
    gradient was computed and every float64 gradient that was computed is within ``limit``."""
    if "attnreg-torch" not in diffs:
        return 1, "attnreg's float64 gradient was not computed: nothing checked against the CPU (NOT CHECKED)"
    worst = max(diffs.values())
    if worst <= limit:
        return 0, f"worst relative difference {worst:.1e} (limit {limit:.0e}): agrees"
    return 1, f"worst relative difference {worst:.1e} (limit {limit:.0e}): DOES NOT AGREE"


def main(argv=None):
    p = argparse.ArgumentParser(prog="benchmarks/gpu.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--n", type=int, default=16384)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--dtype", default="float64,float32")
    p.add_argument("--version", choices=("normalized", "rescaled"), default="normalized")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile (it compiles for tens of seconds)")
    p.add_argument("--no-jax", action="store_true")
    a = p.parse_args(argv)
    dtypes = a.dtype.split(",")
    if not (2 <= a.n <= 2**18 and 1 <= a.d <= 256 and 1 <= a.rounds <= 100) or not set(dtypes) <= {"float64",
                                                                                                 "float32"}:
        print("gpu.py: need 2 <= n <= 262144, 1 <= d <= 256, 1 <= rounds <= 100 and dtypes among float64, float32",
              file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError:
        print("gpu.py: torch is not installed; nothing to measure")
        return 0
    if a.device == "cuda" and not torch.cuda.is_available():
        print("gpu.py: no CUDA GPU here (torch.cuda.is_available() is False); nothing to measure")
        return 0
    import numpy as np

    import _data
    import attnreg

    use_jax = not a.no_jax
    if use_jax:
        try:
            import jax

            use_jax = a.device == "cpu" or jax.default_backend() == "gpu"
        except ImportError:
            use_jax = False
    name = torch.cuda.get_device_name() if a.device == "cuda" else "CPU"
    print(f"device: {name}; torch {torch.__version__}; n = {a.n}, d = {a.d}, {a.version}, loss+grad; "
          f"jax {'on' if use_jax else 'skipped (no jax GPU backend)'}")
    diffs = {}
    t0 = time.perf_counter()
    base = _data.problem(a.n, a.d, "float64")
    cpu_grad = np.asarray(attnreg.grad(*(base[k] for k in ("A1", "A2", "B", "X")), version=a.version))
    print(f"CPU float64 reference (attnreg on NumPy): {time.perf_counter() - t0:.1f} s")
    for dtype in dtypes:
        arrays = _data.problem(a.n, a.d, dtype)
        print(f"\n{dtype}\n| contender | median ms | × attnreg | peak extra MiB | grad rel. diff vs CPU float64 |")
        print("|---|---|---|---|---|")
        found = measure_all(contenders(arrays, a.version, a.device, not a.no_compile, use_jax), a.device, a.rounds)
        mine = found.get("attnreg-torch")
        for name, got in found.items():
            if isinstance(got, str):
                print(f"| {LABELS[name]} | {got} | | | |")
                continue
            med, peak, G = got
            diff = np.linalg.norm(G - cpu_grad) / np.linalg.norm(cpu_grad)
            if dtype == "float64":
                diffs[name] = diff
            ratio = med / mine[0] if isinstance(mine, tuple) else float("nan")
            print(f"| {LABELS[name]} | {med * 1e3:.2f} | {ratio:.2f} | {'—' if peak is None else f'{peak:.0f}'} | "
                  f"{diff:.1e} |")
    from attnreg.verify.tolerances import tol

    status, sentence = verdict(diffs, tol("bench.gpu_vs_cpu").factor)
    print(f"\nfloat64 against the CPU: {sentence}")
    return status


if __name__ == "__main__":
    sys.exit(main())
