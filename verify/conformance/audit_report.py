"""``attnreg audit``: run the sweep of :mod:`.audit` and write report.md, report.json and PNG plots into a folder."""
from __future__ import annotations

import importlib.util
import io
import json
import math
import sys
import warnings
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from attnreg._io import atomic_write_bytes, atomic_write_text
from attnreg.cli import UsageError, check_folder
from attnreg.cli.check_impl_cmd import check_seed, load_target

from ..text import number
from . import audit, dtypes, target

VERSIONS = ("normalized", "rescaled")
COLORS = {"float64": "tab:blue", "float32": "tab:orange", "float16": "tab:green", "bfloat16": "tab:red"}


def available_dtypes() -> list[str]:
    low = [d for d in ("float16", "bfloat16") if d == "float16" or importlib.util.find_spec("torch")
           or importlib.util.find_spec("ml_dtypes")]
    return ["float64", "float32", *low]


def _err(e):
    return number(e, ".1e", "—", nonfinite="inf/NaN")


FAILED = ("raised", "shape", "unreadable", "mutated")  # called, but no value to measure


def summary(points, version, dt):
    """Onset of non-finite results where the truth is representable; the largest scale within the bound;
    the calls that raised (or returned nothing readable), counted and shown, never read as clean points.

    ``largest_representable`` is a property of the true values, so it is taken over every point, called
    or not; the measured claims (``within_bound_up_to``, ``outside_bound``) come from the points that
    returned a value, and ``within_bound_up_to`` stops below the first failed call."""
    every = [p for p in points if p["version"] == version and p["dtype"] == dt]
    mine = [p for p in every if p["status"] == "ok"]
    failed = [p for p in every if p["status"] in FAILED]
    failed_from = min((p["scale"] for p in failed), default=None)
    bad = [p for p in mine if any(p["representable"][q] and p["state"][q] not in ("finite", None, "underflow")
                                  for q in p["error"])]
    under = [p for p in mine if "underflow" in p["state"].values() and any(p["representable"].values())]
    ok_scales = [p["scale"] for p in mine if any(v is not None for v in p["within_bound"].values())
                 and all(v is not False for v in p["within_bound"].values())
                 and (failed_from is None or p["scale"] < failed_from)]
    repr_scales = [p["scale"] for p in every if all(p["representable"].values())]
    return {"nonfinite_from": min((p["scale"] for p in bad), default=None),
            "underflow_from": min((p["scale"] for p in under), default=None),
            "largest_representable": max(repr_scales, default=None),
            "within_bound_up_to": max(ok_scales, default=None),
            "outside_bound": [(p["n"], p["scale"]) for p in mine if False in p["within_bound"].values()],
            "measured": len(mine), "failed_calls": len(failed), "failed_from": failed_from,
            "first_failure": min(failed, key=lambda p: p["scale"])["message"] if failed else None}


def _save(fig, path: Path) -> None:
    """The figure as PNG at ``path``, written atomically like report.md and report.json; the figure is closed."""
    import matplotlib.pyplot as plt  # deferred: matplotlib, only for the figures (the backend is set by plots)

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110)
    finally:
        plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def plots(points, soft, out: Path, title: str) -> list[Path]:
    import matplotlib  # deferred: matplotlib, only for the figures

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: matplotlib, only for the figures

    files = []
    for version in [v for v in VERSIONS if any(p["version"] == v for p in points)]:
        for q, name in (("loss", "loss"), ("grad", "gradient")):
            if not any(p["version"] == version and p["status"] == "ok" and q in p["error"] for p in points):
                continue
            fig, ax = plt.subplots(figsize=(7, 5.2))
            for dt in COLORS:
                for n, style in zip(audit.SIZES, ("--", "-")):
                    pts = [p for p in points if p["version"] == version and p["dtype"] == dt and p["n"] == n
                           and p["status"] == "ok" and q in p["error"]]
                    if not pts:
                        continue
                    xs = [p["scale"] for p in pts]
                    ys = [p["error"][q] if math.isfinite(p["error"][q]) else float("nan") for p in pts]
                    ax.loglog(xs, [max(y, 1e-18) for y in ys], style, color=COLORS[dt], marker="o", ms=3,
                              label=f"{dt}, n={n}")
                    ax.loglog(xs, [p["bound"][q] for p in pts], ":", color=COLORS[dt], lw=1)
                    nf = [p["scale"] for p in pts if not math.isfinite(p["error"][q]) and p["representable"][q]]
                    if nf:
                        ax.plot(nf, [1.0] * len(nf), "x", color=COLORS[dt], ms=8)
            ax.set_xlabel("max |S| (logit scale)")
            ax.set_ylabel(f"relative error of the {name}")
            ax.set_title(f"{title}: {version} {name} (dotted: a-priori bound; x: NaN/inf where finite)", fontsize=9)
            ax.set_ylim(1e-18, 1e2)
            ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.14))
            path = out / f"{version}_{q}.png"
            fig.tight_layout()
            _save(fig, path)
            files.append(path)
    if soft:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for dt, rows in soft.items():
            xs = [r["scale"] for r in rows if r.get("measured") is not None]
            ax.loglog(xs, [max(r["measured"], 1e-18) if math.isfinite(r["measured"]) else float("nan")
                           for r in rows if r.get("measured") is not None], "-o", ms=3, color=COLORS[dt], label=dt)
            ax.loglog(xs, [r["bound"] for r in rows if r.get("measured") is not None], ":", color=COLORS[dt])
        ax.set_xlabel("max |s| (logit scale)")
        ax.set_ylabel("max |ĝ − g| / max g")
        ax.set_title("softmax step, production path (dotted: Blanchard–Higham–Higham leading-order bound)", fontsize=9)
        ax.legend(fontsize=7)
        path = out / "softmax.png"
        fig.tight_layout()
        _save(fig, path)
        files.append(path)
    return files


def markdown(points, soft, meta) -> str:
    late = incomplete(points)
    lines = [f"# attnreg audit: {meta['target']}", "", *([f"**Incomplete:** {late}.", ""] if late else []),
             f"Backend {meta['backend']}; float16/bfloat16 arithmetic through {meta['low_precision']}. Errors are "
             "relative to a high-precision gold; 'bound' is the a-priori first-order bound "
             "(attnreg/verify/errormodel.py) times its factor in the tolerance table.", ""]
    for version in [v for v in VERSIONS if any(p["version"] == v for p in points)]:
        lines += [f"## {version}", "", "| dtype | NaN/inf from max|S| | underflow from | largest representable | "
                  "within bound up to | outside the bound (n, max|S|) | calls that raised or returned no number |",
                  "|---|---|---|---|---|---|---|"]
        for dt in meta["dtypes"]:
            s = summary(points, version, dt)
            failed = f"{s['failed_calls']}, from max|S| = {s['failed_from']:g}" if s["failed_calls"] else "none"
            outside = ", ".join(f"({n}, {sc:g})" for n, sc in s["outside_bound"]) \
                or (f"none of the {s['measured']} measured" if s["failed_calls"] else "none")
            lines.append(f"| {dt} | {s['nonfinite_from'] or '—'} | {s['underflow_from'] or '—'} | "
                         f"{s['largest_representable'] or '—'} | {s['within_bound_up_to'] or '—'} | {outside} | "
                         f"{failed} |")
        lines += ["", "| dtype | n | max|S| | loss err | grad err | digits lost (loss/grad) | state "
                  "| bound (loss/grad) |",
                  "|---|---|---|---|---|---|---|---|"]
        for p in points:
            if p["version"] != version:
                continue
            if p["status"] != "ok":
                said = " ".join(p["message"].split()).replace("|", "\\|")
                lines.append(f"| {p['dtype']} | {p['n']} | {p['scale']:g} | {p['status']}: {said} | | | | |")
                continue
            dl = "/".join("—" if v is None else f"{v:.1f}" for v in p["digits_lost"].values())
            lines.append(f"| {p['dtype']} | {p['n']} | {p['scale']:g} | {_err(p['error']['loss'])} | "
                         f"{_err(p['error'].get('grad'))} | {dl} | {'/'.join(str(v) for v in p['state'].values())} | "
                         f"{_err(p['bound']['loss'])}/{_err(p['bound']['grad'])} |")
        lines.append("")
    if soft:
        lines += ["## softmax step (production path)", "", "| dtype | max|s| | measured | BHH bound | within |",
                  "|---|---|---|---|---|"]
        for dt, rows in soft.items():
            for r in rows:
                if r.get("measured") is not None:
                    lines.append(f"| {dt} | {r['scale']:g} | {_err(r['measured'])} | {r['bound']:.1e} | "
                                 f"{'yes' if r['measured'] <= r['bound'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(args) -> int:
    check_seed(args.seed, args.timeout)
    warnings.simplefilter("ignore")  # overflow warnings of the code under audit are measured, not printed
    check_folder("--out", args.out, create=True)
    out = Path(args.out).absolute()  # before the target runs: an os.chdir inside it must not move the report
    if args.form != "matrix":
        raise UsageError("attnreg audit sweeps the matrix form; --form vector is not supported yet")
    fn = load_target(args.target) if args.target else None
    fn_for = (lambda version, dt: fn) if fn else audit.production
    names = available_dtypes()
    try:  # a backend or device the libraries lack is a usage error, before any work
        for dt in names:
            target.converter(audit.backend_for(dt, args.backend, fn is None), dt, args.device)
    except target.TargetError as exc:
        raise UsageError(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    total = len(VERSIONS) * len(audit.SIZES) * len(audit.SCALES) * len(names)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("audit", total=total)
        points = []
        for version in (args.version,) if args.target else VERSIONS:
            points += audit.sweep(fn_for, version, names, backend=args.backend, device=args.device,
                                  production=fn is None, timeout=args.timeout or None,
                                  progress=lambda p: progress.update(task, advance=1,
                                                                     description=f"{p['version']} {p['dtype']}"))
    soft = None if fn else {dt: [{"scale": s, **audit.softmax_point(8, s, dt)} for s in audit.SCALES] for dt in names}
    meta = {"target": args.target or "attnreg production path", "backend": args.backend, "dtypes": names,
            "low_precision": dtypes.provider("float16")}
    pngs = plots(points, soft, out, meta["target"])
    atomic_write_text(out / "report.md", markdown(points, soft, meta))
    atomic_write_text(out / "report.json", json.dumps({**meta, "points": points, "softmax": soft,
                                                       "summary": {v: {dt: summary(points, v, dt) for dt in names}
                                                                   for v in VERSIONS
                                                                   if any(p["version"] == v for p in points)}},
                                                      indent=1, default=str) + "\n")
    print(f"wrote {out / 'report.md'} and {out / 'report.json'}")
    print("plots: " + ", ".join(str(p) for p in pngs))
    late, failed = incomplete(points), failures(points)
    if late:  # the sweep stopped calling TARGET: an incomplete audit is not a pass
        print(f"audit incomplete: {late}" + (f"; and {failed}" if failed else ""), file=sys.stderr)
    elif failed:  # points without a measurement: not "every point was measured"
        print(f"audit: {failed}", file=sys.stderr)
    return 1 if late or failed else 0


def failures(points) -> str:
    """A sentence counting the calls that raised or returned no number, naming the first, or ""."""
    failed = [p for p in points if p["status"] in FAILED]
    if not failed:
        return ""
    p = failed[0]
    where = f"n = {p['n']}, max|S| = {p['scale']:g}, {p['dtype']} ({p['version']})"
    return (f"{len(failed)} of {len(points)} calls raised or returned no number (first at {where}: "
            f"{' '.join(p['message'].split())[:300]}); those points are not measured")


def incomplete(points) -> str:
    """A sentence naming the first point whose call ran past the time limit (later points were not called), or ""."""
    for p in points:
        if p["status"] == "timeout" and not p["message"].startswith("not called"):
            where = f"n = {p['n']}, max|S| = {p['scale']:g}, {p['dtype']} ({p['version']})"
            return f"the call at {where}: {p['message']}; the later points were not called"
    return ""
