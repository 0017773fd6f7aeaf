r"""The data of the proofs: identity steps, rule applications (estimates), goals, bounds and lemmas.

A lemma is a chain of steps. Two kinds:

* :class:`Step` — an exact identity ``lhs = rhs`` between sympy expressions (or matrices) built at a
  concrete size the checker chooses (at least ``n = 3``, ``d = 2``, entries as symbols), decided by
  :func:`._checker.holds` (never by sampling).
* :class:`Estimate` — one application of a named rule of :data:`RULES`: ``q ≤ expr`` (or ``≥``,
  ``=``), where ``q`` is a quantity symbol (a norm, a supremum) and ``expr`` is built from other
  quantities and ``n, d, R, M``. Its side conditions are identity steps (``side``) or cited lemmas
  (``uses``). What :func:`._checker.verify` checks of an estimate beyond its rule's name:

  - ``assumption``: the hypothesis text ``<norm> <= E`` is one of the lemma's, the step states exactly
    ``q <= E`` and ``q`` is a symbol declared for ``<norm>`` (:data:`.symbols.NORMS`);
  - ``lemma`` / ``stacked_rows``: a citation is required; it is re-derived from the cited lemma's goal
    with the renaming applied. Each hypothesis of the cited lemma is assumed here or discharged: by a
    lemma whose goal is ``q <= E′`` with ``q`` declared for the hypothesis' norm and ``E′`` exactly the
    renamed bound, or by instantiating ``R := ‖T‖`` (:data:`INSTANCE`). A hypothesis that mentions a
    parameter (``n, d, R, M``) the renaming changes must be discharged, never assumed; a renamed
    parameter must stay positive; the distance a Lipschitz goal is stated in (``‖x − y‖``, …) is never
    renamed, and a norm a hypothesis bounds only to another symbol for the same norm;
  - ``identity``: relation ``=``, at least one side identity, which sympy verifies, and the two quantities
    defined in :mod:`.definitions` and shown equal by the checker itself;
  - every rule: its shape (:mod:`._rules`: which relations it gives, no constant or parameter of its own);
    a citation renames ``n``, ``d`` never and quantities only to quantities that are instances of them
    (:mod:`._cite`, :data:`.definitions.INSTANCES`).

  Whether a shape-correct standard rule (triangle, submultiplicative, …) applies to the quantities its
  names denote is still for the reader, as in any written proof; the checker accepts such a rule only at
  the applications listed in :mod:`._reviewed`, and ``attnreg proofs show`` lists these rules.

A bound lemma has a :class:`Goal` ``lhs ≤ rhs``; :func:`._checker.compose` substitutes the estimates and
proves the stated constant with sympy. A goal in the claims vocabulary is also a :class:`Bound` (the claims
checker consumes it); :class:`Lemma` refuses a Bound whose labels are not its goal (left side
:func:`.symbols.bound_lhs` of the labels, right side ``constant · WRT_SYMBOL[wrt]``). Constants are
ours ("derived"); none is a paper's. An identity lemma (no goal) states the steps it ``shows``: its claim is
their claims, exactly (:class:`Lemma`, checked by :mod:`._statement`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from attnreg.statement import Statement, StatementError

from ._sample import bound_ratio
from .symbols import WRT_SYMBOL, bound_lhs

RULES: dict[str, str] = {
    "assumption": "a hypothesis of the lemma",
    "lemma": "the conclusion of a cited lemma, with its symbols renamed",
    "identity": "an exact identity (its side condition is verified by sympy)",
    "triangle": "‖a + b‖ ≤ ‖a‖ + ‖b‖ (any norm; |a + b| ≤ |a| + |b| for numbers)",
    "cauchy_schwarz": "|⟨a, b⟩| ≤ ‖a‖₂ ‖b‖₂",
    "submultiplicative": "‖M v‖₂ ≤ ‖M‖₂ ‖v‖₂, ‖M N‖₂ ≤ ‖M‖₂ ‖N‖₂, ‖M N‖_F ≤ ‖M‖₂ ‖N‖_F, ‖a bᵀ‖₂ = ‖a‖₂ ‖b‖₂",
    "hadamard": "‖a ∘ v‖₂ ≤ ‖a‖_∞ ‖v‖₂, i.e. ‖diag(a)‖₂ = ‖a‖_∞",
    "norm_comparison": "‖v‖_∞ ≤ ‖v‖₂ ≤ ‖v‖₁ and ‖v‖₂ ≤ √k ‖v‖_∞, ‖1_k‖₂ = √k, for v ∈ R^k",
    "mean_value": "g C¹ on a convex set K ∋ p, p′: ‖g(p) − g(p′)‖ ≤ sup_{z ∈ [p, p′]} ‖Dg(z)‖ ‖p − p′‖",
    "exp_monotone": "a ≤ b ⇒ e^a ≤ e^b",
    "sum_of_terms": "m ≤ t_i ≤ M′ for i = 1…k ⇒ k m ≤ Σ_i t_i ≤ k M′",
    "schur_test": "a symmetric matrix M has ‖M‖₂ ≤ max_i Σ_j |M_ij|",
    "square_nonnegative": "t² ≥ 0 (a difference shown by sympy to be a non-negative multiple of a square)",
    "stacked_rows": "‖[v_1; …; v_k]‖₂² = Σ_j ‖v_j‖₂², so ‖v_j‖ ≤ c ‖w_j‖ for every j gives ‖v‖ ≤ c ‖w‖ "
                    "(one c for all rows: the block-diagonal structure gives max_j, not a sum)",
    "row_block": "a block of rows has norm ≤ the whole matrix: ‖A_[j]‖₂ ≤ ‖A‖₂",
    "kron_spectrum": "the eigenvalues of M ⊗ N are the products λ_i(M) μ_k(N)",
    "spectral_norm": "‖M‖₂² = λ_max(Mᵀ M) (singular values)",
    "probability": "a probability vector p (p ≥ 0, Σ p_i = 1) has 0 ≤ p_i ≤ 1 and ‖p‖₂ ≤ ‖p‖₁ = 1",
    "homogeneity": "‖t a‖ = |t| ‖a‖ for a number t",
}
RELATIONS = ("<=", ">=", "=")
INSTANCE = "instance"  # discharge marker: the hypothesis "norm(T) <= R" holds with R := ||T||


class Same:
    """``obj`` as a cache key by identity: equal only to a key of the very same object. A lemma's own ``==``
    (a dataclass's, which ends in its expressions' ``__eq__``) is not asked: found in review, a ``Mul`` subclass
    claiming to equal u_upper's real constant made a forged lemma "equal" to the real one, so it received the real
    one's cached verdict with no check run. The key holds ``obj``, so its id is not reused while cached."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, Same) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


@dataclass(frozen=True)
class Step:
    """An exact identity ``lhs = rhs``; ``claim`` is how a reader sees it, ``why`` the justification."""
    claim: str
    why: str
    lhs: object
    rhs: object
    uses: tuple[str, ...] = ()
    rule = "identity"


@dataclass(frozen=True)
class Estimate:
    """``lhs rel rhs`` by the named ``rule``; side conditions in ``side`` (identities) and ``uses`` (lemmas)."""
    rule: str
    lhs: sp.Symbol
    rel: str
    rhs: sp.Expr
    why: str
    uses: tuple[str, ...] = ()
    side: tuple[Step, ...] = ()
    cite: tuple = ()  # (lemma, ((cited symbol, local expression), ...)) for citations
    assume: str = ""  # the hypothesis text for rule "assumption"
    discharge: tuple = ()  # ((hypothesis of the cited lemma, lemma id that establishes it here), ...)


def by(rule, lhs, rel, rhs, why, *, uses=(), side=()) -> Estimate:
    return Estimate(rule, lhs, rel, sp.sympify(rhs), why, tuple(uses), tuple(side))


def given(lhs, rel, rhs, text: str, why: str = "") -> Estimate:
    """A hypothesis of the lemma, written as in its ``assume`` tuple."""
    return Estimate("assumption", lhs, rel, sp.sympify(rhs), why or f"hypothesis {text}", assume=text)


def cite(lemma: "Lemma", mapping: dict, why: str = "", *, rule="lemma", uses=(), discharge=None) -> Estimate:
    """The goal of ``lemma`` with ``mapping`` applied (cited symbol -> local expression). Each hypothesis
    of the cited lemma must be one of the citing lemma's, or be established by the lemma named for it
    in ``discharge`` (hypothesis text -> lemma id)."""
    g = lemma.goal.renamed(mapping)
    why = why or f"Lemma {lemma.id}"
    discharge = tuple((discharge or {}).items())
    uses = tuple(dict.fromkeys((lemma.id, *uses, *(i for _, i in discharge if i != INSTANCE))))
    return Estimate(rule, g.lhs, g.rel, g.rhs, why, uses, cite=(lemma.id, tuple(mapping.items())), discharge=discharge)


@dataclass(frozen=True)
class Goal:
    """What a bound lemma proves: ``lhs rel rhs`` with ``lhs`` a quantity symbol."""
    lhs: sp.Symbol
    rel: str
    rhs: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "rhs", sp.sympify(self.rhs))

    def renamed(self, mapping: dict) -> "Goal":
        sub = lambda e: sp.sympify(e).subs(mapping, simultaneous=True)  # noqa: E731
        return Goal(sub(self.lhs), self.rel, sub(self.rhs))

    @classmethod
    def of(cls, bound: "Bound", q, wrt=None) -> "Goal":
        """The goal a :class:`Bound` states: ``q ≤ C·wrt`` (lipschitz), ``q ≤ C`` or ``q ≥ C``."""
        if bound.kind == "lipschitz":
            return cls(q, "<=", bound.constant() * wrt)
        return cls(q, "<=" if bound.kind == "upper" else ">=", bound.constant())


@dataclass(frozen=True, kw_only=True)
class Bound(Statement):
    """A :class:`~attnreg.statement.Statement` proved by lemma ``lemma``, with the constant ``value``.

    lipschitz: ``||q(p) − q(p′)|| ≤ constant()·||p − p′||`` for all admissible p, p′ (both satisfy
    ``assume``); upper: ``||q|| ≤ constant()`` (matrix alpha: every row's α_j); lower: ``q ≥ constant()``
    (every α_j). Matrix-form quantities are row-wise, stacked n × n (Frobenius norm); matrix alpha is
    the n-vector of row sums. Losses carry the ½ (``loss_scale="half"``).
    """
    value: sp.Expr = field(repr=False)
    lemma: str = ""

    def __post_init__(self):
        try:
            super().__post_init__()
        except StatementError as exc:
            raise ValueError(f"Bound {self!r} is outside the claims vocabulary: {exc}") from None
        if not self.value.free_symbols <= set(sp.symbols("n d R", positive=True)):
            raise ValueError(f"Bound {self!r} is outside the claims vocabulary: its constant is not in n, d, R")

    def constant(self) -> sp.Expr:
        return self.value


def _goal_mismatch(bound: Bound, goal: Goal | None) -> str:
    """Why ``goal`` is not the statement of ``bound`` ("" if it is)."""
    if goal is None:
        return "there is no goal"
    lhs = bound_lhs(bound.quantity, bound.form, bound.kind, bound.wrt, bound.version)
    rel = ">=" if bound.kind == "lower" else "<="
    rhs = bound.constant() * (WRT_SYMBOL[bound.wrt] if bound.kind == "lipschitz" else 1)
    if goal.lhs != lhs:
        return f"the goal bounds {goal.lhs}, the labels say {lhs}"
    if goal.rel != rel or sp.expand(goal.rhs - rhs) != 0:
        return f"the goal is {goal.lhs} {goal.rel} {goal.rhs}, the labels say {lhs} {rel} {rhs}"
    return ""


_HEAD = re.compile(r"Lemma (?P<id>[A-Za-z0-9_]+) \((?P<title>[^)]*)\): (?P<claim>.+)")


def head(doc: str) -> str:
    """A lemma docstring's head: its first paragraph, each line stripped, joined by one space (a long formal
    claim may wrap)."""
    return " ".join(line.strip() for line in re.split(r"\n[ \t]*\n", doc.strip(), maxsplit=1)[0].splitlines())


@dataclass(frozen=True, kw_only=True)
class Lemma:
    """One lemma: the docstring (its head — the first paragraph, its lines joined by one space — is
    ``Lemma <id> (<name>): <claim>``; sections Statement and Check; the derivation is ``steps(n, d)``, which
    :mod:`.render` turns into prose), the lemmas it ``requires``, a ``numeric`` second route
    ``(ctx, rng) -> Numeric`` at ≥ 50 digits, and for bounds the ``goal`` (and ``bound``). With a ``bound`` and
    no ``numeric``, the numeric route is the Bound's own semantics, :func:`._sample.bound_ratio`.

    What a lemma states, formally. A bound lemma states its ``goal`` (composed from its chain by the checker);
    its claim is exactly that goal with its hypotheses, ``lhs ≤ rhs if H₁, H₂`` in plain text
    (:func:`._statement.bound_claim`; a template may write it with :func:`._statement.stated`). An identity
    lemma (no goal) states its ``shows``: the 1-based positions of the identity steps that are its conclusion,
    and ``premises``, those (other) steps that hold by the construction of its objects and are the conclusion's
    hypothesis (``A2 w = 1ₙ``, A2 built so). Its claim is then not prose
    but exactly, with ``C(k)`` the claim of step k as built at the checker's base size,

        ``"; ".join(C(k) for k in shows)``, preceded by ``"if " + "; ".join(C(k) for k in premises) + ": "``
        when there are premises,

    positions in increasing order, none in both. Step claims are pinned to their expressions by review (the
    digests of :mod:`._linked` and :mod:`._fixed`), so the claim says what proved steps say; an author chooses
    only which proved steps to state (a premise only weakens the claim) — except that a step reviewed as holding
    by construction (:data:`._fixed.CONSTRUCTIONS`: ``A2 w = 1ₙ``, which the lemma's other steps are built on) must
    be a premise. Each stated step must be a :class:`Step` with a plain ``str`` claim, and the claim a size-free
    text: the same steps at every size the checker verifies. :mod:`._statement` checks this rule.

    The title names the lemma; it claims nothing (:mod:`._title`, checked with the claim): it holds only letters,
    spaces, the punctuation ``, ' ’ - ( ) _`` and digits directly inside a name (``A1``), none of the number or
    relation words of :data:`._title.WORDS`, and no hyphen before "Lipschitz" — so no ``≤``, ``½``, ``4``, ``one``.
    The title and the Statement section are prose: every printout shows the claim as the statement and them as
    name and unchecked explanation."""
    doc: str
    steps: Callable[[int, int], list]
    numeric: Callable | None = None
    requires: tuple[str, ...] = ()
    goal: Goal | None = None
    bound: Bound | None = None
    assume: tuple[str, ...] = ()
    sizes: tuple[tuple[int, int], ...] = ((3, 2),)
    slow_sizes: tuple[tuple[int, int], ...] = ()
    shows: tuple[int, ...] = ()
    premises: tuple[int, ...] = ()
    id: str = field(init=False)
    title: str = field(init=False)
    claim: str = field(init=False)

    def __post_init__(self):
        m = _HEAD.fullmatch(head(self.doc))
        if not m:
            raise ValueError(f"lemma docstring must start with 'Lemma <id> (<name>): <claim>': {self.doc[:80]!r}")
        for key in ("id", "title", "claim"):
            object.__setattr__(self, key, m[key])
        for key in ("shows", "premises"):  # a list would make the lemma unhashable (verdicts are cached by lemma)
            object.__setattr__(self, key, tuple(getattr(self, key)))
        if self.bound is not None:
            object.__setattr__(self, "assume", self.bound.assume)
            if self.bound.lemma != self.id:
                raise ValueError(f"lemma {self.id}: its Bound names lemma {self.bound.lemma!r}")
            why = _goal_mismatch(self.bound, self.goal)
            if why:
                raise ValueError(f"lemma {self.id}: its Bound does not state its goal: {why}")
            if self.numeric is None:
                object.__setattr__(self, "numeric", functools.partial(bound_ratio, bound=self.bound))

    @property
    def statement(self) -> str:
        return self.section("Statement")

    @property
    def kind(self) -> str:
        return "identity" if self.goal is None else "bound"

    def section(self, name: str) -> str:
        """The text of a docstring section (``Statement``, ``Check``)."""
        lines, out, inside = self.doc.splitlines(), [], False
        for line in lines:
            if line.strip() in ("Statement", "Derivation", "Check"):
                inside = line.strip() == name
                continue
            if inside:
                out.append(line)
        return "\n".join(out).strip("\n")
