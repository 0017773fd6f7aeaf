r"""A lemma as a proof a reader can follow: Markdown (terminal) or LaTeX.

Both show the formal claim as the statement (the title as a name and the docstring's Statement section as
"Explanation (prose, not checked)": neither is read by the checker, :mod:`._title`), the hypotheses of a
bound, every step with its justification (the rule's wording for a named rule, the side identities, the
lemmas cited; for a citation its renaming and how each hypothesis of the cited lemma is met), the running
bound after each estimate, the conclusion with how sympy compared the composed constant to the stated
one, the lemmas used, and how the lemma is checked. Prose and step claims are written in Unicode
math; :func:`tex` turns them into LaTeX.
"""
from __future__ import annotations

import re

import sympy as sp

from . import LEMMAS, index_table
from ._algebra import checker_sizes
from ._checker import Verdict
from ._core import INSTANCE, RULES, Estimate, Lemma, Step
from ._fixed import construction, reviewed
from ._rules import trusted_rules
from ._sizes import NOT_PROBED_LARGER, built, identities
from ._z3 import witness
from .export_coq import CHAINS
from .symbols import TEX, hypothesis

REL = {"<=": "≤", ">=": "≥", "=": "="}
EXPLANATION = "Explanation (prose, not checked)"  # the docstring's Statement section: the statement is the claim
SECTIONS = (EXPLANATION, "Proof", "Lemmas used", "Check", "Trust base")
PROSE = ("The title is a name, not a claim (proofs/_title.py), and the Explanation is prose: neither is checked; the "
         "statement is the formal claim above.")
REL_TEX = {"<=": r"\le", ">=": r"\ge", "=": "="}

_TEX = {
    "α": r"\alpha", "β": r"\beta", "λ": r"\lambda", "μ": r"\mu", "δ": r"\delta", "ε": r"\varepsilon",
    "∇": r"\nabla", "∂": r"\partial", "∘": r"\circ", "⊗": r"\otimes", "‖": r"\|", "≤": r"\le", "≥": r"\ge",
    "−": "-", "·": r"\cdot", "⟨": r"\langle", "⟩": r"\rangle", "ᵀ": r"^{\top}", "²": "^{2}", "³": "^{3}",
    "⁻¹": "^{-1}", "₂": "_2", "₁": "_1", "ₙ": "_n", "∈": r"\in", "…": r"\dots", "Σ": r"\sum", "√": r"\sqrt",
    "∞": r"\infty", "ℓ": r"\ell", "ᵗ": "^{t}", "′": "'", "⇒": r"\Rightarrow", "→": r"\to", "≠": r"\ne",
    "₀": "_0", "×": r"\times", "⁻": "^{-}", "ⁿ": "^{n}", "¹": "^{1}", "⁴": "^{4}", "∋": r"\ni", "½": r"\tfrac12",
    "¼": r"\tfrac14", "π": r"\pi", "∀": r"\forall",
}


def tex(s: str) -> str:
    """Prose with Unicode math as LaTeX text: each math character becomes its own inline math span."""
    out = []
    for ch in s.replace("⁻¹", "\x00"):
        if ch == "\x00":
            out.append(r"\(^{-1}\)")
        elif ch in _TEX:
            out.append(rf"\({_TEX[ch]}\)")
        elif ch in "_&%#${}":
            out.append("\\" + ch)
        elif ch == "^":
            out.append(r"\^{}")
        elif ch == "|":
            out.append(r"\(|\)")
        else:
            out.append(ch)
    return "".join(out)


def _expr(e, fmt):
    return sp.latex(e, symbol_names=TEX) if fmt == "latex" else sp.sstr(e).replace("**", "^")


def _bound_line(lhs, rel, rhs, fmt):
    if fmt == "latex":
        return rf"\({_expr(lhs, fmt)} {REL_TEX[rel]} {_expr(rhs, fmt)}\)"
    return f"{_expr(lhs, fmt)} {REL[rel]} {_expr(rhs, fmt)}"


def _math(e, fmt):
    return rf"\({_expr(e, fmt)}\)" if fmt == "latex" else _expr(e, fmt)


def citation_lines(e: Estimate, known: dict, fmt: str) -> list[str]:
    """How a citation instantiates the cited lemma: its renaming (``M := R^2``) and, for each hypothesis of
    the cited lemma, the lemma or instance that discharges it, or "assumed here"."""
    t = tex if fmt == "latex" else (lambda s: s)  # noqa: E731
    cited, mapping = e.cite
    out = []
    if mapping:
        out.append(f"instance of Lemma {t(cited)}: " + ", ".join(f"{_math(a, fmt)} := {_math(b, fmt)}"
                                                                 for a, b in mapping))
    lem, done = known.get(cited), dict(e.discharge)
    for h in getattr(lem, "assume", ()):
        by_, parsed = done.get(h), hypothesis(h)
        here = ""
        if parsed is not None and mapping:
            renamed = sp.sympify(parsed[2]).subs(dict(mapping), simultaneous=True)
            if renamed != parsed[2]:
                rel = rf"\({REL_TEX[parsed[1]]}\)" if fmt == "latex" else REL[parsed[1]]
                here = f" (here {rel} {_math(renamed, fmt)})"
        if by_ is None:
            how = "assumed here"
        elif by_ == INSTANCE:
            how = "holds by the instance (R := the norm it bounds)"
        else:
            g = known[by_].goal if by_ in known else None
            how = f"by Lemma {t(by_)}" + (f": {_bound_line(g.lhs, g.rel, g.rhs, fmt)}" if g is not None else "")
        out.append(f"hypothesis {t(h)}{here} of {t(cited)}: {how}")
    return out


def steps_lines(lemma: Lemma, verdict: Verdict | None, fmt: str, known: dict) -> list[tuple[str, list[str]]]:
    """``(step, [justification lines])`` for every step, at the lemma's first symbolic size."""
    sizes = verdict.sizes if verdict else checker_sizes(lemma)[0]  # the base size the claim is read at, first
    where = ", ".join(f"n={a}, d={b}" for a, b in sizes)
    out, trail = [], list(verdict.trail) if verdict else []
    t = tex if fmt == "latex" else (lambda s: s)  # noqa: E731
    rows = {r.label: r.status for r in index_table.rows(lemma)}
    scope = lambda label: {"all n, d": "; proved for all n, d", "FAILED": "; index form FAILED",  # noqa: E731
                           index_table.COQ: "; proved for all n by a Coq theorem compiled in CI, see Trust base"}.get(
        rows.get(label, ""), "; fixed sizes only, see Trust base")
    for k, s in enumerate(built(lemma, tuple(sizes[0])), 1):
        sub = []
        if isinstance(s, Estimate):
            head = _bound_line(s.lhs, s.rel, s.rhs, fmt)
            why = f" — {t(s.why)}" if s.rule != "assumption" else ""
            sub.append(f"by {t(s.rule)}: {t(RULES.get(s.rule, '?'))}{why}")
            sub += [f"side condition: {t(c.claim)} ({t(c.why)}; exact identity, sympy at {where}"
                    f"{scope(f'step {k} side {j}')})" for j, c in enumerate(s.side, 1)]
            if s.cite:
                sub += citation_lines(s, known, fmt)
        else:
            head = t(s.claim)
            sub.append(f"{t(s.why)} [exact identity, sympy at {where}{scope(f'step {k}')}]")
        sub += [f"uses Lemma {t(u)}: {t(known[u].claim)}" for u in s.uses if u in known]
        if isinstance(s, Estimate) and trail:
            sub.append("so far: " + _bound_line(lemma.goal.lhs, lemma.goal.rel, trail.pop(0), fmt))
        out.append((head, sub))
    return out


def _section(lemma, name, fmt):
    text = lemma.section(name)
    if fmt != "latex":
        return text
    return "\\\\\n".join(tex(line.strip()) for line in text.splitlines() if line.strip())


def render(lemma: Lemma, fmt: str = "md", verdict: Verdict | None = None, numeric=None,
           known: dict | None = None) -> str:
    """The whole proof of ``lemma`` in ``fmt`` ("md" or "latex")."""
    known = LEMMAS if known is None else known
    t = tex if fmt == "latex" else (lambda s: s)  # noqa: E731
    status = ("proved" if verdict.ok else "FAILED") if verdict else "not checked"
    body = [f"Status: {status}" + (f" ({t(verdict.detail)})" if verdict else "")]
    if numeric is not None:
        body.append(f"Numeric route ({'confirmed' if numeric.ok else 'FAILED'}): {t(numeric.detail)}")
    elif verdict is not None and verdict.numeric_ok is not None:  # the layers' result, not a search of its text
        body.append(f"Numeric route ({'confirmed' if verdict.numeric_ok else 'FAILED'}): "
                    f"{t(verdict.numeric)}")
    body += ["", EXPLANATION, _section(lemma, "Statement", fmt), ""]
    if lemma.assume:
        body += ["Hypotheses (both points of a Lipschitz bound satisfy them): " + ", ".join(lemma.assume), ""]
    if lemma.bound is not None:
        b = lemma.bound
        body += [f"Bound: quantity={b.quantity}, form={b.form}, kind={b.kind}, version={b.version}, wrt={b.wrt}, "
                 f"wrt_norm={b.wrt_norm}, loss_scale={b.loss_scale}, constant={_expr(b.constant(), 'md')} "
                 "(provenance: derived here)", ""]
    body.append("Proof")
    for k, (head, sub) in enumerate(steps_lines(lemma, verdict, fmt, known), 1):
        body.append(f"{k}. {head}" + "".join(("\\\\ \\quad " if fmt == "latex" else "\n   ") + x for x in sub))
    if lemma.goal is not None and verdict is not None and verdict.composed is not None:
        g = lemma.goal
        how = "equal to" if sp.simplify(g.rhs - verdict.composed) == 0 else "shown by sympy to be within"
        body.append(f"Conclusion: {_bound_line(g.lhs, g.rel, verdict.composed, fmt)}, {how} the stated "
                    f"{_bound_line(g.lhs, g.rel, g.rhs, fmt)}. ∎" if fmt != "latex" else
                    f"Conclusion: {_bound_line(g.lhs, g.rel, verdict.composed, fmt)}, {how} the stated "
                    f"{_bound_line(g.lhs, g.rel, g.rhs, fmt)}. \\(\\blacksquare\\)")
    if lemma.requires:
        body += ["", "Lemmas used"] + [f"- {u}: {t(known[u].claim)} (name: {t(known[u].title)})"
                                       for u in lemma.requires]
    body += ["", "Check", _section(lemma, "Check", fmt)]
    body += ["", "Trust base"] + [t(line) for line in trust_base(lemma, verdict)]
    if fmt == "latex":
        return _latex(lemma, body)
    head = [f"# Lemma {lemma.id} ({lemma.title})", "", f"**Statement (formal, checked).** {lemma.claim}", "",
            f"**How it is checked.** {formal_note(lemma, fmt)}", "", f"*{PROSE}*", ""]
    return "\n".join(head + [("## " + b if b in SECTIONS else b) for b in body]) + "\n"


def formal_note(lemma: Lemma, fmt: str) -> str:
    """What the lemma states formally, and how the checker ties it to the proof (:mod:`._statement`)."""
    t = tex if fmt == "latex" else (lambda s: s)  # noqa: E731
    steps = lambda ks: ("step " if len(ks) == 1 else "steps ") + ", ".join(map(str, ks))  # noqa: E731
    if lemma.goal is not None:
        g = lemma.goal
        hyp = f" under the hypotheses {t(', '.join(lemma.assume))}" if lemma.assume else ""
        return (f"the goal {_bound_line(g.lhs, g.rel, g.rhs, fmt)}{hyp}, composed from the steps below by sympy; "
                "the checker requires the statement above to be exactly this goal with its hypotheses.")
    if not lemma.shows:
        return "none: the lemma shows no step, so its claim is prose (the checker refuses it)."
    claims = lambda ks: ("the claim of " if len(ks) == 1 else "the claims of ") + steps(ks)  # noqa: E731
    prem = (f"if {claims(lemma.premises)} ({_premise_note(lemma)}), then " if lemma.premises else "")
    return (f"{prem}{claims(lemma.shows)} of the proof below, joined by \"; \" — the checker requires the "
            "statement above to be exactly this text.")


def _premise_note(lemma: Lemma) -> str:
    """What the premises are: the hypothesis of the claim, and which of them hold by the construction of the lemma's
    objects (only those reviewed so, :data:`._fixed.CONSTRUCTIONS`; a premise is not said to hold otherwise)."""
    steps = built(lemma, checker_sizes(lemma)[0][0])
    made = [k for k in lemma.premises if type(k) is int and 1 <= k <= len(steps) and isinstance(steps[k - 1], Step)
            and construction(lemma.id, f"step {k}", steps[k - 1])]
    if not made:
        return "a premise: the hypothesis of what follows"
    return ("a premise: the hypothesis of what follows; " + ("step " if len(made) == 1 else "steps ")
            + ", ".join(map(str, made)) + " hold" + ("s" if len(made) == 1 else "")
            + " by the construction of the lemma's objects, reviewed so (proofs/_fixed.py CONSTRUCTIONS)")


def _latex(lemma: Lemma, body: list[str]) -> str:
    name = lemma.id.replace("_", "\\_")
    out = [rf"\subsection*{{Lemma \texttt{{{name}}} ({tex(lemma.title)})}}",
           rf"\textbf{{Statement (formal, checked).}} {tex(lemma.claim)}", "",
           rf"\textbf{{How it is checked.}} {formal_note(lemma, 'latex')}", "", rf"\emph{{{tex(PROSE)}}}", ""]
    in_list = False
    for b in body:
        if b in SECTIONS:
            if in_list:
                out.append(r"\end{enumerate}" if b != "Check" or not in_list else r"\end{enumerate}")
                in_list = False
            out.append(rf"\paragraph{{{b}.}}")
            if b == "Proof":
                out.append(r"\begin{enumerate}")
                in_list = True
            continue
        if in_list and re.match(r"\d+\. ", b):
            out.append(r"\item " + b.split(". ", 1)[1])
        elif in_list and b.startswith("Conclusion"):
            out += [r"\end{enumerate}", b]
            in_list = False
        elif b.startswith("- "):
            out.append(r"\quad " + b[2:] + r"\\")
        else:
            if in_list and b == "":
                out.append(r"\end{enumerate}")
                in_list = False
            out.append(b)
    if in_list:
        out.append(r"\end{enumerate}")
    return "\n".join(out) + "\n"


def trust_base(lemma: Lemma, verdict: Verdict | None) -> list[str]:
    """What the verdict rests on: sizes of the identity steps, checked and trusted rules, witnesses."""
    sizes = verdict.sizes if verdict else ()
    where = ", ".join(f"n={a}, d={b}" for a, b in sizes) or "(not checked)"
    steps = built(lemma, tuple(sizes[0] if sizes else checker_sizes(lemma)[0][0]))
    idents = sum(isinstance(s, Step) for s in steps) + sum(len(getattr(s, "side", ())) for s in steps)
    table = index_table.rows(lemma)
    done = [r for r in table if r.status == "all n, d"]
    out = [f"- Proved for all n and d: {len(done)} of {len(table)} identity steps (steps and side conditions), "
           "each in index notation with symbolic n and d (proofs/index_vector.py, proofs/index_matrix.py: the "
           "normal form of lhs − rhs is 0, or the index-count argument of proofs/index_count.py) and shown to be "
           "the lemma's own step at n=3, d=2 (at a random point, 60 "
           "digits; exactly by sympy in the slow test tier)"
           + (": " + ", ".join(r.label for r in done) if done else ".")]
    mine = dict(identities(lemma))
    for r in table:
        if r.status == "FAILED":
            out.append(f"- Index form FAILED: {r.label} ({r.claim}) — {r.how}")
        elif r.status == index_table.COQ:
            out.append(f"- Proved for every n by a Coq theorem, not by index notation, and reviewed by hand "
                       f"(proofs/_fixed.py): {r.label} ({r.claim}) — {r.how}")
        elif r.status != "all n, d":
            why = reviewed(lemma.id, r.label, mine[r.label]) if r.label in mine else None
            out.append(f"- Fixed sizes only, reviewed by hand (proofs/_fixed.py) as holding for every n and d: "
                       f"{r.label} ({r.claim}) — {why}" if why else
                       f"- Fixed sizes only and NOT among the reviewed fixed-size steps (proofs/_fixed.py), so not "
                       f"proved for every n: {r.label} ({r.claim}) — {r.how}")
    out.append(f"- At fixed sizes: {idents} exact identities (steps and side conditions) decided by sympy at {where}, "
               "the checker's sizes (never fewer than n = 3, d = 2), built at the size asked for (a second build "
               "at n = 3, d = 3), no step built at n = 2, d = 1 or at n = 3, d = 3 that is not built at n = 3, "
               "d = 2 (compared by claim text; a step built only at a size no probe uses, such as n = 2, d = 2 or "
               "n ≥ 6, is not seen), " + (f"not built at n = 4 or 5 ({NOT_PROBED_LARGER[lemma.id]})"
                                     if lemma.id in NOT_PROBED_LARGER
                                     else "the same shape at n = 4 and n = 5, d = 2 (built, not decided there)")
               + ". For a step listed above as fixed sizes only this "
               "does not by itself prove it for every n and d (e₄(v) = 0 written by Newton's identities is one "
               "formula at every size, zero at n ≤ 3 and v_0 v_1 v_2 v_3 at n = 4): the checker accepts such a "
               "step only when it is among the hand-reviewed fixed-size steps of proofs/_fixed.py (keyed by the "
               "lemma, the step's position and a digest of the step as built), whose reason is given above.")
    if lemma.goal is not None:
        checked, trusted = trusted_rules(lemma, steps)
        out.append("- Rules checked against statements or the checker's definitions: " + (", ".join(checked) or
                                                                                          "none"))
        out.append("- Rules checked for shape and accepted only at the reviewed applications of "
                   "proofs/_reviewed.py, their applicability trusted as in a written proof: "
                   + (", ".join(trusted) or "none"))
        agrees, detail = witness(lemma, sizes[0] if sizes else lemma.sizes[0])
        out.append(f"- Witness z3 ({'agrees' if agrees else 'does not agree' if agrees is False else 'not run'}): "
                   f"{detail}")
    if lemma.id in CHAINS:
        extra = " and the finite-sum identity of step 2 for every n (SoftmaxRowSum.v)" \
            if lemma.id == "softmax_jacobian_half" else ""
        out.append(f"- Witness Coq: the chain's composition{extra} is written by `attnreg proofs export --coq DIR` "
                   "and compiled by coqc in the slow test tier when coqc is installed.")
    else:
        out.append("- Witness Coq: none (this lemma is not exported).")
    out.append("- Numeric layers: the lemma's own route and the checker's own sampling (of the goal, or of the "
               "identity steps at n=3, d=2 and as built at n=3, d=3), both at 50+ digits; "
               + ("both pass." if verdict is not None and verdict.ok else "see Status."))
    return out
