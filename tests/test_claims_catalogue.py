"""A wider catalogue of false and true claims at a realistic budget (slow tier), and the built-in
claims: none may be refuted."""
import pytest

from attnreg.verify.claims import builtin, check_claim, claimfile, replay

V = ["norm(A) <= R", "norm(x) <= R"]
Vb = V + ["norm(b) <= 1"]
M3 = ["norm(A1) <= R", "norm(A2) <= R", "norm(X) <= R"]
M3b = ["norm(A1) <= R", "norm(A2) <= R", "norm(b) <= 1"]
MK = ["norm(kron(A1,A2)) <= R", "norm(X) <= R"]


def make(cid, form, version, quantity, kind, wrt, assume, constant, **extra):
    table = dict(id=cid, provenance="derived", form=form, quantity=quantity, kind=kind, assume=assume,
                 constant=constant, **extra)
    table.update({k: v for k, v in dict(version=version, wrt=wrt).items() if v})
    return claimfile.from_table(table, "catalogue")


FALSE = [
    make("alpha-up-no-n", "vector", None, "alpha", "upper", None, V, "exp(R**2)"),
    make("alpha-lipx-no-sqrtn", "vector", None, "alpha", "lipschitz", "x", V, "R*exp(R**2)"),
    make("alpha-lipa-no-sqrtn", "vector", None, "alpha", "lipschitz", "A", V, "R*exp(R**2)"),
    make("h-lipx-no-sqrtn", "vector", "rescaled", "h", "lipschitz", "x", Vb, "R*exp(R**2)"),
    make("h-lipx-two", "vector", "rescaled", "h", "lipschitz", "x", Vb, "2*R*exp(R**2)"),
    make("mgrad-r2", "matrix", "normalized", "grad", "lipschitz", "X", M3b, "3.25*R**2"),
    make("mgrad-over-n", "matrix", "normalized", "grad", "lipschitz", "X", M3b, "3.25*R**4/n"),
    make("u-lipx-no-r", "vector", None, "u", "lipschitz", "x", V, "exp(R**2)"),
    make("f-lipx-quarter", "vector", None, "f", "lipschitz", "x", V, "R/4"),
    make("f-lipa-quarter", "vector", None, "f", "lipschitz", "A", V, "R/4"),
    make("alpha-low-half", "vector", None, "alpha", "lower", None, V, "n*exp(-R**2/2)"),
    make("loss-up-one", "vector", "normalized", "loss", "upper", None, Vb, "1"),
    make("malpha-up-no-n", "matrix", None, "alpha", "upper", None, MK, "exp(R**2)"),
    make("mf-lipx-sep-norms", "matrix", None, "f", "lipschitz", "X", M3, "R/2"),
    make("u-up-no-sqrtn", "vector", None, "u", "upper", None, V, "exp(R**2)"),
    make("f-low-half", "vector", None, "f", "lower", None, V, "1/2"),
    make("gradr-exp1", "vector", "rescaled", "grad", "lipschitz", "x", Vb, "(3*n + 3*sqrt(n) + 2)*exp(R**2)*R**2"),
    make("f-lipx-sqrtd", "vector", None, "f", "lipschitz", "x", V, "R/(2*sqrt(d))"),
    make("mh-lipx-no-sqrtn", "matrix", "rescaled", "h", "lipschitz", "X", MK + ["norm(b) <= 1"], "2*R*exp(R**2)"),
    make("mu-lipa1-no-r", "matrix", None, "u", "lipschitz", "A1", M3, "exp(R**3)"),
    make("gradn-full-half", "vector", "normalized", "grad", "lipschitz", "x", ["norm(A) <= R", "norm(b) <= 1"],
         "0.5*R**2", loss_scale="full"),
    make("loss-simplex-half-n", "matrix", "normalized", "loss", "upper", None, MK + ["simplex(b)"], "n/2"),
    make("f-step-quarter", "vector", None, "f", "lipschitz", "x",
         ["norm(A) < R", "norm(x) < R", "norm_inf(A(x-y)) < 0.001", "R >= 1"], "R/4"),
]

TRUE = [
    make("f-up-one", "vector", None, "f", "upper", None, V, "1"),
    make("f-lipx-r", "vector", None, "f", "lipschitz", "x", V, "R"),
    make("alpha-up", "vector", None, "alpha", "upper", None, V, "n*exp(R**2)"),
    make("u-lipa", "vector", None, "u", "lipschitz", "A", V, "R*exp(R**2)"),
    make("gradn-lipa", "vector", "normalized", "grad", "lipschitz", "A", Vb, "1 + 3.25*R**2"),
    make("mf-lipa2", "matrix", None, "f", "lipschitz", "A2", M3, "R**2/2"),
    make("mh-lipx", "matrix", "rescaled", "h", "lipschitz", "X", MK + ["norm(b) <= 1"], "(1+sqrt(n))*R*exp(R**2)"),
    make("u-up", "vector", None, "u", "upper", None, V, "sqrt(n)*exp(R**2)"),
    make("f-low", "vector", None, "f", "lower", None, V, "1/sqrt(n)"),
    make("loss-up-two", "vector", "normalized", "loss", "upper", None, Vb, "2"),
    make("malpha-up", "matrix", None, "alpha", "upper", None, MK, "n*exp(R**2)"),
    make("malpha-low", "matrix", None, "alpha", "lower", None, MK, "n*exp(-R**2)"),
    make("mf-lipx-sep", "matrix", None, "f", "lipschitz", "X", M3, "R**2/2"),
    make("c-lip-simplex", "vector", "normalized", "c", "lipschitz", "x", V + ["simplex(b)"], "R/2"),
]


@pytest.mark.slow
@pytest.mark.parametrize("claim", FALSE, ids=lambda c: c.id)
def test_catalogue_false_claims_refuted(claim, tmp_path):
    o = check_claim(claim, budget=2.0, seed=0, out_dir=tmp_path)
    assert o.status == "refuted", o.evidence
    assert replay(o.counterexample).stands


@pytest.mark.slow
@pytest.mark.parametrize("claim", TRUE, ids=lambda c: c.id)
def test_catalogue_true_claims_survive(claim, tmp_path):
    o = check_claim(claim, budget=2.0, seed=0, out_dir=tmp_path)
    assert o.status in ("survived", "proved"), o.evidence


@pytest.mark.slow
@pytest.mark.parametrize("claim", builtin(), ids=lambda c: c.id)
def test_builtin_claims_never_refuted(claim, tmp_path):
    o = check_claim(claim, budget=3.0, seed=0, out_dir=tmp_path)
    assert o.status in ("survived", "proved"), o.evidence
    if claim.provenance == "derived":
        assert o.worst["slack"] >= 1 - 1e-12
