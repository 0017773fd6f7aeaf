"""The "proved" decision (verify/claims/prove.py) against stand-in lemmas with the proofs/ interface."""
from dataclasses import dataclass

import pytest
import sympy

from attnreg.verify.claims import prove
from attnreg.verify.claims.claimfile import from_table
from attnreg.verify.claims.expr import parse

pytestmark = pytest.mark.xdist_group("lemmas")  # one worker verifies every lemma once (a cache per process)

BASE = dict(id="c", provenance="derived", form="vector", quantity="f", kind="lipschitz", wrt="x",
            assume=["norm(A) <= R", "norm(x) <= R"], constant="R/2")


@dataclass(frozen=True)
class Bound:  # the fields of proofs/_core.py: Bound
    quantity: str
    form: str
    version: str | None
    kind: str
    wrt: str | None
    wrt_norm: str | None
    loss_scale: str
    assume: tuple
    text: str

    def constant(self):
        return parse(self.text).to_sympy()


@dataclass(frozen=True)
class Lemma:
    bound: Bound


def lemma(text="R/2", assume=("norm(A) <= R",), **over):
    fields = dict(quantity="f", form="vector", version=None, kind="lipschitz", wrt="x", wrt_norm="fro",
                  loss_scale="half", assume=tuple(assume), text=text)
    fields.update(over)
    return [("softmax-lipschitz", Lemma(Bound(**fields)))]


def claim(**over):
    table = dict(BASE, **over)
    return from_table({k: v for k, v in table.items() if v is not None})


def test_equal_constant_is_proved():
    d = prove.decide(claim(), lemma())
    assert d.status == "proved" and d.lemma == "softmax-lipschitz"


def test_larger_claimed_constant_is_proved_smaller_is_not():
    assert prove.decide(claim(constant="n**1.5*exp(10*R**2)", assume=["norm(A) <= R", "R >= 4"]),
                        lemma()).status == "proved"
    d = prove.decide(claim(constant="R/4"), lemma())
    assert d.status == "undecided" and "could not show" in d.reason


def test_missing_sqrt_n_is_not_proved():
    lem = lemma("sqrt(n)*R*exp(R**2)", quantity="alpha")
    assert prove.decide(claim(quantity="alpha", constant="n*R*exp(R**2)"), lem).status == "proved"
    assert prove.decide(claim(quantity="alpha", constant="R*exp(R**2)"), lem).status == "undecided"


def test_hypotheses_must_be_implied():
    assert prove.decide(claim(assume=["norm(A) <= R/2"]), lemma()).status == "proved"
    d = prove.decide(claim(assume=["norm(A) <= 2*R"]), lemma())
    assert d.status == "undecided" and "not implied" in d.reason
    assert prove.decide(claim(assume=["norm(x) <= R"]), lemma()).status == "undecided"
    # a parameter range: R >= 4 is implied by R >= 5, not by R >= 3
    lem = lemma(assume=("norm(A) <= R", "R >= 4"))
    assert prove.decide(claim(assume=["norm(A) <= R", "R >= 5"]), lem).status == "proved"
    assert prove.decide(claim(assume=["norm(A) <= R", "R >= 3"]), lem).status == "undecided"


def test_derived_implications():
    # simplex(b) gives norm(b) <= 1; separate bounds give the Kronecker bound; b is irrelevant to f
    lem = lemma(quantity="c", version="normalized", assume=("norm(A) <= R", "norm(b) <= 1"))
    assert prove.decide(claim(quantity="c", version="normalized", assume=["norm(A) <= R", "simplex(b)"]),
                        lem).status == "proved"
    covering = lemma(assume=("norm(A) <= R", "norm(b) <= 1"))
    assert prove.decide(claim(assume=["norm(A) <= R"]), covering).status == "proved"
    mlem = lemma(form="matrix", wrt="X", assume=("norm(kron(A1,A2)) <= R",))
    mclaim = claim(form="matrix", wrt="X", assume=["norm(A1) <= sqrt(R)", "norm(A2) <= sqrt(R)"])
    assert prove.decide(mclaim, mlem).status == "proved"


def test_statement_must_match():
    assert prove.decide(claim(wrt="A"), lemma()).status == "undecided"
    assert prove.decide(claim(wrt="A", wrt_norm="fro"), lemma(wrt="A", wrt_norm="spectral")).status == "undecided"
    assert prove.decide(claim(kind="upper", constant="1"), lemma()).status == "undecided"
    assert prove.decide(claim(form="matrix", wrt="X"), lemma()).status == "undecided"


def test_loss_scale_conversion_and_versions():
    lem = lemma("3.25*R**2", quantity="grad", version="normalized", assume=("norm(A) <= R", "norm(b) <= 1"))
    base = dict(quantity="grad", version="normalized", assume=["norm(A) <= R", "norm(b) <= 1"])
    assert prove.decide(claim(constant="3.25*R**2", **base), lem).status == "proved"
    assert prove.decide(claim(constant="3.25*R**2", loss_scale="full", **base), lem).status == "undecided"
    full = prove.decide(claim(constant="6.5*R**2", loss_scale="full", **base), lem)
    assert full.status == "proved" and sympy.simplify(full.constant - sympy.Rational(13, 2) * sympy.Symbol(
        "R", positive=True) ** 2) == 0
    assert prove.decide(claim(constant="3.25*R**2", **dict(base, version="rescaled")), lem).status == "undecided"


def test_lower_bounds_compare_the_other_way():
    lem = lemma("n*exp(-R**2)", quantity="alpha", kind="lower", wrt=None, assume=("norm(A) <= R", "norm(x) <= R"))
    base = dict(quantity="alpha", kind="lower", wrt=None)
    assert prove.decide(claim(constant="exp(-R**2)", **base), lem).status == "proved"
    assert prove.decide(claim(constant="n*exp(-R**2/2)", **base), lem).status == "undecided"


def test_no_lemmas_means_undecided():
    d = prove.decide(claim(), [])
    assert d.status == "undecided" and "no bound lemmas" in d.reason


@pytest.mark.parametrize("C,K,lo_R,expected", [
    ("(3*n+3*sqrt(n)+2)*exp(2*R**2)*R**2", "9*n*exp(2*R**2)*R**2", 0, True),
    ("(3*n+3*sqrt(n)+2)*exp(2*R**2)*R**2", "7*n*exp(2*R**2)*R**2", 0, False),
    ("(1+sqrt(n))*R*exp(R**2)", "2*n*R*exp(R**2)", 0, True),
    ("R", "R**2", 0, False),
    ("R", "R**2", 1, True),
    ("n*exp(-2*R**2)", "n*exp(-R**2)", 0, True),
])
def test_leq(C, K, lo_R, expected):
    lows = dict(n=sympy.Integer(1), d=sympy.Integer(1), R=sympy.Integer(lo_R))
    assert prove.leq(parse(C).to_sympy(), parse(K).to_sympy(), lows) is expected


def test_real_bound_class_of_proofs():
    # the interface of proofs/_core.py: Bound(quantity, form, kind, value, version, wrt, wrt_norm, loss_scale,
    # assume, lemma) with constant() -> sympy.Expr in the positive symbols n, d, R
    from attnreg.proofs import _core as core
    R = sympy.Symbol("R", positive=True)
    bound = core.Bound(quantity="f", form="vector", kind="lipschitz", value=R / 2, wrt="x",
                       assume=("norm(A) <= R",), lemma="softmax_lipschitz")
    lem = [("softmax_lipschitz", Lemma(bound))]
    assert prove.decide(claim(), lem).status == "proved"
    assert prove.decide(claim(constant="R/3"), lem).status == "undecided"
    assert prove.decide(claim(assume=["norm(x) <= R"]), lem).status == "undecided"


@pytest.mark.slow  # 64 s: every bound lemma verified and decided; the default tier decides the matching ones
def test_every_bound_lemma_proves_its_own_statement():
    # whatever proofs/ provides: a claim stated exactly as a lemma's bound must come out proved
    from attnreg import proofs

    for name, lem in prove.lemmas():
        b = lem.bound
        table = dict(id="own", provenance="derived", form=b.form, quantity=b.quantity, kind=b.kind,
                     constant=str(b.constant()), assume=list(b.assume), loss_scale=b.loss_scale)
        table.update({k: v for k, v in dict(version=b.version, wrt=b.wrt).items() if v})
        if b.wrt in ("A", "A1", "A2"):
            table["wrt_norm"] = b.wrt_norm
        own = from_table(table)
        assert prove.decide(own).status == "proved", (name, proofs.LEMMAS[name].bound)


@pytest.mark.parametrize("claim_assume,hypothesis,implied", [
    (["norm(A) <= R", "norm(x) <= R"], "norm(A) < R", False),  # equal but not strict
    (["norm(A) < R", "norm(x) <= R"], "norm(A) < R", True),
    (["norm(A) <= R", "norm(x) <= R", "R <= 10"], "R < 10", False),
    (["norm(A) <= R", "norm(x) <= R", "R < 10"], "R < 10", True),
    (["norm(A) <= R", "norm(x) <= R", "R <= 9"], "R < 10", True),
])
def test_strict_hypotheses_need_strict_or_smaller_assumptions(claim_assume, hypothesis, implied):
    claim = from_table(dict(id="s", provenance="derived", form="vector", quantity="f", kind="lipschitz", wrt="x",
                            constant="R", assume=claim_assume))
    assert prove._implied(hypothesis, claim, prove._lower_ends(claim)) is implied


def test_by_default_a_matching_lemma_is_used_only_if_its_proof_verifies(monkeypatch):
    """decide() without ``available`` checks just the lemmas whose statement is the claim's; one whose proof
    does not verify proves nothing."""
    from attnreg import proofs

    c = from_table(dict(id="f", provenance="derived", form="vector", quantity="f", kind="lipschitz", wrt="x",
                        constant="R", assume=["norm(A) <= R", "norm(x) <= R"]))
    assert prove.decide(c).status == "proved"
    checked = []

    class Failed:
        ok = False

    def refuse(lemma, *a, **k):
        checked.append(lemma)
        return Failed()

    monkeypatch.setattr(proofs, "verify", refuse)
    d = prove.decide(c)
    assert d.status == "undecided" and "does not verify" in d.reason
    assert checked and all(lem.bound is not None and c.measures_same(lem.bound) for lem in checked)


def test_a_lemma_whose_constant_cannot_prove_the_claim_is_not_verified(monkeypatch):
    """decide() checks a proof only for a lemma whose hypotheses and constant would prove the claim: a claim
    with a constant far below every lemma's verifies nothing (seconds to a minute each) and says why; a lemma
    that would prove it and does not verify still proves nothing."""
    from attnreg import proofs

    checked = []

    class Verdict:
        def __init__(self, ok):
            self.ok = ok

    monkeypatch.setattr(proofs, "verify", lambda lemma, *a, **k: checked.append(lemma) or Verdict(True))
    small = from_table(dict(id="f", provenance="derived", form="vector", quantity="f", kind="lipschitz", wrt="x",
                            constant="R / 1000000", assume=["norm(A) <= R", "norm(x) <= R"]))
    d = prove.decide(small)
    assert d.status == "undecided" and "could not show" in d.reason and "does not verify" not in d.reason
    assert checked == []
    true = from_table(dict(id="f", provenance="derived", form="vector", quantity="f", kind="lipschitz", wrt="x",
                           constant="R", assume=["norm(A) <= R", "norm(x) <= R"]))
    assert prove.decide(true).status == "proved" and len(checked) == 1
    monkeypatch.setattr(proofs, "verify", lambda lemma, *a, **k: checked.append(lemma) or Verdict(False))
    d = prove.decide(true)
    assert d.status == "undecided" and "does not verify" in d.reason and len(checked) >= 2
