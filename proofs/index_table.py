r"""Which identity steps are proved for every n and d, and how: one row per step of every lemma.

:func:`rows` walks a lemma's steps at the checker's size (n = 3, d = 2) and labels each identity — a
:class:`~._core.Step` as ``"step k"``, a side identity of an estimate as ``"step k side j"`` — then looks the
label up:

* in :data:`.index_vector.STEPS` (vector form): the step in index notation with symbolic ``n, d``. It counts as
  proved for all n and d when (1) :func:`.index_form.normal_form` of ``lhs − rhs`` is empty (an exact proof,
  sound: every rewrite is an identity of the sums) and (2) the index form *is* the lemma's step: instantiated
  at the checker's size (the sums expanded, ``A[i, l] → A_il``) each side equals the lemma's side entry by
  entry, decided by sympy (:func:`._zero.is_zero`) with ``exact`` (the slow test tier), else compared at a
  random point at 60 digits (``attnreg proofs show`` and ``check``: many times faster, evidence). (2) ties the
  symbolic proof to the step the checker verified; it is checked at one size, so that the lemma builds the step
  by the same formula at every size is what the transcription assumes (the checker also refuses a step whose
  symbols do not follow the size: :func:`._sizes.size_ignored`);
* in :data:`.index_matrix.STEPS` (matrix form, two index ranges): the same, or a precise reason it stays at
  fixed sizes;
* a table entry the normaliser leaves terms of may still be proved by the index-count argument
  (:mod:`.index_count`: a polynomial identity with every bound index in an entry, checked at n = K_n, d = K_d);
* in :data:`.index_vector.BY_COQ`: a step the normaliser cannot prove (it needs signs) that a Coq theorem of the
  export states for every n — status "all n, d (Coq)" when the step is the reviewed one and the exported file holds
  the theorem word for word (:func:`coq_failure`); coqc compiles it in CI (slow tier), not here;
* otherwise the row says "fixed sizes only" with the reason from the tables, or "no index form written",
  never silently.

Results are cached per process (the proofs take about 10 s on one core in all; the exact links several
minutes, the sampled ones seconds).
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass

import sympy as sp

from . import index_matrix, index_vector
from ._algebra import BASE_SIZES, is_zero
from ._digest import digest
from ._fixed import reviewed
from ._linked import LINKED
from ._core import Lemma, Same, Step
from ._numeric import RESIDUAL_DIGITS
from ._points import DIGITS, _value
from ._sizes import _families, identities
from .index_count import by_count
from .index_form import instance, remainder


@dataclass(frozen=True)
class Row:
    label: str
    claim: str
    status: str  # "all n, d" | "all n, d (Coq)" | "fixed sizes" | "FAILED"
    how: str


def axes(free) -> list[tuple]:
    """The axes of a step's matrices: each a tuple of ``(index, "n" | "d")``, several for a pair index flattened
    row-major (``((j, "n"), (m, "n"))`` is the position ``j·n + m``)."""
    return [ax if isinstance(ax[0], tuple) else (ax,) for ax in free]


def free_symbols(free) -> list:
    return [sym for ax in axes(free) for sym, _ in ax]


def _entries(side, free, size):
    """``[(free-index values, entry)]`` of a lemma's side, checking its shape against the free indices."""
    spans = [[size[0] if what == "n" else size[1] for _, what in ax] for ax in axes(free)]
    lengths = [int(sp.prod(s)) for s in spans]
    shape = tuple(side.shape) if isinstance(side, sp.MatrixBase) else ()
    if len(lengths) == 2 and shape == tuple(lengths):
        pos = [(a, c) for a in range(shape[0]) for c in range(shape[1])]
    elif len(lengths) == 1 and shape in ((lengths[0], 1), (1, lengths[0])):
        pos = [(a, 0) if shape[1] == 1 else (0, a) for a in range(lengths[0])]
    elif not lengths and shape in ((), (1, 1)):
        return [((), side[0, 0] if shape else sp.sympify(side))]
    else:
        raise ValueError(f"a {shape or 'scalar'} side against axes of lengths {lengths}")
    out = []
    for at in pos:
        flat = [at[0]] if len(lengths) == 1 and shape[1] == 1 else [at[1]] if len(lengths) == 1 else list(at)
        values = []
        for where, span in zip(flat, spans):
            digits = []
            for size_ in reversed(span):
                digits.append(where % size_)
                where //= size_
            values += reversed(digits)
        out.append((tuple(values), side[at]))
    return out


@functools.cache
def proved(table: str, key) -> tuple[bool, dict]:
    """``(remainder is empty, remainder)`` for one entry of a table."""
    lhs, rhs, _ = _table(table)[key]()
    rest = remainder(lhs, rhs)
    return not rest, rest


@functools.cache
def counted(table: str, key) -> tuple[bool, str]:
    """The index-count argument (:mod:`.index_count`) for one entry: ``(proved, how or why not)``."""
    lhs, rhs, free = _table(table)[key]()
    return by_count(lhs, rhs, [ix for ax in axes(free) for ix in ax])


def _close(a, b, point) -> bool:
    x, y = sp.N(sp.sympify(a).xreplace(point), DIGITS), sp.N(sp.sympify(b).xreplace(point), DIGITS)
    return bool(abs(x - y) <= sp.Float(10, DIGITS) ** -RESIDUAL_DIGITS * max(1, abs(y)))


def link(table: str, key, step: Step, size=BASE_SIZES[0], *, exact: bool = True) -> str:
    """"" when the index form of ``key`` instantiated at ``size`` is ``step`` (both sides, every entry), else why.
    ``exact``: decided by sympy (:func:`._zero.is_zero`); otherwise compared at one random point (seed 0,
    60 digits, relative residual below 10⁻⁴⁰), evidence only (and many times faster)."""
    lhs, rhs, free = _table(table)[key]()
    rename = getattr(_table_module(table), "LINK", {}).get(key, lambda _: {})(size)
    rng, point = random.Random(0), {}
    try:
        for mine, theirs, side in ((lhs, step.lhs, "left"), (rhs, step.rhs, "right")):
            for idx, entry in _entries(theirs, free, size):
                got = instance(mine, size, dict(zip(free_symbols(free), idx))).xreplace(rename)
                if not exact:
                    for sym in sorted((sp.sympify(got).free_symbols | sp.sympify(entry).free_symbols) - set(point),
                                      key=str):
                        point[sym] = _value(sym, rng)
                if not (is_zero(got - entry) if exact else _close(got, entry, point)):
                    return f"the {side} side's entry {idx} is not the index form's at n={size[0]}, d={size[1]}"
    except ValueError as err:
        return f"shape: {err}"
    return ""


def _built(lemma: Lemma) -> dict:
    return _built_same(Same(lemma))


@functools.cache
def _built_same(lemma: Same) -> dict:  # by identity (._core.Same), not by the lemma's own ==
    return dict(identities(lemma.obj))


def _linked(table: str, key, lemma: Lemma, exact: bool) -> str:
    return _linked_same(table, key, Same(lemma), exact)


@functools.cache
def _linked_same(table: str, key, same: Same, exact: bool) -> str:
    steps = _built(same.obj)
    return link(table, key, steps[key[1]], exact=exact) if key[1] in steps else f"the lemma has no {key[1]}"


def _table_module(table):
    return index_vector if table == "vector" else index_matrix


def _table(table):
    return _table_module(table).STEPS


def row(lemma: Lemma, label: str, claim: str, *, exact: bool = False) -> Row:
    """The row of one identity step; ``exact`` decides the link by sympy, else at a random point."""
    key = (lemma.id, label)
    for table in ("vector", "matrix"):
        if key in _table(table):
            ok, rest = proved(table, key)
            how, count = "normal form of lhs − rhs is 0 for symbolic n, d", ""
            if not ok:  # the second argument: the index count (a polynomial identity checked at n = K)
                ok, count = counted(table, key)
                how = f"index count: {count}" if ok else how
            why = _linked(table, key, lemma, exact)
            if ok and not why:
                return Row(label, claim, "all n, d", f"proofs/index_{table}.py: {how}; the index form is the "
                           "lemma's step at n=3, d=2 (" + ("exact, sympy)" if exact else "at a random point, 60 "
                                                          "digits)"))
            return Row(label, claim, "FAILED", why or f"normal form of lhs − rhs leaves {len(rest)} terms; {count}")
    if key in index_vector.SIZE_FREE and not _families(_built(lemma)[label]):
        if LINKED.get(key) == digest(label, _built(lemma)[label]):  # the step the reason was written for
            return Row(label, claim, "all n, d", index_vector.SIZE_FREE[key])
        return Row(label, claim, "FAILED", "not the size-free scalar identity reviewed for this key "
                   "(proofs/_linked.py: its digest differs)")
    if key in index_vector.BY_COQ:
        why = coq_failure(key, _built(lemma)[label])
        return Row(label, claim, COQ, index_vector.BY_COQ[key][2]) if not why else Row(label, claim, "FAILED", why)
    for reasons in (index_vector.NOT_INDEXED, index_matrix.FIXED):
        if key in reasons:
            return Row(label, claim, "fixed sizes", reasons[key])
    return Row(label, claim, "fixed sizes", "no index form is written for this step")


COQ = "all n, d (Coq)"  # proved for every n by a Coq theorem (index_vector.BY_COQ), compiled in CI


def coq_failure(key, step) -> str:
    """Why the Coq theorem of ``key`` (:data:`.index_vector.BY_COQ`) is not a proof of ``step`` for every n ("" when
    it is): the step as built must be the hand-reviewed one (its digest, :mod:`._fixed`), and the Coq file the export
    writes must hold, outside its comments, the definition and the theorem word for word, the theorem followed by a
    proof that ends in ``Qed.``, and none of the commands that assume, abandon or redefine (``Admitted``, ``admit``,
    ``Abort``, ``Axiom``, ``Parameter``, ``Conjecture``, ``Hypothesis``, ``Variable``, ``Context``, ``Notation``,
    ``Infix``, ``Unset``, ``Local``, ``Module``, ``Section``, ``Let``). This is a text check; that the compiled
    theorem has exactly the reviewed statement, read in a clean context, and rests on no axiom beyond Coq's standard
    reals is :data:`.export_coq.STATEMENT_FILE`'s and the slow test's (CI's) business. Found in review (RVPROOFS4):
    the text was matched anywhere, so a file with the theorem only in a comment, or proved up to ``Abort``, passed."""
    from .export_coq import SOFTMAX_ROW_SUM  # deferred: export_coq imports the package's LEMMAS

    definition, theorem, _ = index_vector.BY_COQ[key]
    if not reviewed(key[0], key[1], step):
        return "not the step the Coq theorem was reviewed for (proofs/_fixed.py: its digest differs)"
    code = _uncommented(SOFTMAX_ROW_SUM)
    if code is None:
        return "the Coq file the export writes has an unclosed comment (proofs/export_coq.py)"
    if definition not in code or code.count(theorem) != 1:
        return "the Coq file the export writes does not state the theorem outside its comments (proofs/export_coq.py)"
    word = re.search(r"\b(Admitted|admit|Abort|Axioms?|Parameters?|Conjectures?|Hypothes[ie]s|Variables?|Context|"
                     r"Notation|Infix|Unset|Local|Module|Section|Let)\b", code)
    if word:
        return (f"the Coq file the export writes assumes something, abandons a proof or redefines a name ({word[1]}; "
                "proofs/export_coq.py)")
    after = code[code.index(theorem) + len(theorem):]
    end = re.search(r"\b(Qed|Defined|Save|Abort|Admitted)\b", after)
    if not after.lstrip().startswith("Proof.") or not end or end[1] != "Qed":
        return "the Coq file the export writes does not prove the theorem with Proof. … Qed. (proofs/export_coq.py)"
    return ""


def _uncommented(text: str) -> str | None:
    """``text`` with its (nested) Coq comments replaced by a space; ``None`` when a comment is not closed."""
    out, depth, i = [], 0, 0
    while i < len(text):
        two = text[i:i + 2]
        if two == "(*":
            depth, i = depth + 1, i + 2
        elif two == "*)" and depth:
            depth, i = depth - 1, i + 2
            if not depth:
                out.append(" ")
        else:
            if not depth:
                out.append(text[i])
            i += 1
    return None if depth else "".join(out)


def rows(lemma: Lemma, *, exact: bool = False) -> list[Row]:
    """One :class:`Row` per identity step of ``lemma`` (see the module docstring)."""
    return [row(lemma, label, s.claim, exact=exact) for label, s in _built(lemma).items()]


def summary(lemma: Lemma, *, exact: bool = False) -> str:
    """One line: how many identity steps are proved for all n and d, and which are not (with why)."""
    rs = rows(lemma, exact=exact)
    if not rs:
        return "no identity steps"
    done = [r for r in rs if r.status in ("all n, d", COQ)]
    coq = [r.label for r in rs if r.status == COQ]
    fixed = [r.label for r in rs if r.status == "fixed sizes"]
    failed = [f"{r.label} ({r.how})" for r in rs if r.status == "FAILED"]
    out = f"{len(done)} of {len(rs)} identity steps proved for all n, d"
    if coq:
        out += f" ({', '.join(coq)} by a Coq theorem compiled in CI, not here)"
    if fixed:
        out += f"; fixed sizes only: {', '.join(fixed)} (why: `attnreg proofs show {lemma.id}`)"
    if failed:
        out += "; index form FAILED: " + "; ".join(failed)
    return out


__all__ = ["COQ", "Row", "coq_failure", "counted", "identities", "instance", "link", "proved", "row", "rows", "summary"]
