r"""The tightness report (Markdown) and the plot of slack against R (PNG, Agg canvas, no global state).

Per claim: the lower bound the search found on the claimed supremum (for ``lower`` claims: the
smallest value found, an upper bound on the infimum), the proved upper bound of a covering lemma (if
any) at the same parameters, the claimed constant, and both slack ratios: claimed/found (≥ 1 unless
refuted) and proved/found (how tight the derivation is).
"""
from __future__ import annotations

import io
import math
from datetime import datetime, timezone
from pathlib import Path

from attnreg._io import atomic_write_bytes, atomic_write_text, own_stream

from ..text import cell, number


def proved_value(outcome):
    """The covering lemma's constant at the worst parameters, as a float (None without a lemma)."""
    d = outcome.decision
    if d is None or d.status != "proved" or outcome.worst is None:
        return None
    import sympy  # deferred: sympy, only for a proved constant

    p = outcome.worst["params"]
    subs = {sympy.Symbol(k, positive=True): v for k, v in p.items()}
    return float(sympy.N(d.constant.subs(subs)))


def to_markdown(outcomes, meta: dict, plot_name: str | None) -> str:
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines = ["# attnreg claims: tightness report", "",
             " · ".join(f"{k}: {v}" for k, v in meta.items()), "",
             f"**{len(outcomes)} claims: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + "**", "",
             "| claim | provenance | statement | status | found (where) | proved bound | claimed | "
             "claimed/found | proved/found |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        c, w = o.claim, o.worst
        found = proved = claimed = s1 = s2 = None
        where = ""
        if w:
            found, claimed, s1 = w["observed"], w["constant"], w["slack"]
            where = " (" + ", ".join(f"{k}={v:g}" for k, v in w["params"].items()) + ")"
            proved = proved_value(o)
            if proved is not None and found:
                s2 = found / proved if c.kind == "lower" else proved / found
        lines.append(f"| `{c.id}` | {c.provenance} | {cell(c.statement())} | {o.status} | {number(found)}{where} | "
                     f"{number(proved)} | {number(claimed)} | {number(s1)} | {number(s2)} |")
    lines += ["", "*found*: the largest ratio (lipschitz) or value (upper) the search found, a lower bound on the "
              "supremum; for lower claims the smallest value found. *claimed/found* < 1 means a violation "
              "(for lower claims the table shows found/claimed). *proved bound*: the constant of the covering "
              "derived lemma at the same parameters.", ""]
    if plot_name:
        lines += [f"![slack against R]({plot_name})", ""]
    lines += ["## Evidence", ""]
    for o in outcomes:
        c = o.claim
        lines += [f"### `{c.id}` — {o.status}", "",
                  f"- statement: {cell(c.statement())}; form {c.form}"
                  + (f", version {c.version}" if c.version else "") + "; assumptions: "
                  + (", ".join(f"`{a}`" for a in c.assume) or "none"),
                  f"- source: {cell(c.source) or '(none given)'} — provenance **{c.provenance}**"
                  + (f" (file {c.file})" if c.file else ""),
                  f"- evidence: {cell(o.evidence)}"]
        if o.counterexample:
            lines.append(f"- counterexample: `{o.counterexample}` (replay: `attnreg claims replay {o.counterexample}`)")
        lines.append("")
    return "\n".join(lines)


def plot_png(outcomes) -> bytes | None:
    """PNG bytes: log10 of the smallest slack over (n, d) against R, one line per claim; derived claims
    on the left, the others (recalled, quoted: slacks up to 1e300) on the right. None if nothing to plot."""
    groups = [[(o.claim.id, o.slack_by_R) for o in outcomes
               if o.slack_by_R and (o.claim.provenance == "derived") == left]
              for left in (True, False)]
    groups = [(g, title) for g, title in zip(groups, ("derived constants", "recalled / quoted constants")) if g]
    if not groups:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # deferred: matplotlib, only for the figure
    from matplotlib.figure import Figure  # deferred: matplotlib, only for the figure

    fig = Figure(figsize=(6 * len(groups), 5), dpi=100)
    FigureCanvasAgg(fig)
    for k, (series, title) in enumerate(groups):
        ax = fig.add_subplot(1, len(groups), k + 1)
        for i, (name, pts) in enumerate(series):  # log10 by hand: slacks span 1 … 1e300
            ax.plot([r for r, _ in pts], [math.log10(s) for _, s in pts], marker="os^vD"[i // 10 % 5], label=name)
        ax.axhline(0.0, color="k", linewidth=0.8, linestyle="--")
        ax.set_xlabel("R")
        ax.set_ylabel("log10(claimed / found), smallest over n, d")
        ax.set_title(f"{title}: slack against R (below 0: violated)", fontsize=9)
        ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write(path, outcomes, meta: dict) -> list[Path]:
    """Write the Markdown report and, beside it, ``<stem>.slack.png``; returns the paths written. A report sent to
    a stream or device (``/dev/stdout``, a pipe) has no plot: there is no folder of files beside it."""
    path = Path(path)
    stream = (path.exists() and not path.is_file()) or own_stream(path) is not None  # /dev/stdout > file
    png = None if stream else plot_png(outcomes)
    written = []
    plot_name = None
    if png is not None:
        real = path.resolve() if path.is_symlink() else path  # the plot beside the file the report lands in
        plot = real.with_name(real.stem + ".slack.png")
        atomic_write_bytes(plot, png)
        plot_name = plot.name
        written.append(plot)
    meta = dict(meta, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    atomic_write_text(path, to_markdown(outcomes, meta, plot_name))
    return [path, *written]
