"""Render a benchmarks/run.py report as Markdown: the machine, then one table per setting."""
from __future__ import annotations

from itertools import groupby

OP_LABEL = {"grad": "loss+grad", "hvp": "HVP"}


def _num(x, fmt):
    return "—" if x is None else format(x, fmt)


def header(report) -> list[str]:
    m = report["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores; {m['platform']}; Python {m['python']}, NumPy {m['numpy']}"]
    pools = m.get("threadpools")
    if isinstance(pools, list):
        for p in pools:
            lines.append(f"threadpool: {p['internal_api']} {p['version']} ({p['prefix']}), kernel "
                         f"{p['architecture']}, {p['num_threads']} thread(s), {p['threading_layer']}")
    else:
        lines.append(f"threadpool: {pools}")
    if "fused_kernels" in m:
        lines.append(f"attnreg's float64 row kernels: {m['fused_kernels']}")
    if "torch" in m:
        t = m["torch"]
        lines.append(f"torch {t['version']} (BLAS {t['blas']}), {t['threads']} thread(s)")
    if "jax" in m:
        j = m["jax"]
        lines.append(f"jax {j['version']} on {j['backend']}" + (f", XLA_FLAGS={j['xla_flags']}" if j["xla_flags"]
                                                              else ""))
    env = report["openblas_env"]
    set_ = {k: v for k, v in env["before"].items() if v is not None}
    lines.append("OpenBLAS env: " + (", ".join(f"{k}={v}" for k, v in set_.items()) + (
        " (removed for the benchmark workers)" if env["removed_for_workers"] else " (kept)") if set_ else "none set"))
    lines.append("thread counts run: " + ", ".join(str(r["threads"]) for r in report["runs"])
                 + " (each worker pinned to that many cores; BLAS, torch and XLA told the same)")
    load = m.get("load_average")
    lines.append(f"load average at start: {', '.join(f'{x:.1f}' for x in load) if load else 'unknown'}; "
                 f"first touch of fresh memory {m.get('first_touch_ms_per_mib', float('nan')):.2f} ms/MiB; "
                 f"OMP_WAIT_POLICY {report.get('omp_wait_policy', '?')}")
    lines.append(f"gradient arbiter: {report['arbiter']}")
    skipped = sorted({c for r in report["runs"] for c in r["skipped"]})
    if skipped:
        lines.append("not installed, skipped: " + ", ".join(skipped))
    return lines


def render(report, *, ratios_only=False) -> str:
    lines = header(report) + [""]
    rows = [r for run in report["runs"] for r in run["results"]]
    if report.get("memory_only"):
        return "\n".join(lines + _memory_table(rows) + [f"total {report['seconds']} s"])
    key = lambda r: (r["threads"], r["dtype"], r["d"], r["version"], r["op"])  # noqa: E731
    for (threads, dtype, d, version, op), group in groupby(sorted(rows, key=key), key=key):
        lines.append(f"### {threads} thread(s), {dtype}, d = {d}, {version}, {OP_LABEL[op]}")
        lines.append("")
        cols = ["n", "contender"] + ([] if ratios_only else ["median ms"]) + [
            "× floor", "× attnreg", "peak extra MiB", "grad rel. error"]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in sorted(group, key=lambda r: r["n"]):
            how = "tm" if r["memory"] == "tracemalloc" else "rss"
            mem = "—" if r["peak_mib"] is None else f"{r['peak_mib']:.0f} ({how})"
            cells = [str(r["n"]), r["contender"]] + ([] if ratios_only else [f"{r['median_s'] * 1e3:.1f}"]) + [
                _num(r["x_floor"], ".2f"), _num(r["x_attnreg"], ".2f"), mem, _num(r["grad_rel_error"], ".1e")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("peak extra MiB: (tm) tracemalloc in process, (rss) peak RSS in a child process; "
                 f"total {report['seconds']} s")
    return "\n".join(lines)


def _memory_table(rows) -> list[str]:
    """``--memory-only``: peak extra memory in MiB and in block-sized arrays (the default block at that n)."""
    cols = ["threads", "dtype", "d", "n", "block (rows, MiB)", "version", "op", "contender", "peak extra MiB",
            "in blocks"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    key = lambda r: (r["threads"], r["dtype"], r["d"], r["n"], r["version"], r["op"])  # noqa: E731
    for r in sorted(rows, key=key):
        mib = r["peak_mib"]
        how = "" if mib is None else " (tm)" if r["memory"] == "tracemalloc" else " (rss)"
        cells = [str(r["threads"]), r["dtype"], str(r["d"]), str(r["n"]), f"{r['block_rows']}, {r['block_mib']:.1f}",
                 r["version"], OP_LABEL[r["op"]], r["contender"], _num(mib, ".1f") + how,
                 _num(None if mib is None else mib / r["block_mib"], ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + ["", "peak extra MiB: (tm) tracemalloc in process, (rss) peak RSS in a child process"]


class NoTimings(ValueError):
    """A report without the timings a summary is made of."""


def summary(report) -> str:
    """One line per (threads, dtype, d, version, n) with attnreg's loss+grad or HVP timed: attnreg's loss+grad on
    NumPy in ms, then the performance issue's lines as ratios (÷ floor; jax.jit, torch autograd and attnreg on torch
    as multiples of attnreg; hvp ÷ loss+grad, both timed interleaved in the HVP session where the report has it);
    "—" where a contender did not run. A --memory-only report raises :class:`NoTimings`."""
    if report.get("memory_only"):
        raise NoTimings("it is a --memory-only run: it has no timings to summarise (without --summary it prints its "
                        "memory table)")
    lines = ["| threads, dtype, d, version | n | attnreg (ms) | attnreg ÷ floor | jax.jit | torch autograd | "
             "attnreg on torch | hvp ÷ loss+grad |", "|---|---|---|---|---|---|---|---|"]
    cells = {(r["threads"], r["dtype"], r["d"], r["version"], r["op"], r["n"], r["contender"]): r["median_s"]
             for run in report["runs"] for r in run["results"]}
    # hvp ÷ loss+grad: from the HVP session, where attnreg's loss+grad was timed interleaved with its HVP (reports
    # written before that field existed: the two sessions' medians)
    same = {(r["threads"], r["dtype"], r["d"], r["version"], r["n"]): r["median_s"] / r["grad_same_session_s"]
            for run in report["runs"] for r in run["results"] if r.get("grad_same_session_s")}
    settings = sorted({k[:4] + (k[5],) for k in cells if k[4] == "grad" and k[6] == "attnreg-numpy"} | set(same))
    for threads, dtype, d, version, n in settings:
        t = lambda c, op="grad": cells.get((threads, dtype, d, version, op, n, c))  # noqa: E731
        a = t("attnreg-numpy")  # None in a run of the HVP alone: only its column is filled
        ratio = lambda x, y: _num(None if x is None or y is None else x / y, ".2f")  # noqa: E731
        key = (threads, dtype, d, version, n)
        hvp = _num(same[key], ".2f") if key in same else ratio(t("attnreg-numpy", "hvp"), a)
        lines.append(f"| {threads}, {dtype}, {d}, {version} | {n} | {_num(a and a * 1e3, '.1f')} | "
                     f"{ratio(a, t('floor'))} | "
                     f"{ratio(t('jax-jit'), a)} | {ratio(t('torch-autograd'), a)} | {ratio(t('attnreg-torch'), a)} | "
                     f"{hvp} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Re-render a saved report: ``python benchmarks/_report.py OUT.json [--ratios-only | --summary]``."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Re-render a report saved by benchmarks/run.py --json.")
    ap.add_argument("report", help="the JSON file written by benchmarks/run.py --json")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--ratios-only", action="store_true", help="the tables without the times in ms")
    how.add_argument("--summary", action="store_true",
                     help="one line per loss+grad cell with the ratios of the performance issue's lines")
    args = ap.parse_args(argv)
    try:
        with open(args.report) as fh:
            report = json.load(fh)
        print(summary(report) if args.summary else render(report, ratios_only=args.ratios_only))
    except NoTimings as e:
        ap.exit(2, f"_report.py: error: {args.report}: {e}\n")
    except (OSError, ValueError, KeyError, TypeError) as e:
        ap.exit(2, f"_report.py: error: {args.report} is not a readable benchmarks/run.py report ({e!r})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
