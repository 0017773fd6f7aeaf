"""The index-count argument (proofs/index_count.py): a polynomial identity of finite sums whose terms have at
most K indices, every bound index in an entry, holds for every n once it holds at n = K. The code checks the
hypothesis and refuses where it fails (Σ_l 1 = n holds at n = 1 only)."""
import sympy as sp

from attnreg.proofs import index_matrix as im, index_table as it
from attnreg.proofs.index_count import by_count, hypothesis
from attnreg.proofs.index_form import A, b, d, n, x

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


def test_the_free_indices_count_in_every_term():
    """Σ_l x_l = x_m: each term has one index (l, or the free m), yet at n = 1 it reads x_0 = x_0 and at n = 2
    it fails. The relabelling of the proof must fit the free values and the monomial's together, so the free
    indices count in every term: K_n = 2, checked at n = 2, where it fails."""
    ok, why = by_count(sp.Sum(x[l], (l, 0, n - 1)), x[m], ((m, "n"),))
    assert not ok and "fails at n=2" in why
    ok, why = by_count(sp.Sum(A[l, m] * b[l], (l, 0, n - 1)), sp.Sum(A[l, m] * b[l], (l, 0, n - 1)), ((m, "d"),))
    assert ok, why  # a true identity still goes through


def test_a_constant_with_n_or_d_is_refused():
    """(n − 1)·x_m = 0 holds at n = K = 1 and nowhere else: a coefficient depending on n is no constant."""
    ok, why = by_count((n - 1) * x[m], sp.Integer(0), ((m, "n"),))
    assert not ok and "free of the indices and of n, d" in why
    ok, why = by_count((d - 1) * sp.Sum(x[l], (l, 0, n - 1)), sp.Integer(0), ())
    assert not ok and "free of the indices and of n, d" in why


def test_one_range_per_position_and_delta():
    """Σ_{l<d} x_l = x_m with m over 0 … n − 1 holds at n = d = 1 (x_0 = x_0) and fails at n = 1, d = 2: n- and
    d-values are relabelled apart, so one array position reached by both ranges is refused; so is a delta
    comparing an n-index with a d-index (Σ_{l<d} δ(m, l) x_l = x_m fails for m ≥ d)."""
    ok, why = by_count(sp.Sum(x[l], (l, 0, d - 1)), x[m], ((m, "n"),))
    assert not ok and "position 0" in why
    why, _ = hypothesis(sp.Sum(sp.KroneckerDelta(m, l) * x[l], (l, 0, d - 1)), ((m, "n"),))
    assert why and "compares an n-index with a d-index" in why


def test_more_than_nine_indices_a_range_is_refused():
    """instance() names an entry by its index digits (A[1, 11] and A[11, 1] are both A_111 at n ≥ 12), so the
    check at n = K is only trusted up to K = 9."""
    ls = sp.symbols("l0:10", integer=True)
    term = sp.Sum(sp.Mul(*[x[v] for v in ls]), *[(v, 0, n - 1) for v in ls])
    ok, why = by_count(term, sp.Integer(0), ())
    assert not ok and "beyond 9 indices" in why


def test_an_index_both_free_and_bound_is_refused_not_a_crash():
    """(Σ_m x_m)·b_m with m also free: setting the free m by substitution would reach into the sum (sympy raised
    ValueError: invalid limits); refused with a reason instead."""
    ok, why = by_count(sp.Sum(x[m], (m, 0, n - 1)) * b[m], sp.Sum(x[l] * b[l], (l, 0, n - 1)), ((m, "n"),))
    assert not ok and "both a free and a bound index" in why
