r"""The statement vocabulary: what a bound on a building block says, as one frozen record.

A :class:`Statement` names the measured quantity and how it is measured; the proofs' ``Bound``
(statement + sympy constant + lemma id) and the claims files' ``Claim`` (statement + constant
expression + id, provenance, source, file, certificate) are both built on it, so "do these two speak
of the same thing" is decided here, once (:meth:`Statement.measures_same`, :meth:`Statement.as_statement`).
The number a statement measures at a point is computed by :mod:`attnreg.reference.measure`.

Fields (docs/design.md: the ½, the building blocks):

* ``quantity``: ``u``, ``alpha``, ``f``, ``c``, ``h`` (building blocks), ``loss``, ``grad``;
* ``form``: ``vector`` (``A``, ``b``, ``x``) or ``matrix`` (``A1``, ``A2``, ``B``, ``X``; row-wise blocks,
  stacked n × n, Frobenius norm; matrix ``alpha`` is the n-vector of row sums);
* ``kind``: ``lipschitz`` — ``||q(p) − q(p′)|| ≤ C·||p − p′||`` in the variable ``wrt``;
  ``upper`` — ``||q|| ≤ C`` (scalars as they are; matrix ``alpha``: every row's ``α_j``);
  ``lower`` — ``q ≥ C`` in the same sense (the smallest ``α_j``);
* ``version``: ``normalized`` / ``rescaled``; required for ``c``, ``h``, ``loss``, ``grad`` and absent for
  ``u``, ``alpha``, ``f`` (which do not depend on it);
* ``wrt``: lipschitz only; vector ``x`` | ``A``, matrix ``X`` | ``A1`` | ``A2``;
* ``wrt_norm``: the distance ``||p − p′||``: ``fro`` (always for ``x``, ``X``) or ``spectral`` (the default
  for ``A``, ``A1``, ``A2``); None when there is no ``wrt``;
* ``loss_scale``: ``half`` (ours: every loss carries ½) or ``full`` (``objective = 2·loss``; scales
  ``loss`` and ``grad``);
* ``assume``: the hypotheses, as written in the assume vocabulary (``norm(A) <= R``, ``simplex(b)``, …).
  The record compares them as written; whether one list implies another is decided by the claims
  checker (``attnreg.verify.claims.prove``).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

QUANTITIES = ("u", "alpha", "f", "c", "h", "loss", "grad")
FORMS = ("vector", "matrix")
KINDS = ("lipschitz", "upper", "lower")
WRT = {"vector": ("x", "A"), "matrix": ("X", "A1", "A2")}
VERSIONS = ("normalized", "rescaled")
WRT_NORMS = ("spectral", "fro")
LOSS_SCALES = ("half", "full")
NEEDS_VERSION = ("c", "h", "loss", "grad")  # the quantities that depend on the version (and on b / B)
NEEDS_B = NEEDS_VERSION
LOSSES = ("loss", "grad")  # the quantities ``loss_scale`` scales


class Stated(Protocol):
    """Anything with a statement's fields (a :class:`Statement`, or a stand-in with the same attributes)."""
    quantity: str
    form: str
    kind: str
    version: str | None
    wrt: str | None
    wrt_norm: str | None


class StatementError(ValueError):
    """A statement outside the vocabulary; ``str()`` is one sentence."""


def _why_invalid(s: Statement) -> str:
    """Why ``s`` is outside the vocabulary ("" if it is not)."""
    if s.quantity not in QUANTITIES:
        return f"quantity {s.quantity!r} is not one of {', '.join(QUANTITIES)}"
    if s.form not in FORMS:
        return f"form {s.form!r} is not one of {', '.join(FORMS)}"
    if s.kind not in KINDS:
        return f"kind {s.kind!r} is not one of {', '.join(KINDS)}"
    if (s.version is None) == (s.quantity in NEEDS_VERSION):
        return (f"quantity {s.quantity!r} needs a version" if s.version is None
                else f"quantity {s.quantity!r} does not depend on the version, got {s.version!r}")
    if s.version is not None and s.version not in VERSIONS:
        return f"version {s.version!r} is not one of {', '.join(VERSIONS)}"
    if s.kind == "lipschitz" and s.wrt not in WRT[s.form]:
        return f"a lipschitz statement in {s.form} form needs wrt in {', '.join(WRT[s.form])}, got {s.wrt!r}"
    if s.kind != "lipschitz" and (s.wrt, s.wrt_norm) != (None, None):
        return f"an {s.kind} statement has no wrt and no wrt_norm"
    if s.wrt in ("x", "X") and s.wrt_norm not in (None, "fro"):
        return f"{s.wrt} is measured in the ℓ2/Frobenius norm; wrt_norm {s.wrt_norm!r} applies to A, A1, A2 only"
    if s.wrt_norm is not None and s.wrt_norm not in WRT_NORMS:
        return f"wrt_norm {s.wrt_norm!r} is not one of {', '.join(WRT_NORMS)}"
    if s.loss_scale not in LOSS_SCALES:
        return f"loss_scale {s.loss_scale!r} is not one of {', '.join(LOSS_SCALES)}"
    if not isinstance(s.assume, tuple) or not all(isinstance(a, str) for a in s.assume):
        return "assume must be a tuple of strings"
    return ""


@dataclass(frozen=True, kw_only=True)
class Statement:
    """What a bound states about a quantity (see the module docstring); validated on construction,
    ``wrt_norm`` filled in (``fro`` for ``x`` / ``X``, ``spectral`` by default for ``A``, ``A1``, ``A2``)."""
    quantity: str
    form: str
    kind: str
    version: str | None = None
    wrt: str | None = None
    wrt_norm: str | None = None
    loss_scale: str = "half"
    assume: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.assume, list):
            object.__setattr__(self, "assume", tuple(self.assume))
        why = _why_invalid(self)
        if why:
            raise StatementError(f"{type(self).__name__} outside the statement vocabulary: {why}")
        if self.wrt is not None and self.wrt_norm is None:
            object.__setattr__(self, "wrt_norm", "fro" if self.wrt in ("x", "X") else "spectral")

    def as_statement(self) -> Statement:
        """The plain record (a ``Bound`` or a ``Claim`` without its constant and bookkeeping)."""
        return Statement(**{f.name: getattr(self, f.name) for f in fields(Statement)})

    def measures_same(self, other: Stated) -> bool:
        """Whether ``other`` (any object with the statement's fields) bounds the same number as ``self``:
        same quantity, form, kind and, for lipschitz, ``wrt`` and its norm; the version only where the
        quantity depends on it (``loss``, ``grad``: ``c = f − b`` and ``h = u − αb`` are the same function
        for both versions). Constants, loss scale and hypotheses are the caller's to compare."""
        if (other.quantity, other.form, other.kind) != (self.quantity, self.form, self.kind):
            return False
        if self.quantity in LOSSES and other.version != self.version:
            return False
        if self.kind == "lipschitz":
            norm = other.wrt_norm or ("fro" if other.wrt in ("x", "X") else "spectral")
            return (other.wrt, norm) == (self.wrt, self.wrt_norm)
        return True

    @property
    def matrix_wrt(self) -> bool:
        """Whether the statement is Lipschitz in a matrix of data (``A``, ``A1``, ``A2``)."""
        return self.wrt in ("A", "A1", "A2")

    @property
    def scale(self) -> int:
        """2 for ``loss`` / ``grad`` stated for ``objective = 2·loss`` (``loss_scale = "full"``), else 1."""
        return 2 if self.loss_scale == "full" and self.quantity in LOSSES else 1

    @property
    def scalar(self) -> bool:
        """Whether the quantity is one number (``loss``; ``alpha`` in vector form)."""
        return self.quantity == "loss" or (self.quantity == "alpha" and self.form == "vector")
