"""Text for reports, written once: a number to a few significant digits (or a mark where there is none),
and any text made safe for one cell of a Markdown table."""
from __future__ import annotations

import math


def number(x, spec: str = ".4g", missing: str = "–", nonfinite: str | None = None) -> str:
    """``x`` formatted with ``spec``; ``missing`` for None, ``nonfinite`` (when given) for inf / NaN."""
    if x is None:
        return missing
    if nonfinite is not None and not math.isfinite(x):
        return nonfinite
    return format(x, spec)


def cell(s) -> str:
    """``str(s)`` for a Markdown table cell: ``|`` escaped, line breaks as spaces."""
    return str(s).replace("|", "\\|").replace("\n", " ")
