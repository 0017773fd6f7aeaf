"""The benchmark harness: its arbiter is right, a tiny run finishes with well-formed JSON, bad input exits 2."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

from attnreg import reference
from attnreg.verify.tolerances import tol

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import _arbiter  # noqa: E402
import _data  # noqa: E402

NUMPY_ONLY = "floor,floor-blocked,attnreg-numpy,naive-numpy"
needs_extended = pytest.mark.skipif(not _arbiter.available(), reason="longdouble is float64 on this platform")


def _mp(x, ctx):
    """A longdouble as an exact mpmath number (its float64 head plus its float64 tail)."""
    hi = np.float64(x)
    return ctx.mpf(float(hi)) + ctx.mpf(float(np.float64(np.longdouble(x) - np.longdouble(hi))))


def test_data_logits_are_exact_in_float64():
    p = _data.problem(300, 40)
    S = p["A1"] @ (p["X"] @ p["A2"].T)
    exact = [[sum(Fraction(a) * Fraction(w) for a, w in zip(p["A1"][j], col))
              for col in (p["X"] @ p["A2"].T)[:, :5].T] for j in range(3)]
    assert all(Fraction(S[j, k]) == exact[j][k] for j in range(3) for k in range(5))
    W = [[sum(Fraction(x) * Fraction(a) for x, a in zip(p["X"][i], p["A2"][k])) for k in range(4)] for i in range(40)]
    assert all(Fraction((p["X"] @ p["A2"].T)[i, k]) == W[i][k] for i in range(40) for k in range(4))


@needs_extended
def test_exact_matmul_is_exact_up_to_extended_rounding():
    rng = np.random.default_rng(1)
    Q = _data.problem(3000, 2)["A1"].T                         # 2 × 3000 on the dyadic grid
    Y = (rng.standard_normal((3000, 2)) * np.exp(rng.uniform(-30, 30, (3000, 2)))).astype(np.longdouble)
    Y += np.longdouble(1) / 3 * Y * 1e-12                        # bits beyond float64's 53
    got = _arbiter.exact_matmul(Q, Y)
    for i in range(2):
        for k in range(2):
            exact = sum(Fraction(float(q)) * Fraction(*y.as_integer_ratio()) for q, y in zip(Q[i], Y[:, k]))
            scale = sum(abs(Fraction(float(q)) * Fraction(*y.as_integer_ratio())) for q, y in zip(Q[i], Y[:, k]))
            err = abs(Fraction(*got[i, k].as_integer_ratio()) - exact) / scale
            assert err < 8 * 2.0**-64, (i, k, float(err))


@needs_extended
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("version", ["normalized", "rescaled"])
def test_arbiter_against_the_50_digit_reference(version, dtype):
    p = _data.problem(12, 3, dtype, seed=3)
    args = [p[k].astype(np.float64) for k in ("A1", "A2", "B", "X")]
    G = _arbiter.gradient(*args, version)
    R = reference.grad(*args, version=version, dps=50)
    ctx = mpmath.MPContext()
    ctx.dps = 40
    err = ctx.sqrt(sum((_mp(G[i, k], ctx) - R[i, k]) ** 2 for i in range(3) for k in range(3)))
    rel = err / ctx.sqrt(sum(R[i, k] ** 2 for i in range(3) for k in range(3)))
    assert rel <= tol("bench.arbiter").factor * 2.0**-53, float(rel)


@needs_extended
def test_arbiter_sees_float64_errors():
    """A float64 gradient is a few ulps off: the arbiter measures it as such, not as zero."""
    import attnreg

    p = _data.problem(128, 16)
    G = attnreg.grad(p["A1"], p["A2"], p["B"], p["X"], version="normalized")
    err = _arbiter.relative_error(G, _arbiter.gradient(p["A1"], p["A2"], p["B"], p["X"], "normalized"))
    assert 1e-18 < err < 1e-13


def run_bench(*args, timeout=300):
    return subprocess.run([sys.executable, str(BENCH / "run.py"), *args], capture_output=True, text=True,
                          timeout=timeout)


def check_report(report, contenders, n, threads):
    assert set(report) >= {"machine", "openblas_env", "arbiter", "runs", "seconds"}
    assert [r["threads"] for r in report["runs"]] == threads
    rows = [row for run in report["runs"] for row in run["results"]]
    assert len(rows) == len(threads) * len(n) * 2 * 2 * len(contenders)
    for row in rows:
        assert row["contender"] in contenders and row["n"] in n and row["median_s"] > 0
        assert len(row["times_s"]) == row["rounds"] >= 3
        assert row["x_floor"] > 0 and row["x_attnreg"] > 0
        assert row["peak_mib"] is None or row["peak_mib"] >= 0
        if row["contender"] == "floor":
            assert row["x_floor"] == 1
        if row["contender"] == "attnreg-numpy":
            assert row["x_attnreg"] == 1
        gets_error = row["op"] == "grad" and not row["contender"].startswith("floor") and _arbiter.available()
        if gets_error:
            bound = 1e-12 if row["dtype"] == "float64" else 1e-4
            assert 0 <= row["grad_rel_error"] < bound, row
        else:
            assert row["grad_rel_error"] is None
    return rows


def test_a_settle_pause_that_wakes_late_is_still_not_spent_from_the_budget(monkeypatch):
    """On a loaded machine ``sleep(s)`` returns later than ``s``: the time actually slept is left out of the
    budget (counting ``s`` charged the oversleep to it: 3 rounds here instead of 4)."""
    import _measure

    clock = [0.0]

    def sleep(s):
        clock[0] += s + 10.0  # wakes 10 s late

    def call():
        clock[0] += 0.25

    monkeypatch.setattr(_measure.time, "sleep", sleep)
    monkeypatch.setattr(_measure.time, "perf_counter", lambda: clock[0])
    times = _measure.interleaved({"a": call, "b": call}, max_rounds=5, min_rounds=3, budget_s=1.9, settle_s=30.0)
    assert times == {"a": [0.25] * 4, "b": [0.25] * 4}


def test_settle_pause_precedes_every_timed_call_and_is_not_timed(monkeypatch):
    import _measure

    clock, events = [0.0], []

    def sleep(s):
        events.append(("sleep", s))
        clock[0] += s

    def call(name):
        events.append(("call", name))
        clock[0] += 0.25

    monkeypatch.setattr(_measure.time, "sleep", sleep)
    monkeypatch.setattr(_measure.time, "perf_counter", lambda: clock[0])
    runs = {"a": lambda: call("a"), "b": lambda: call("b")}
    times = _measure.interleaved(runs, max_rounds=5, min_rounds=3, budget_s=1.9, settle_s=30.0)
    assert events[4:] == [e for name in "abbaab" + "ba" for e in (("sleep", 30.0), ("call", name))]
    assert times == {"a": [0.25] * 4, "b": [0.25] * 4}  # the pauses are neither timed nor spent from the budget
    events.clear()
    assert _measure.interleaved(runs, max_rounds=5, min_rounds=3, budget_s=1.9) == {"a": [0.25] * 4, "b": [0.25] * 4}
    assert not any(e[0] == "sleep" for e in events)  # settle_s defaults to no pause


def test_tiny_numpy_run_writes_well_formed_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = run_bench("--n", "48,64", "--d", "4", "--dtype", "float64", "--threads", "1", "--rounds", "3",
                     "--contenders", NUMPY_ONLY, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    rows = check_report(report, NUMPY_ONLY.split(","), [48, 64], [1])
    assert all(row["memory"] == "tracemalloc" for row in rows)
    assert "| 64 | attnreg-numpy |" in proc.stdout and "threadpool:" in proc.stdout
    report_py = [sys.executable, str(BENCH / "_report.py")]
    summary = subprocess.run([*report_py, str(out), "--summary"], capture_output=True, text=True)
    lines = [line for line in summary.stdout.splitlines() if line.startswith("| 1, float64, 4, ")]
    assert summary.returncode == 0 and len(lines) == 4, summary.stdout  # 2 versions × 2 n
    cells = {(r["version"], r["n"], r["op"], r["contender"]): r["median_s"] for r in rows}
    a, floor = cells[("normalized", 48, "grad", "attnreg-numpy")], cells[("normalized", 48, "grad", "floor")]
    assert lines[0].split(" | ")[3] == f"{a / floor:.2f}" and lines[0].split(" | ")[4] == "—"  # no jax in this run
    # hvp ÷ loss+grad: attnreg's loss+grad timed again, interleaved with its HVP in the HVP session
    (hvp,) = [r for r in rows if (r["version"], r["n"], r["op"], r["contender"]) == ("normalized", 48, "hvp",
                                                                                        "attnreg-numpy")]
    assert hvp["grad_same_session_s"] > 0  # a field of the HVP row; check_report saw no extra contender row
    assert lines[0].split(" | ")[7] == f"{hvp['median_s'] / hvp['grad_same_session_s']:.2f} |"
    for bad in (tmp_path / "missing.json", tmp_path / "bad.json"):
        (tmp_path / "bad.json").write_text("{}")
        proc = subprocess.run([*report_py, str(bad)], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_memory_only_run_reports_peaks_in_blocks_and_times_nothing(tmp_path):
    """``--memory-only``: one row per cell with the default block and the peak in MiB and in blocks; attnreg's
    loss+grad peak holds at least its logits' block and half-block scratch (n = 1024: 256-row blocks on a 512 KiB
    L2), at most 4 blocks, below one n × n array, which the whole floor allocates."""
    import attnreg._threads as threads

    out = tmp_path / "mem.json"
    proc = run_bench("--memory-only", "--n", "64,1024", "--d", "4", "--dtype", "float64", "--threads", "1",
                     "--contenders", "attnreg-numpy,floor", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    rows = [row for run in report["runs"] for row in run["results"]]
    assert report["memory_only"] and len(rows) == 2 * 2 * 2 * 2
    for row in rows:
        assert "median_s" not in row and row["memory"] == "tracemalloc"
        assert row["block_rows"] == threads.block_rows(row["n"], 8)
        block = row["block_mib"] * 2**20
        assert block == row["block_rows"] * row["n"] * 8
        if row["contender"] == "attnreg-numpy" and row["op"] == "grad" and row["block_rows"] < row["n"]:
            peak = row["peak_mib"] * 2**20
            assert 1.5 * block <= peak <= 4 * block and peak < 8 * row["n"] ** 2
        if row["contender"] == "floor":
            assert row["peak_mib"] * 2**20 >= 8 * row["n"] ** 2
    assert "| 1 | float64 | 4 | 1024 |" in proc.stdout and "in blocks" in proc.stdout
    summary = subprocess.run([sys.executable, str(BENCH / "_report.py"), str(out), "--summary"], capture_output=True,
                             text=True)  # no timings to summarise: one sentence that says so (it was a KeyError)
    assert summary.returncode == 2 and "--memory-only run" in summary.stderr and summary.stderr.count("\n") == 1


def test_a_run_of_the_hvp_alone_has_its_summary_column(tmp_path):
    out = tmp_path / "hvp.json"
    proc = run_bench("--n", "48", "--d", "4", "--dtype", "float64", "--threads", "1", "--rounds", "3", "--op", "hvp",
                     "--version", "normalized", "--contenders", "floor,attnreg-numpy", "--no-memory",
                     "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    (row,) = [r for run in json.loads(out.read_text())["runs"] for r in run["results"]
              if r["contender"] == "attnreg-numpy"]
    summary = subprocess.run([sys.executable, str(BENCH / "_report.py"), str(out), "--summary"], capture_output=True,
                             text=True)
    (line,) = [x for x in summary.stdout.splitlines() if x.startswith("| 1, float64, 4, normalized | 48 |")]
    assert line.endswith(f"| — | — | — | — | — | {row['median_s'] / row['grad_same_session_s']:.2f} |"), line


@pytest.mark.slow
def test_tiny_run_with_every_contender(tmp_path):
    from _contenders import ALL, available

    names = [c for c in ALL if available(c)]
    out = tmp_path / "bench.json"
    proc = run_bench("--n", "64", "--d", "8", "--dtype", "float32", "--threads", "1,2", "--rounds", "3",
                     "--contenders", ",".join(names), "--omp-passive", "--json", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr
    rows = check_report(json.loads(out.read_text()), names, [64], [1, 2])
    assert {row["memory"] for row in rows if row["contender"] in ("torch-autograd", "jax-jit")} <= {"rss"}


@pytest.mark.parametrize("args, words", [
    (["--n", "0"], "--n must be integers from 2"),
    (["--n", "12x"], "--n must be comma-separated integers"),
    (["--d", "512"], "--d must be integers from 1 to 256"),
    (["--dtype", "float16"], "--dtype must be among"),
    (["--contenders", "numba"], "--contenders must be among"),
    (["--threads", "4096"], "--threads must be integers from 1"),
    (["--rounds", "1"], "--rounds must be from 3"),
    (["--json", "/nonexistent-folder/x.json"], "its folder does not exist"),
    (["--memory-only", "--no-memory"], "--memory-only and --no-memory exclude each other"),
])
def test_bad_input_is_one_sentence_and_exit_2(args, words, capsys):
    import run

    assert run.main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and words in err and len(err.strip().splitlines()) == 1


def test_bad_input_from_the_command_line():
    proc = run_bench("--n", "0")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "run.py: --n must be integers from 2 to 32768, got '0'"


def test_gpu_script_without_a_gpu_says_so_in_one_line(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    import gpu

    assert gpu.main([]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines() == ["gpu.py: no CUDA GPU here (torch.cuda.is_available() is False); "
                                        "nothing to measure"]


def test_gpu_script_smoke_on_cpu(capsys):
    """The device script's code path on the CPU: every contender runs and float64 agrees with NumPy."""
    pytest.importorskip("torch")
    import gpu

    assert gpu.main(["--device", "cpu", "--n", "96", "--d", "8", "--rounds", "1", "--no-compile", "--no-jax"]) == 0
    out = capsys.readouterr().out
    assert "| attnreg |" in out and "| torch-autograd |" in out and ": agrees" in out


def test_gpu_script_check_fails_when_nothing_was_compared(capsys, monkeypatch):
    """The float64 check against the CPU passes only on a computed attnreg float64 gradient: float32 alone,
    or attnreg failing on the device, is exit status 1 with NOT CHECKED, not "agrees"."""
    pytest.importorskip("torch")
    import _contenders
    import gpu

    small = ["--device", "cpu", "--n", "64", "--d", "4", "--rounds", "1", "--no-compile", "--no-jax"]
    assert gpu.main(small + ["--dtype", "float32"]) == 1
    assert "NOT CHECKED" in capsys.readouterr().out
    real = _contenders.build

    def broken(name, *args, **kwargs):
        run, gradient = real(name, *args, **kwargs)
        if name != "attnreg-torch":
            return run, gradient

        def fails():
            raise RuntimeError("CUDA out of memory (simulated)")
        return fails, gradient

    monkeypatch.setattr(_contenders, "build", broken)
    assert gpu.main(small + ["--dtype", "float64"]) == 1
    out = capsys.readouterr().out
    assert "| attnreg | failed: RuntimeError: CUDA out of memory (simulated)" in out and "NOT CHECKED" in out
    assert "| torch-autograd |" in out
    assert gpu.verdict({"attnreg-torch": 1e-16, "torch-autograd": 1e-3}, 1e-10)[0] == 1
    assert gpu.verdict({"attnreg-torch": 1e-16}, 1e-10)[0] == 0


@pytest.mark.slow
def test_gpu_script_smoke_on_cpu_with_compile_and_jax(capsys):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    import gpu

    assert gpu.main(["--device", "cpu", "--n", "64", "--d", "8", "--rounds", "1", "--version", "rescaled"]) == 0
    out = capsys.readouterr().out
    assert "| torch.compile(analytic) |" in out and "| jax.jit(value_and_grad) |" in out and ": agrees" in out
