"""The index-count argument (proofs/index_count.py): a polynomial identity of finite sums whose terms have at
most K indices, every bound index in an entry, holds for every n once it holds at n = K. The code checks the
hypothesis and refuses where it fails (Σ_l 1 = n holds at n = 1 only)."""
import sympy as sp

from attnreg.proofs import index_matrix as im, index_table as it
from attnreg.proofs.index_count import by_count, hypothesis
from attnreg.proofs.index_form import A, b, n, x

l, m = sp.symbols("l m", integer=True)


def _free(key):
    return [ix for ax in it.axes(im.STEPS[key]()[2]) for ix in ax]


def test_the_count_agrees_with_the_normaliser_on_polynomial_identities():
    for key in (("kron_blocks", "step 5"), ("tensor_trick", "step 2"), ("tensor_trick", "step 3"),
                ("matrix_grad_normalized", "step 3")):
        lhs, rhs, _ = im.STEPS[key]()
        ok, how = by_count(lhs, rhs, _free(key))
        assert ok and it.proved("matrix", key)[0], (key, how)
        assert "holds at n=2, d=2" in how


def test_the_count_can_fail():
    """vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(Xᵀ) holds at d = 1; with K_d = 2 indices a term it is checked at d = 2 and
    fails there."""
    lhs, _, _ = im.STEPS[("tensor_trick", "step 2")]()
    flip = im.kron_vec(im.A1, im.A2, lambda a, c: im.X[c, a], im.j, im.mm)
    ok, why = by_count(lhs, flip, _free(("tensor_trick", "step 2")))
    assert not ok and "fails at n=2, d=2" in why


def test_a_bound_index_in_no_entry_is_refused():
    """Σ_l 1 = n: one index a term, so K = 1, and Σ_l 1 = 1 holds at n = 1 — yet it is false for n ≥ 2. The
    hypothesis (every bound index in an entry) fails and the code refuses, whatever the check at n = K says."""
    one = sp.Sum(1, (l, 0, n - 1))
    assert sp.Sum(1, (l, 0, 0)).doit() == 1  # at n = K = 1 the false identity holds
    ok, why = by_count(one, sp.Integer(1), ())
    assert not ok and "occurs in no entry" in why
    ok, why = by_count(sp.Sum(x[m], (l, 0, n - 1)), x[m], ((m, "n"),))  # Σ_l x_m = x_m, true at n = 1 only
    assert not ok and "occurs in no entry" in why
    assert hypothesis(sp.Sum(A[l, m] * b[l], (l, 0, n - 1)), ((m, "d"),))[0] is None  # l in an entry: applies
    # a fixed index value breaks the relabelling the argument rests on: refused too
    assert "neither free nor bound" in hypothesis(sp.Sum(A[l, 0] * b[l], (l, 0, n - 1)), ())[0]


def test_only_polynomials_in_the_entries():
    ok, why = by_count(sp.Sum(sp.exp(x[l]), (l, 0, n - 1)), sp.Integer(0), ())
    assert not ok and "not an entry" in why
    ok, why = by_count(sp.Sum(1 / x[l], (l, 0, n - 1)), sp.Integer(0), ())
    assert not ok and "not a polynomial factor" in why
    ok, why = by_count(sp.Sum(x[l], (l, 0, n - 2)), sp.Integer(0), ())
    assert not ok and "not 0 … n − 1" in why
