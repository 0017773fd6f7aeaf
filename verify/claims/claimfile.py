r"""Claim files (TOML, ``[[claim]]`` tables) read strictly into :class:`Claim` records.

Every mistake is one :class:`ClaimError` sentence naming the file, the line (found by scanning the
text: ``tomllib`` keeps no positions), the claim id and the key. Keys::

    id          required, [a-z0-9-]+, unique      provenance  required: quoted | recalled | derived
    source      free text (optional)              form        required: vector | matrix
    quantity    required: u alpha f c h loss grad  kind        required: lipschitz | upper | lower
    version     normalized | rescaled (required for c, h, loss, grad; ignored for u, alpha, f)
    wrt         lipschitz only; vector: x | A, matrix: X | A1 | A2
    wrt_norm    spectral (default for A, A1, A2) | fro     loss_scale  half (default) | full
    assume      list of strings (see :mod:`.assume`)      constant    expression in n, d, R
    certificate a certificate spec (TOML path, relative to the claims file): see :mod:`.certified`
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from attnreg.statement import (
    FORMS, KINDS, LOSS_SCALES, NEEDS_VERSION, QUANTITIES, VERSIONS, WRT, WRT_NORMS, Statement, StatementError,
)

from .assume import AssumeError, parse_assumption
from .expr import Expr, ExprError, parse

KEYS = ("id", "source", "provenance", "form", "version", "quantity", "kind", "wrt", "wrt_norm", "loss_scale",
        "assume", "constant", "certificate")
REQUIRED = ("id", "provenance", "form", "quantity", "kind", "constant")
CHOICES = dict(provenance=("quoted", "recalled", "derived"), form=FORMS, version=VERSIONS, quantity=QUANTITIES,
               kind=KINDS, wrt_norm=WRT_NORMS, loss_scale=LOSS_SCALES)


class ClaimError(ValueError):
    """A malformed claim file; ``str()`` is the one line the CLI prints."""


@dataclass(frozen=True, kw_only=True)
class Claim(Statement):
    """A :class:`~attnreg.statement.Statement` read from a claims file, with its ``constant`` (an
    expression in n, d, R), where it comes from, and ``hypotheses``: ``assume`` parsed (:mod:`.assume`)."""
    id: str
    provenance: str
    constant: Expr
    source: str = ""
    hypotheses: tuple = ()  # the parsed ``assume``, one object per text
    file: str = ""
    certificate: str | None = None  # a certificate spec, relative to ``file``
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def statement(self) -> str:
        """The inequality in words, e.g. ``||f(x) − f(x')|| ≤ R/2 · ||x − x'||``."""
        q = {"loss": "L", "grad": "∇L"}.get(self.quantity, self.quantity)
        arg = "X" if self.form == "matrix" else "x"
        if self.kind == "lipschitz":
            p = self.wrt
            norm = "_2" if self.matrix_wrt and self.wrt_norm == "spectral" else ""
            k = self.constant.text
            k = f"({k})" if any(op in k.lstrip("-") for op in "+-") else k
            return f"||{q}({p}) − {q}({p}')|| ≤ {k} · ||{p} − {p}'||{norm}"
        scalar = self.quantity in ("alpha", "loss")
        lhs = (f"{q}_j({arg}) for every row j" if self.quantity == "alpha" and self.form == "matrix" else
               f"{q}({arg})" if scalar else f"||{q}({arg})||")
        return f"{lhs} {'≤' if self.kind == 'upper' else '≥'} {self.constant.text}"


def load(paths) -> list[Claim]:
    """Claims of several files, ids unique across them."""
    claims, seen = [], {}
    for path in paths:
        for claim in load_file(path):
            if claim.id in seen:
                raise ClaimError(f"{path}: claim {claim.id!r}: the id is also used in {seen[claim.id]}")
            seen[claim.id] = path
            claims.append(claim)
    return claims


def load_file(path) -> list[Claim]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimError(f"{path}: cannot read the file ({exc.__class__.__name__}: {exc})") from None
    return loads(text, str(path))


def loads(text: str, filename: str = "<claims>") -> list[Claim]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimError(f"{filename}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ClaimError(f"{filename}: invalid TOML: arrays or tables nested too deeply") from None
    extra = sorted(set(data) - {"claim"})
    if extra:
        raise ClaimError(f"{filename}: unknown top-level key {extra[0]!r}; claims are [[claim]] tables")
    tables = data.get("claim")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise ClaimError(f"{filename}: no [[claim]] tables found")
    lines = _Lines(text)
    claims, ids = [], set()
    for index, table in enumerate(tables):
        claim = from_table(table, filename, lines.locator(index))
        if claim.id in ids:
            raise ClaimError(f"{filename}:{lines.locator(index)('id')}: claim {claim.id!r}, key 'id': duplicate id")
        ids.add(claim.id)
        claims.append(claim)
    return claims


def from_table(table: dict, filename: str = "<claims>", line_of=lambda key, text=None: None) -> Claim:
    """One claim from its TOML table; ``line_of(key, text)`` gives line numbers for messages."""
    cid = table.get("id") if isinstance(table.get("id"), str) else None

    def fail(key, message, text=None):
        line = line_of(key, text) if key else line_of(None)
        where = f"{filename}:{line}" if line else filename
        who = f"claim {cid!r}" if cid else "claim (no valid id)"
        raise ClaimError(f"{where}: {who}" + (f", key {key!r}" if key else "") + f": {message}")

    for key in table:
        if key not in KEYS:
            fail(key, f"unknown key (allowed: {', '.join(KEYS)})")
    for key in REQUIRED:
        if key not in table:
            fail(None, f"missing required key {key!r}")
    for key, value in table.items():
        if key in ("assume", "constant"):
            continue
        if not isinstance(value, str):
            fail(key, f"must be a string, got {type(value).__name__} {value!r}")
        if key in CHOICES and value not in CHOICES[key]:
            fail(key, f"{value!r} is not one of {', '.join(CHOICES[key])}")
    if not re.fullmatch(r"[a-z0-9-]+", table["id"]):
        fail("id", f"{table['id']!r} must match [a-z0-9-]+")
    form, quantity, kind = table["form"], table["quantity"], table["kind"]
    version = table.get("version")
    if quantity in NEEDS_VERSION and version is None:
        fail(None, f"missing required key 'version' (needed for quantity {quantity!r})")
    wrt = table.get("wrt")
    if wrt is not None and wrt not in WRT[form]:
        fail("wrt", f"{wrt!r} is not one of {', '.join(WRT[form])} (the {form} form)")
    if kind == "lipschitz" and wrt is None:
        fail(None, "missing required key 'wrt' (needed for kind 'lipschitz')")
    wrt = wrt if kind == "lipschitz" else None  # upper/lower bounds have no wrt; a stray one is inert
    wrt_norm = table.get("wrt_norm") if wrt is not None else None
    if wrt in ("x", "X"):
        if wrt_norm == "spectral":
            fail("wrt_norm", f"{wrt} is measured in the ℓ2/Frobenius norm; wrt_norm 'spectral' applies to A, A1, A2")
        wrt_norm = "fro"
    elif wrt is not None:
        wrt_norm = wrt_norm or "spectral"
    assume = table.get("assume", [])
    if not isinstance(assume, list):
        fail("assume", f"must be a list of strings, got {type(assume).__name__}")
    parsed = []
    for item in assume:
        try:
            parsed.append(parse_assumption(item, form))
        except AssumeError as exc:
            fail("assume", str(exc), item if isinstance(item, str) else None)
    try:
        constant = parse(table["constant"])
    except ExprError as exc:
        fail("constant", str(exc))
    version = version if quantity in NEEDS_VERSION else None  # u, alpha, f do not depend on it: a stray one is inert
    try:
        return Claim(id=table["id"], provenance=table["provenance"], form=form, quantity=quantity, kind=kind,
                     constant=constant, source=table.get("source", ""), version=version, wrt=wrt, wrt_norm=wrt_norm,
                     loss_scale=table.get("loss_scale", "half"), assume=tuple(a.text for a in parsed),
                     hypotheses=tuple(parsed), file=filename, certificate=table.get("certificate"), raw=dict(table))
    except StatementError as exc:  # the checks above should leave nothing for the record's own validation
        fail(None, str(exc))


class _Lines:
    """Line numbers of keys inside the k-th ``[[claim]]`` table, by scanning the text."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.starts = [i for i, s in enumerate(self.lines) if re.match(r"\s*\[\[\s*claim\s*\]\]", s)]

    def locator(self, index: int):
        if index >= len(self.starts):  # e.g. an inline array of tables: no headers to count
            return lambda key, text=None: None
        lo = self.starts[index]
        hi = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines)

        def line_of(key, text=None):
            span = range(lo, hi)
            if text is not None:
                found = [i for i in span if text in self.lines[i]]
                if found:
                    return found[0] + 1
            if key:
                pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
                found = [i for i in span if pattern.match(self.lines[i])]
                if found:
                    return found[0] + 1
            return lo + 1

        return line_of
