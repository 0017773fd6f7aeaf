"""Render results: a terminal table (rich), JSON and Markdown. No mathematics here."""
from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone

from .registry import Check, Result, Status


def header(seed: int, tiers) -> dict:
    import mpmath
    import numpy
    import sympy

    return dict(created=datetime.now(timezone.utc).isoformat(timespec="seconds"), seed=seed, tiers=list(tiers),
                python=sys.version.split()[0], platform=platform.platform(), numpy=numpy.__version__,
                mpmath=mpmath.__version__, sympy=sympy.__version__)


def _fmt(x) -> str:
    return "" if x is None else f"{x:.3g}"


def outcome(r: Result) -> str:
    """``confirmed``, ``FAIL``, ``FAIL (refuted)``, ``ERROR``, ``skip``."""
    if r.status is Status.PASS:
        return r.evidence or "pass"
    if r.status is Status.FAIL:
        return "FAIL (refuted)" if r.evidence == "refuted" else "FAIL"
    return r.status.value.upper() if r.status is Status.ERROR else "skip"


def render_table(results: list[Result], checks: dict[str, Check], console) -> None:
    from rich.table import Table

    table = Table(title="attnreg verify", show_lines=False, expand=True)
    table.add_column("check", overflow="fold", ratio=3)
    table.add_column("result", no_wrap=True)
    table.add_column("what it verified, and how", overflow="fold", ratio=6)
    table.add_column("measured / bound", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    style = {Status.PASS: "green", Status.FAIL: "bold red", Status.ERROR: "bold red", Status.SKIP: "yellow"}
    for r in results:
        what = checks[r.check].claim + (f"\n[dim]{r.detail}[/dim]" if r.detail else "")
        table.add_row(r.check, f"[{style[r.status]}]{outcome(r)}[/]", what,
                      f"{_fmt(r.measured)} / {_fmt(r.bound)}" if r.measured is not None else "", f"{r.seconds:.1f}")
    console.print(table)
    console.print(summary(results))


def summary(results: list[Result]) -> str:
    counts = {s: sum(r.status is s for r in results) for s in Status}
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    return f"{len(results)} checks: " + ", ".join(parts)


def to_json(results: list[Result], checks: dict[str, Check], meta: dict) -> str:
    rows = [dict(r.as_dict(), claim=checks[r.check].claim, lemma=checks[r.check].lemma) for r in results]
    return json.dumps(dict(meta=meta, summary=summary(results), results=rows), indent=2) + "\n"


def to_markdown(results: list[Result], checks: dict[str, Check], meta: dict) -> str:
    lines = ["# attnreg verify report", "",
             " · ".join(f"{k}: {v}" for k, v in meta.items()), "", f"**{summary(results)}**", "",
             "| check | result | what it verified | how | measured | bound | s |",
             "|---|---|---|---|---:|---:|---:|"]
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    for r in results:
        lines.append(f"| `{r.check}` | {outcome(r)} | {esc(checks[r.check].claim)} | {esc(r.detail)} | "
                     f"{_fmt(r.measured)} | {_fmt(r.bound)} | {r.seconds:.1f} |")
    lines += ["", "Evidence words (DESIGN §4): *proved* — derivation steps, each an exact sympy identity or a "
              "named inequality; *certified* — arb enclosure; *confirmed* — agreement at ≥ 50 digits or within a "
              "tolerance with a stated reason; *survived* — adversarial search found no violation; *refuted* — "
              "counterexample confirmed at ≥ 50 digits.", ""]
    return "\n".join(lines)
