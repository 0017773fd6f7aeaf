"""Render results: a terminal table (rich), JSON and Markdown. No mathematics here."""
from __future__ import annotations

import json
import math
import platform
import sys
from datetime import datetime, timezone

import mpmath
import numpy
from rich.markup import escape

from .registry import Check, Result, Status
from .text import cell, number


def header(seed: int, tiers) -> dict:
    import sympy  # deferred: sympy, only for its version in the header

    return dict(created=datetime.now(timezone.utc).isoformat(timespec="seconds"), seed=seed, tiers=list(tiers),
                python=sys.version.split()[0], platform=platform.platform(), numpy=numpy.__version__,
                mpmath=mpmath.__version__, sympy=sympy.__version__)


def outcome(r: Result) -> str:
    """``confirmed``, ``FAIL``, ``FAIL (refuted)``, ``ERROR``, ``skip``."""
    if r.status is Status.PASS:
        return r.evidence or "pass"
    if r.status is Status.FAIL:
        return "FAIL (refuted)" if r.evidence == "refuted" else "FAIL"
    return r.status.value.upper() if r.status is Status.ERROR else "skip"


STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.ERROR: "bold red", Status.SKIP: "yellow"}


def render_text(results: list[Result], checks: dict[str, Check], console, *, verbose: bool = False) -> None:
    """One line per check (result, name, measured / bound, seconds), then the summary.

    Lines are never wrapped or cut (``soft_wrap``), so a pipe gets them whole; ``verbose`` adds, under each
    line, what the check verified and how."""
    name_w = max((len(r.check) for r in results), default=0)
    word_w = max((len(outcome(r)) for r in results), default=0)
    for r in results:
        figures = f"{number(r.measured, '.3g', '')} / {number(r.bound, '.3g', '')}" if r.measured is not None else ""
        console.print(f"[{STYLE[r.status]}]{outcome(r):<{word_w}}[/]  {escape(r.check):<{name_w}}  "
                      f"{figures:>21}  {r.seconds:6.1f} s", highlight=False, soft_wrap=True)
        if verbose:
            console.print(f"    verified: {escape(checks[r.check].claim)}", highlight=False, soft_wrap=True)
            if r.detail:
                console.print(f"    how: {escape(r.detail)}", highlight=False, soft_wrap=True, style="dim")
    console.print(summary(results), highlight=False, soft_wrap=True)


def summary(results: list[Result]) -> str:
    counts = {s: sum(r.status is s for r in results) for s in Status}
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    return f"{len(results)} checks: " + ", ".join(parts)


def _finite(x):
    """Strict JSON has no inf or nan: they become the strings "inf", "-inf", "nan"."""
    return x if x is None or math.isfinite(x) else str(x)


def to_json(results: list[Result], checks: dict[str, Check], meta: dict) -> str:
    rows = [dict(r.as_dict(), claim=checks[r.check].claim, lemma=checks[r.check].lemma) for r in results]
    for row in rows:
        row["measured"], row["bound"] = _finite(row["measured"]), _finite(row["bound"])
    return json.dumps(dict(meta=meta, summary=summary(results), results=rows), indent=2, allow_nan=False) + "\n"


def to_markdown(results: list[Result], checks: dict[str, Check], meta: dict) -> str:
    lines = ["# attnreg verify report", "",
             " · ".join(f"{k}: {v}" for k, v in meta.items()), "", f"**{summary(results)}**", "",
             "| check | result | what it verified | how | measured | bound | s |",
             "|---|---|---|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| `{r.check}` | {outcome(r)} | {cell(checks[r.check].claim)} | {cell(r.detail)} | "
                     f"{number(r.measured, '.3g', '')} | {number(r.bound, '.3g', '')} | {r.seconds:.1f} |")
    lines += ["", "Evidence words (docs/design.md §4): *proved* — derivation steps, each an exact sympy identity or a "
              "named inequality; *certified* — arb enclosure; *confirmed* — a ≥ 50-digit evaluation agrees (for "
              "float code: within a tolerance with a stated reason); *survived* — adversarial search found no "
              "violation; *refuted* — counterexample confirmed at ≥ 50 digits.", ""]
    return "\n".join(lines)
