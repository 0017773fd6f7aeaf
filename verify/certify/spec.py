r"""Certificate specs (TOML): what to certify, for which data, on which box. Read strictly.

Keys::

    quantity        "f" (spectral norm of the Jacobian of f) | "grad" (of the Hessian of the loss)
    form            "vector" (A n×d, b n) | "matrix" (A1, A2 n×d, B n×n; x = vec(X) row-major)
    version         "normalized" | "rescaled"      (required for "grad", refused for "f"; the loss carries the ½)
    A, b / A1, A2, B  nested arrays of decimal strings or numbers (b, B: required for "grad" only)
    center          x (d numbers) or X (d×d)       radius   ∞-norm radius of the box, > 0
    target          the constant to certify, ≥ 0: a number, or a product such as "1.01 * 0.5 * norm(A)" or
                    "3.25 * norm(A)^2" (norm = spectral norm; matrix form: norm(A1), norm(A2))
    budget_seconds  wall-clock budget of the branch-and-bound, > 0
    precision_bits  arb working precision (optional, default 128; 53..4096)
    max_boxes       optional cap on boxes evaluated (default 1000000): a budget that does not depend on speed
    refine_to       optional ratio >= 1: after the target is met, keep splitting until the bound is within
                    this factor of the best lower bound found (a sandwich), or the budget ends

Numbers are kept as the decimal text written in the file (TOML floats are read as decimals, never
rounded to binary), so the certificate states exactly the data it is about. Every mistake is one
:class:`SpecError` sentence naming the key.
"""
from __future__ import annotations

import ast
import decimal
import re
import tomllib
from dataclasses import dataclass

KEYS = ("quantity", "form", "version", "A", "b", "A1", "A2", "B", "center", "radius", "target", "budget_seconds",
        "precision_bits", "max_boxes", "refine_to")
DATA = {"vector": ("A", "b"), "matrix": ("A1", "A2", "B")}
MAX_N, MAX_P = 32, 16  # the branch-and-bound is exponential in p = d (vector) or d² (matrix)
MAX_TARGET = 200  # characters of a target product


class SpecError(ValueError):
    """A malformed spec; ``str()`` is the one line the CLI prints."""


@dataclass(frozen=True)
class Spec:
    quantity: str
    form: str
    version: str | None
    data: dict  # name -> nested tuples of decimal strings
    center: tuple  # p decimal strings (row-major for the matrix form)
    radius: str
    target: str  # a decimal, or a product of decimals and norm(...) factors
    budget_seconds: float
    precision_bits: int = 128
    max_boxes: int = 1_000_000
    refine_to: str | None = None

    @property
    def n(self) -> int:
        return len(self.data["A" if self.form == "vector" else "A1"])

    @property
    def d(self) -> int:
        return len(self.data["A" if self.form == "vector" else "A1"][0])

    @property
    def p(self) -> int:
        return self.d if self.form == "vector" else self.d ** 2

    def problem(self) -> dict:
        """The part a certificate states and the checker re-derives from (JSON-ready)."""
        return dict(quantity=self.quantity, form=self.form, version=self.version,
                    data={k: _lists(v) for k, v in self.data.items()},
                    domain=dict(center=list(self.center), radius=self.radius, norm="inf"),
                    target=self.target, precision_bits=self.precision_bits)


def load(path) -> Spec:
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc.__class__.__name__}: {exc})") from None
    return loads(text, str(path))


def loads(text: str, filename: str = "<spec>") -> Spec:
    try:
        raw = tomllib.loads(text, parse_float=decimal.Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{filename}: invalid TOML: {exc}") from None
    return from_dict(raw, filename)


def from_dict(raw: dict, filename: str = "<spec>") -> Spec:
    def fail(key, msg):
        raise SpecError(f"{filename}: key {key!r}: {msg}")

    for key in raw:
        if key not in KEYS:
            raise SpecError(f"{filename}: unknown key {key!r} (allowed: {', '.join(KEYS)})")
    for key in ("quantity", "form", "center", "radius", "target", "budget_seconds"):
        if key not in raw:
            raise SpecError(f"{filename}: missing required key {key!r}")
    quantity, form, version = raw["quantity"], raw["form"], raw.get("version")
    if quantity not in ("f", "grad"):
        fail("quantity", f"{quantity!r} is not one of f, grad")
    if form not in ("vector", "matrix"):
        fail("form", f"{form!r} is not one of vector, matrix")
    if version is not None and version not in ("normalized", "rescaled"):
        fail("version", f"{version!r} is not one of normalized, rescaled")
    if quantity == "grad" and version is None:
        raise SpecError(f"{filename}: missing required key 'version' (needed for quantity 'grad')")
    if quantity == "f" and version is not None:
        fail("version", "is for quantity 'grad' only (f does not depend on the loss's version): remove it")
    need = DATA[form] if quantity == "grad" else DATA[form][:-1]
    for key in DATA["matrix" if form == "vector" else "vector"]:
        if key in raw:
            fail(key, f"belongs to the {'matrix' if form == 'vector' else 'vector'} form, not the {form} form")
    for key in need:
        if key not in raw:
            raise SpecError(f"{filename}: missing required key {key!r} (the {form} form of {quantity!r})")
    data = {}
    for key in DATA[form]:
        if key in raw:
            data[key] = _array(raw[key], key, 1 if key == "b" else 2, fail)
    _shapes(form, data, fail)
    n, d = (len(data["A"]), len(data["A"][0])) if form == "vector" else (len(data["A1"]), len(data["A1"][0]))
    center = _array(raw["center"], "center", 1 if form == "vector" else 2, fail)
    want = (d,) if form == "vector" else (d, d)
    if _shape(center) != want:
        fail("center", f"must have shape {want} for the {form} form with d = {d}, got {_shape(center)}")
    center = center if form == "vector" else tuple(v for row in center for v in row)
    radius = _number(raw["radius"], "radius", fail)
    if decimal.Decimal(radius) <= 0:
        fail("radius", f"must be positive, got {radius}")
    target = _target(raw["target"], form, fail)
    budget = raw["budget_seconds"]
    if (isinstance(budget, bool) or not isinstance(budget, (int, decimal.Decimal))
            or (isinstance(budget, decimal.Decimal) and not budget.is_finite()) or not 0 < budget < 10 ** 7):
        fail("budget_seconds", f"must be a positive number of seconds, got {budget!r}")
    prec = raw.get("precision_bits", 128)
    if isinstance(prec, bool) or not isinstance(prec, int) or not 53 <= prec <= 4096:
        fail("precision_bits", f"must be an integer in 53..4096, got {prec!r}")
    cap = raw.get("max_boxes", 1_000_000)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        fail("max_boxes", f"must be a positive integer, got {cap!r}")
    refine = raw.get("refine_to")
    if refine is not None:
        refine = _number(refine, "refine_to", fail)
        if decimal.Decimal(refine) < 1:
            fail("refine_to", f"must be at least 1, got {refine}")
    p = d if form == "vector" else d * d
    if n > MAX_N or p > MAX_P:
        raise SpecError(f"{filename}: n = {n} and p = {p} parameters exceed the limits n <= {MAX_N}, p <= {MAX_P} "
                        "(branch-and-bound cost grows exponentially with p)")
    return Spec(quantity, form, version, data, tuple(center), radius, target, float(budget), prec, cap, refine)


def _number(v, key, fail) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, decimal.Decimal, str)):
        fail(key, f"must be a number or a decimal string, got {type(v).__name__} {v!r}")
    try:
        dv = decimal.Decimal(v.strip() if isinstance(v, str) else v)
    except decimal.InvalidOperation:
        fail(key, f"{v!r} is not a decimal number")
    if not dv.is_finite():
        fail(key, f"must be finite, got {v!r}")
    if abs(dv.adjusted()) > 300:
        fail(key, f"{v!r} is out of range (|exponent| > 300)")
    return str(dv)


def _array(v, key, depth, fail):
    if depth == 1:
        if not isinstance(v, list) or not v:
            fail(key, "must be a non-empty array of numbers")
        return tuple(_number(e, key, fail) for e in v)
    if not isinstance(v, list) or not v or not all(isinstance(r, list) for r in v):
        fail(key, "must be a non-empty array of arrays (rows) of numbers")
    rows = tuple(_array(r, key, 1, fail) for r in v)
    if len({len(r) for r in rows}) != 1:
        fail(key, "rows must all have the same length")
    return rows


def _shape(a):
    return (len(a),) if not isinstance(a[0], tuple) else (len(a), len(a[0]))


def _shapes(form, data, fail):
    if form == "vector":
        n = len(data["A"])
        if "b" in data and len(data["b"]) != n:
            fail("b", f"must have n = {n} entries (the rows of A), got {len(data['b'])}")
        return
    if _shape(data["A2"]) != _shape(data["A1"]):
        fail("A2", f"must have the shape of A1 {_shape(data['A1'])}, got {_shape(data['A2'])}")
    n = len(data["A1"])
    if "B" in data and _shape(data["B"]) != (n, n):
        fail("B", f"must be n × n = {n} × {n}, got {_shape(data['B'])}")


def _target(v, form, fail) -> str:
    """A number ``≥ 0``, or a product of positive numbers and norm(...)/norm(...)^k factors (parsed, never
    evaluated)."""
    if not isinstance(v, str):
        text = _number(v, "target", fail)
    else:
        text = " ".join(v.split())
        try:
            decimal.Decimal(text)
            text = _number(text, "target", fail)
        except decimal.InvalidOperation:
            text = None
    if text is not None:
        if decimal.Decimal(text) < 0:
            fail("target", f"must not be negative (a Lipschitz constant is >= 0), got {text}")
        return "0" if decimal.Decimal(text) == 0 else text
    text = " ".join(v.split())
    if len(text) > MAX_TARGET:
        fail("target", f"is {len(text)} characters long; a product of at most {MAX_TARGET} characters is allowed")
    try:
        factors(text, form)
    except ValueError as exc:
        fail("target", str(exc))
    return text


def factors(text: str, form: str):
    """``(decimals, {name: power})`` of a target product, e.g. ``"3.25 * norm(A)^2"``."""
    names = ("A",) if form == "vector" else ("A1", "A2")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise ValueError(f"{text!r} is neither a number nor a product like '1.01 * 0.5 * norm(A)'") from None
    nums, powers = [], {}

    def walk(node, power=1):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and power == 1:
            walk(node.left)
            walk(node.right)
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and power == 1
              and isinstance(node.right, ast.Constant) and type(node.right.value) is int
              and 1 <= node.right.value <= 4):
            walk(node.left, node.right.value)
        elif (isinstance(node, ast.Constant) and type(node.value) in (int, float) and power == 1
              and _plain_positive(ast.get_source_segment(text.replace("^", "**"), node))):
            nums.append(ast.get_source_segment(text.replace("^", "**"), node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "norm"
              and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name)
              and node.args[0].id in names):
            powers[node.args[0].id] = powers.get(node.args[0].id, 0) + power
        else:
            raise ValueError(f"{text!r}: only positive numbers, norm({'|'.join(names)}), * and ^1..4 are allowed")

    try:
        walk(tree)
    except RecursionError:
        raise ValueError(f"{text[:40]!r}...: nested too deeply") from None
    return nums, powers


PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _plain_positive(text) -> bool:
    """A positive decimal in plain notation with exponent in range (no ``0x10``, ``1_0``: other readers of
    the target, arb's among them, do not take those)."""
    if text is None or not PLAIN.fullmatch(text):
        return False
    value = decimal.Decimal(text)
    return value > 0 and abs(value.adjusted()) <= 300


def _lists(v):
    return [_lists(e) for e in v] if isinstance(v, tuple) else v
