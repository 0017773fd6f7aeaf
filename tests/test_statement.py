"""One statement vocabulary (attnreg/statement.py), one evaluator (reference/measure.py), one block signature."""
import itertools

import numpy as np
import pytest

import attnreg
from attnreg import reference, vector
from attnreg.proofs import LEMMAS, Bound
from attnreg.reference import make_context, measure
from attnreg.statement import KINDS, NEEDS_VERSION, QUANTITIES, WRT, Statement, StatementError
from attnreg.verify.claims.claimfile import from_table
from attnreg.verify.tolerances import tol

REL = tol("measure.float64").factor


def _claim_of(b):
    """The claims-file table that states exactly what the Bound ``b`` states."""
    table = dict(id="own", provenance="derived", form=b.form, quantity=b.quantity, kind=b.kind,
                 constant=str(b.constant()), assume=list(b.assume), loss_scale=b.loss_scale)
    table.update({k: v for k, v in dict(version=b.version, wrt=b.wrt, wrt_norm=b.wrt_norm).items() if v})
    return from_table(table)


def test_bound_and_claim_of_the_same_statement_have_equal_records():
    bounds = [lem.bound for lem in LEMMAS.values() if lem.bound is not None]
    assert len(bounds) >= 20
    for b in bounds:
        c = _claim_of(b)
        assert isinstance(b, Statement) and isinstance(c, Statement)
        assert c.as_statement() == b.as_statement(), b.lemma
        assert type(c.as_statement()) is Statement and c.measures_same(b) and b.measures_same(c)
    # and a record differs as soon as one field of the statement does
    b = LEMMAS["f_lipschitz_x"].bound
    c = _claim_of(b)
    changes = (dict(quantity="u"), dict(wrt="A"), dict(loss_scale="full"),
               dict(assume=("norm(A) <= R", "norm(x) <= R")))
    for change in changes:
        other = from_table(dict(c.raw, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in change.items()}))
        assert other.as_statement() != b.as_statement(), change


def test_bound_keyword_constructor_and_records():
    import sympy as sp
    R = sp.Symbol("R", positive=True)
    b = Bound(quantity="f", form="matrix", kind="lipschitz", wrt="A1", value=R ** 2 / 2, assume=("norm(A1) <= R",),
              lemma="t")
    assert b.wrt_norm == "spectral" and b.constant() == R ** 2 / 2 and b.version is None
    assert b.as_statement() == Statement(quantity="f", form="matrix", kind="lipschitz", wrt="A1",
                                         wrt_norm="spectral", assume=("norm(A1) <= R",))


@pytest.mark.parametrize("fields", [
    dict(quantity="q", form="vector", kind="upper"),
    dict(quantity="f", form="tensor", kind="upper"),
    dict(quantity="f", form="vector", kind="sideways"),
    dict(quantity="f", form="vector", kind="upper", version="normalized"),  # f does not depend on it
    dict(quantity="grad", form="vector", kind="upper"),  # grad needs one
    dict(quantity="grad", form="vector", kind="upper", version="scaled"),
    dict(quantity="f", form="vector", kind="lipschitz"),  # no wrt
    dict(quantity="f", form="vector", kind="lipschitz", wrt="X"),  # the matrix form's variable
    dict(quantity="f", form="vector", kind="upper", wrt="x"),
    dict(quantity="f", form="vector", kind="lipschitz", wrt="x", wrt_norm="spectral"),
    dict(quantity="f", form="vector", kind="lipschitz", wrt="A", wrt_norm="nuclear"),
    dict(quantity="loss", form="vector", kind="upper", version="normalized", loss_scale="double"),
    dict(quantity="f", form="vector", kind="upper", assume=(1,)),
])
def test_statement_rejects_what_is_outside_the_vocabulary(fields):
    with pytest.raises(StatementError):
        Statement(**fields)


# ---- one evaluator ------------------------------------------------------------------------------

def _point(form, rng, n=4, d=3, scale=0.6):
    B = rng.dirichlet(np.ones(n), size=n)
    if form == "vector":
        return dict(A=scale * rng.standard_normal((n, d)), b=B[0], x=scale * rng.standard_normal(d))
    return dict(A1=scale * rng.standard_normal((n, d)), A2=scale * rng.standard_normal((n, d)), B=B,
                X=scale * rng.standard_normal((d, d)))


def _statements():
    for q, form in itertools.product(QUANTITIES, ("vector", "matrix")):
        version = "normalized" if q in NEEDS_VERSION else None
        kinds = [("upper", None), ("lower", None)] + [("lipschitz", w) for w in WRT[form]]
        for kind, w in kinds:
            yield Statement(quantity=q, form=form, kind=kind, wrt=w, version=version)
    yield Statement(quantity="loss", form="matrix", kind="upper", version="rescaled", loss_scale="full")
    yield Statement(quantity="grad", form="vector", kind="lipschitz", wrt="A", wrt_norm="fro", version="rescaled",
                    loss_scale="full")


def test_float64_and_reference_routes_measure_the_same_number():
    rng, ctx = np.random.default_rng(3), make_context(50)
    rel = REL
    statements = list(_statements())
    assert {s.kind for s in statements} == set(KINDS)
    for s in statements:
        p, p1 = _point(s.form, rng), _point(s.form, rng)  # far pairs: no cancellation in q(p1) − q(p)
        p1 = dict(p, **{s.wrt: p1[s.wrt]}) if s.wrt else None
        fast, ref = measure.measure(s, p, p1), measure.measure(s, p, p1, ctx=ctx)
        assert abs(fast - float(ref)) <= rel * abs(float(ref)), (s, fast, ref)
        if p1 is not None:
            step = float(measure.step(s, p, p1, ctx=ctx))
            assert abs(measure.step(s, p, p1) - step) <= rel * step
            assert measure.ratio(s, 2.0, p, p1) == pytest.approx(fast / (2.0 * step), rel=rel)


def test_measured_numbers_against_direct_formulas():
    rng = np.random.default_rng(4)
    p = _point("matrix", rng)
    S = p["A1"] @ p["X"] @ p["A2"].T
    alpha = np.exp(S).sum(axis=1)
    up = Statement(quantity="alpha", form="matrix", kind="upper")
    low = Statement(quantity="alpha", form="matrix", kind="lower")
    assert measure.measure(up, p) == pytest.approx(alpha.max(), rel=REL)
    assert measure.measure(low, p) == pytest.approx(alpha.min(), rel=REL)
    full = Statement(quantity="loss", form="matrix", kind="upper", version="normalized", loss_scale="full")
    assert measure.measure(full, p) == pytest.approx(np.sum((np.exp(S) / alpha[:, None] - p["B"]) ** 2), rel=REL)
    lip = Statement(quantity="u", form="matrix", kind="lipschitz", wrt="A1")
    p1 = dict(p, A1=p["A1"] + 0.1 * rng.standard_normal(p["A1"].shape))
    S1 = p1["A1"] @ p["X"] @ p["A2"].T
    direct = np.linalg.norm(np.exp(S1) - np.exp(S)) / np.linalg.svd(p1["A1"] - p["A1"], compute_uv=False)[0]
    assert measure.ratio(lip, 1.0, p, p1) == pytest.approx(direct, rel=REL)
    with pytest.raises(ValueError, match="pair"):
        measure.measure(lip, p)


# ---- one signature for the building blocks ------------------------------------------------------

@pytest.mark.parametrize("name", ["u", "alpha", "log_alpha", "f", "c", "h"])
def test_every_block_takes_the_losses_arguments(name):
    rng = np.random.default_rng(5)
    m, v = _point("matrix", rng), _point("vector", rng)
    full = getattr(attnreg, name)(m["A1"], m["A2"], m["B"], m["X"])
    if name in ("u", "alpha", "log_alpha", "f"):  # the target is not used: the old call still works
        np.testing.assert_array_equal(full, getattr(attnreg, name)(m["A1"], m["A2"], m["X"]))
        np.testing.assert_array_equal(full, getattr(attnreg, name)(m["A1"], m["A2"], X=m["X"]))
        with pytest.raises(ValueError, match="B must have shape"):  # given, it is validated
            getattr(attnreg, name)(m["A1"], m["A2"], m["B"][:2], m["X"])
    ref = getattr(reference, name)(m["A1"], m["A2"], m["B"], m["X"], dps=30)
    np.testing.assert_allclose(np.array(ref.tolist(), dtype=float).reshape(np.shape(full)), full, rtol=REL)
    if name == "log_alpha":
        return
    vfull = getattr(vector, name)(v["A"], v["b"], v["x"])
    vref = getattr(reference.vector, name)(v["A"], v["b"], v["x"], dps=30)
    if name in ("u", "alpha", "f"):
        np.testing.assert_array_equal(vfull, getattr(vector, name)(v["A"], v["x"]))
        assert getattr(reference.vector, name)(v["A"], v["x"], dps=30) == vref
    np.testing.assert_allclose(np.array(vref.tolist() if hasattr(vref, "tolist") else vref, dtype=float)
                               .reshape(np.shape(vfull)), vfull, rtol=REL)


def test_float64_ratio_where_the_measured_number_underflows_is_inf_not_an_exception():
    """Matrix α at logits −800 underflows to 0 in float64 (the true value e^-800 ≈ 3.67e-348): the ratio
    C/α of a lower bound is then inf (a suspected violation for the digits to settle), not ZeroDivisionError;
    at 60 digits it is e^800 (closed form)."""
    s = Statement(quantity="alpha", form="matrix", kind="lower")
    p = dict(A1=np.array([[1.0]]), A2=np.array([[1.0]]), B=np.array([[1.0]]), X=np.array([[-800.0]]))
    assert measure.ratio(s, 1.0, p) == np.inf
    ctx = make_context(60)
    assert abs(measure.ratio(s, 1.0, p, ctx=ctx) / ctx.exp(800) - 1) < ctx.mpf(10) ** -50
