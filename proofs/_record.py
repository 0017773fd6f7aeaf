"""The lemma's record as the checker reads it: made of plain types (:func:`plain_failure`) and the same objects
before, after and on every cache hit of a verdict (:class:`Record`). Found in review: a ``str`` subclass that prints
one relation and compares as another, and a lemma whose own code rewrote it after the symbolic layers
(tests/test_proofs_review9.py, review11.py)."""
from __future__ import annotations

import dataclasses

import sympy as sp

from ._core import Bound, Estimate, Goal, Lemma, Step

_TYPES = (Lemma, Goal, Bound, Step, Estimate)


def plain_failure(obj, where: str = "the lemma") -> str:
    """Why the lemma's record (its fields, goal, Bound, steps and their texts) is not made of the checker's own
    types ("" if it is): the dataclasses exactly, ``str``, ``int``, ``bool`` and ``None`` exactly, tuples and lists
    of them; sympy objects are :func:`._vocabulary.expression_failure`'s, callables the lemma's code. Found in review:
    a ``str`` subclass printing "<=" but comparing as ">=" in a goal's relation (and "upper" as "lower" in a
    Bound's kind) had α(x) ≤ n e^{−R²} printed as proved, its every check seeing ≥."""
    kind = type(obj)
    if obj is None or any(kind is t for t in (str, int, bool)) or isinstance(obj, (sp.Basic, sp.MatrixBase)):
        return ""
    if kind is tuple or kind is list:
        return next(filter(None, (plain_failure(x, where) for x in obj)), "")
    if any(kind is t for t in _TYPES):
        code = ("steps", "numeric") if kind is Lemma else ()  # the lemma's code: run, never compared or printed
        return next(filter(None, (plain_failure(getattr(obj, f.name), f"{where}'s {f.name}")
                                  for f in dataclasses.fields(obj) if f.name not in code)), "")
    return f"{where} is a {kind.__module__}.{kind.__qualname__}, not one of the checker's plain types (str, int, " \
           "the proof dataclasses): a subclass can print one thing and compare as another"


class Record:
    """Every object the lemma's record holds (its fields but its code, its goal's and Bound's, its steps'), kept and
    compared by identity: a field set anew (``object.__setattr__`` on a frozen dataclass) or a list changed in
    place is a different record. Found in review: a numeric route that rewrote its own lemma's goal and claim after
    the symbolic layers left a false statement with a cached "proved"."""

    def __init__(self, lemma: Lemma, steps=()):
        self.leaves: list = []
        self._walk(lemma)
        self._walk(tuple(steps))
        # and the statement as sympy writes it out: a node's arguments replaced in place (the same objects, another
        # expression) kept a cached "proved" on a goal that then printed R² + R(100 − R) (review 11)
        self.leaves += [sp.srepr(e) for e in (*(() if lemma.goal is None else (lemma.goal.lhs, lemma.goal.rhs)),
                                               *(() if lemma.bound is None else (lemma.bound.value,)))]

    def _walk(self, obj):
        kind = type(obj)
        self.leaves.append(obj)
        if kind is tuple or kind is list:
            self.leaves.append(len(obj))
            for x in obj:
                self._walk(x)
        elif any(kind is t for t in _TYPES):
            code = ("steps", "numeric") if kind is Lemma else ()
            for f in dataclasses.fields(obj):
                if f.name not in code:
                    self._walk(getattr(obj, f.name))

    def same(self, other: Record) -> bool:
        return len(self.leaves) == len(other.leaves) and all(
            a is b or type(a) is str and type(b) is str and a == b for a, b in zip(self.leaves, other.leaves))
