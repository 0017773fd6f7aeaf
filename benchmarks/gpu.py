"""GPU benchmark: attnreg on CUDA tensors against torch autograd, torch.compile of the analytic gradient and jax.

    python benchmarks/gpu.py                      # n = 16384, d = 128, float64 and float32 (under 5 minutes)
    python benchmarks/gpu.py --device cpu --n 512 # smoke mode: the same code on the CPU

For each dtype it prints, per contender, the median time of the loss and gradient (after two warm-up
calls, which include compilation), the ratio to attnreg, the peak extra device memory
(``torch.cuda.max_memory_allocated`` minus what was allocated before; jax's ``peak_bytes_in_use`` where
its device reports it) and the gradient's relative difference from attnreg's float64 result on NumPy
arrays on the CPU (the check that the device computes the same thing). Without a CUDA GPU it prints one
line and exits 0.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def analytic(A1, A2, B, X, version):
    """The whole-matrix analytic loss and gradient (n × n temporaries), the form torch.compile fuses."""
    import torch

    S = A1 @ X @ A2.T
    if version == "normalized":
        F = torch.softmax(S, dim=1)
        C = F - B
        FC = F * C
        P = FC - FC.sum(1, keepdim=True) * F
        return 0.5 * (C * C).sum(), A1.T @ P @ A2
    U = torch.exp(S)
    H = U - U.sum(1, keepdim=True) * B
    P = U * H - (H * B).sum(1, keepdim=True) * U
    return 0.5 * (H * H).sum(), A1.T @ P @ A2


def contenders(arrays, version, device, compile_, use_jax):
    import torch

    import attnreg
    from _contenders import torch_loss

    t = {k: torch.asarray(a, device=device) for k, a in arrays.items()}
    A1, A2, B, X = (t[k] for k in ("A1", "A2", "B", "X"))
    runs = {"attnreg": lambda: attnreg.loss_and_grad(A1, A2, B, X, version=version)}
    loss = torch_loss(lambda S: torch.softmax(S, dim=1), torch.exp)

    def autograd():
        Xg = X.detach().requires_grad_(True)
        value = loss(Xg, A1, A2, B, version)
        value.backward()
        return value.detach(), Xg.grad

    runs["torch-autograd"] = autograd
    if compile_:
        compiled = torch.compile(analytic)
        runs["torch.compile(analytic)"] = lambda: compiled(A1, A2, B, X, version)
    if use_jax:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        j = {k: jnp.asarray(a) for k, a in arrays.items()}
        jloss = torch_loss(lambda S: jax.nn.softmax(S, axis=1), jnp.exp)
        vg = jax.jit(jax.value_and_grad(lambda Xv, A1, A2, B: jloss(Xv, A1, A2, B, version)))
        runs["jax.jit(value_and_grad)"] = lambda: jax.block_until_ready(vg(j["X"], j["A1"], j["A2"], j["B"]))
    return runs


def measure(run, device, rounds):
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(2):
        out = run()
    sync()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = run()
        sync()
        times.append(time.perf_counter() - t0)
    peak = None
    if device == "cuda":
        del out
        torch.cuda.empty_cache()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = run()
        sync()
        peak = (torch.cuda.max_memory_allocated() - before) / 2**20
    return statistics.median(times), peak, out


def jax_peak_mib():
    try:
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use", 0) / 2**20 or None
    except Exception:  # a device without memory statistics (the CPU)
        return None


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
    cpu = {}
    t0 = time.perf_counter()
    base = _data.problem(a.n, a.d, "float64")
    cpu_grad = np.asarray(attnreg.grad(*(base[k] for k in ("A1", "A2", "B", "X")), version=a.version))
    print(f"CPU float64 reference (attnreg on NumPy): {time.perf_counter() - t0:.1f} s")
    for dtype in dtypes:
        arrays = _data.problem(a.n, a.d, dtype)
        print(f"\n{dtype}\n| contender | median ms | × attnreg | peak extra MiB | grad rel. diff vs CPU float64 |")
        print("|---|---|---|---|---|")
        rows = {}
        for label, run in contenders(arrays, a.version, a.device, not a.no_compile, use_jax).items():
            try:
                med, peak, out = measure(run, a.device, a.rounds)
            except Exception as exc:  # e.g. out of device memory: report it and go on
                print(f"| {label} | failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80]} | | | |")
                continue
            if label.startswith("jax"):
                peak = jax_peak_mib() if a.device == "cuda" else None
            G = np.asarray(out[1].double().cpu() if hasattr(out[1], "cpu") else out[1], dtype=np.float64)
            rows[label] = med
            diff = np.linalg.norm(G - cpu_grad) / np.linalg.norm(cpu_grad)
            cpu[(dtype, label)] = diff
            ratio = med / rows["attnreg"] if "attnreg" in rows else float("nan")
            print(f"| {label} | {med * 1e3:.2f} | {ratio:.2f} | {'—' if peak is None else f'{peak:.0f}'} | "
                  f"{diff:.1e} |")
    from attnreg.verify.tolerances import tol

    limit = tol("bench.gpu_vs_cpu").factor
    worst = max((v for (dt, _), v in cpu.items() if dt == "float64"), default=0.0)
    verdict = "agrees" if worst <= limit else "DOES NOT AGREE"
    print(f"\nfloat64 against the CPU: worst relative difference {worst:.1e} (limit {limit:.0e}): {verdict}")
    return 0 if worst <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
