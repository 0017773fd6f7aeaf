r"""A lemma's title names it; it claims nothing.

The title (``Lemma <id> (<title>): …``) and the docstring's Statement section are prose that no layer of the checker
reads: row_shift retitled "softmax is ¼-Lipschitz" was proved and listed so. Prose is not parsed. Instead

* every place that prints a lemma (``attnreg proofs``, ``proofs show`` in md and LaTeX, the Coq export, ``attnreg
  verify``'s report) prints the formal claim (:mod:`._statement`) as THE statement, and the title only as a name and
  the Statement section as "Explanation (prose, not checked)";
* :func:`title_failure` refuses a title holding what a quantitative claim is written with. The rule, an allow-list
  of characters and a deny-list of words:

  - characters: the ASCII letters, the letters of the Greek alphabet (``α``, ``Ω``: U+0391–U+03A9,
    U+03B1–U+03C9) and the modifier letter ``ᵀ``, spaces and the punctuation ``, ' ’ - ( ) _``; an ASCII digit only
    directly after a letter or a digit that is (the index of a name: ``A1``, ``A2``). So no relation or operator
    symbol (``≤ ≥ < > = ≠ ≈ + − * / ^ ‖ | ⊗``), no vulgar fraction or superscript (``¼ ½ ²``), no number (``4``,
    ``1/2``). Found in review (RVPROOFS4): "letters of any script" let look-alikes through — ``ǁJǁ ᐸ ᒿ`` (Latin
    clicks, Canadian syllabics), ``二`` and ``一`` (CJK "two", "one": they read ``=`` and ``−``), ``ꓽ`` (Lisu, reads
    ``:``), ``ᐟ`` (reads ``/``), ``ᶾ`` (reads ``³``), a digit of another script after a letter (``R٤``, ``A𝟒``) and
    fullwidth or Cyrillic spellings of listed words (``ｈａｌｆ``, ``hаlf``);
  - a word may not mix Latin and Greek letters (``hαlf`` reads "half");
  - words (whole words, any case): number words (``one``, ``half``, ``quarter``, ``fourth``, ``halved``, …),
    relation words (``equals``, ``times``, ``most``, ``least``, ``less``, ``bounded``, ``constant``, ``squared``, …)
    and words of the trust base (``Coq``, ``z3``, ``proved``, ``verified``, ``all``: "all n, d (Coq" is the status
    of a step proved by Coq, not a name), :data:`WORDS`;
  - a hyphen, underscore or apostrophe directly before "Lipschitz" (``R-Lipschitz``, ``R_Lipschitz``: a constant
    written into the name).

  This cannot stop words from claiming ("α vanishes" was added; "α is tight", "R lO" with l and O read as 1 and 0,
  Greek Ι and Ο alone, "R4" read as R⁴ still pass: a word list is never complete); that is why the printouts above
  never present the title as a statement. The rule makes the printed name carry no number, relation or constant that
  a reader could take for the proved one.
"""
from __future__ import annotations

import re
import unicodedata

PUNCTUATION = frozenset(" ,'’-()_")
WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve hundred thousand million half halves third thirds
quarter quarters twice thrice double triple once
equal equals equality equalling times plus minus over divided than less greater more fewer most least exceed exceeds
bounded constant below above vanishes vanish
first second fourth fifth sixth seventh eighth ninth tenth fourths fifths sixteenth twenty thirty forty fifty sixty
seventy eighty ninety dozen halved halving quartered doubled tripled squared cubed square cube zeroth
smaller larger bigger greater lesser under within exceeding nonexpansive contractive contraction
coq z3 cvc5 proved proven proof verified certified confirmed checked all
""".split())
GREEK = frozenset(map(chr, [*range(0x391, 0x3A2), *range(0x3A3, 0x3AA), *range(0x3B1, 0x3CA)]))
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") | GREEK | {"ᵀ"}


def title_failure(title: str) -> str:
    """Why ``title`` is not a name under the rule of the module docstring ("" when it is one)."""
    if type(title) is not str or not title.strip():
        return "its title is empty or not a plain str"
    for i, ch in enumerate(title):
        if ch in LETTERS or ch in PUNCTUATION:
            continue
        if ch in "0123456789" and _in_name(title, i):
            continue
        return (f"its title {title!r} holds {ch!r} ({unicodedata.name(ch, unicodedata.category(ch))}): a title names "
                "the lemma and claims nothing, so it may hold only ASCII or Greek letters, ᵀ, spaces, the punctuation "
                ", ' ’ - ( ) _ and digits inside a name such as A1 (proofs/_title.py); the claim is the formal "
                "statement")
    for word in re.findall(r"[^\W\d_]+", title):
        if any(ch in GREEK for ch in word) and any(ch.isascii() for ch in word):
            return (f"its title {title!r} holds the word {word!r}, which mixes Greek and Latin letters (a look-alike "
                    "spelling): a title names the lemma and claims nothing (proofs/_title.py); the claim is the formal "
                    "statement")
    words = [w for w in re.findall(r"[^\W_]+", title.lower()) if w in WORDS]
    if words:
        return (f"its title {title!r} holds the word {words[0]!r}, which states a number, a relation or a trust "
                "base: a title names the lemma and claims nothing (proofs/_title.py); the claim is the formal "
                "statement")
    if re.search(r"[-_'’]\s*lipschitz", title, re.IGNORECASE):  # R-Lipschitz, and R_Lipschitz (review RVPROOFS4)
        return (f"its title {title!r} writes a constant before \"Lipschitz\": a title names the lemma and claims "
                "nothing (proofs/_title.py); the claim is the formal statement")
    return ""


def _in_name(title: str, i: int) -> bool:
    """Whether the digit at ``i`` continues a name: the run of digits it ends begins directly after a letter."""
    while i >= 0 and title[i] in "0123456789":
        i -= 1
    return i >= 0 and title[i] in LETTERS


__all__ = ["GREEK", "LETTERS", "PUNCTUATION", "WORDS", "title_failure"]
