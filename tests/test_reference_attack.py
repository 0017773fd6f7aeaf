"""Adversarial checks of the proven-digits reference against independent truths (closed forms, or mpmath
straight from the definitions at several hundred digits). Each test pins a defect that was found and fixed."""
import mpmath
import pytest

from attnreg import reference


@pytest.mark.parametrize("x_new", [200.0, 400.0])
def test_exactness_of_a_correct_target_when_the_new_residual_cancels_far_below_its_terms(x_new):
    """Constant rows, ``B = ½``: the new rescaled residual ``h' = e^{x'} − 2e^{x'}·½`` is exactly 0 and
    ``B̃ = (u − h')/α = ½`` exactly (closed form). Exactness used to be evaluated at a fixed ``dps + 20``
    digits, where ``h'`` carries an error of ``e^{x'}·10^{−70}``: it reported 5.6e101 for this exact
    construction."""
    A, B, X = [[1.0], [1.0]], [[0.5, 0.5], [0.5, 0.5]], [[0.0]]
    for version in ("normalized", "rescaled"):
        Bt = reference.icl.shifted_target(A, A, B, X, X_new=[[x_new]], version=version, dps=50)
        assert all(Bt[j, k] == mpmath.mpf(0.5) for j in range(2) for k in range(2))
        assert reference.icl.exactness(A, A, B, X, X_new=[[x_new]], version=version, dps=50) <= 1e-45


def test_exactness_still_flags_a_wrong_target(monkeypatch):
    """The fix must not make exactness blind: a B̃ off by 1e-30 relative is reported at ≥ 1e-31."""
    from attnreg.reference import icl
    A, B, X = [[1.0], [1.0]], [[0.5, 0.5], [0.5, 0.5]], [[0.0]]
    true = icl.shifted_target

    def off(*a, **k):
        Bt = true(*a, **k)
        return mpmath.matrix([[Bt[j, k] + Bt[j, k] / 10**30 for k in range(Bt.cols)] for j in range(Bt.rows)])

    monkeypatch.setattr(icl, "shifted_target", off)
    assert icl.exactness(A, A, B, X, X_new=[[400.0]], version="rescaled", dps=50) >= 1e-31


@pytest.mark.parametrize("d, scale", [(1, 1.0), (1, 2e4), (3, 1.0), (3, 1e3)])
def test_the_n1_normalized_hessian_is_an_exact_zero(d, scale):
    """n = 1: f = 1 for every X, so L_N = ½(1 − b)² is constant and its gradient, HVP and Hessian are exactly 0
    (closed form). They used to come back as unresolved zeros (f = u/u is a ball around 1), after running the
    precision up to its cap (35,000 digits at |S| = 2e4), although an exact 0 is promised to come back exact."""
    import numpy as np
    rng = np.random.default_rng(d)
    A1, A2, X = rng.standard_normal((1, d)) * scale, rng.standard_normal((1, d)), rng.standard_normal((d, d))
    for fn, extra in ((reference.grad, ()), (reference.hvp, (X,)), (reference.hessian, ())):
        rec = fn(A1, A2, [[0.25]], X, *extra, version="normalized", record=True)
        entries = [rec.value[i, j] for i in range(rec.value.rows) for j in range(rec.value.cols)]
        assert rec.unresolved == () and entries == [0] * len(entries) and rec.working_dps == 70
    rec = reference.vector.hessian([[scale]], [1.0], [0.3], version="normalized", record=True)
    assert rec.unresolved == () and rec.value[0, 0] == 0 and rec.radius[0, 0] == 0


def test_a_three_dimensional_input_is_named_as_such():
    """A 3-D X used to be refused with "X must hold real numbers ..., got list"."""
    import numpy as np
    with pytest.raises(ValueError, match=r"^X must be a 2-D array, got one with more dimensions$"):
        reference.loss([[1.0]], [[1.0]], [[1.0]], np.ones((1, 1, 1)), version="normalized")
    with pytest.raises(ValueError, match=r"^A must be a 2-D array, got one with more dimensions$"):
        reference.vector.grad(np.ones((2, 1, 1)), [0.5, 0.5], [1.0], version="rescaled")


def test_an_unprovable_zero_of_the_gradient_does_not_run_the_precision_away():
    """A2's first column is all ones, so L_N is invariant under X → X + z e₀ᵀ and column 0 of ∇L_N is exactly
    0 (closed form: ⟨∇L, z e₀ᵀ⟩ = 0 for every z). Balls cannot prove that 0 (P's row sums are 0 only in the
    reals), so those entries are unresolved; the precision cap used to grow with the logits for the gradient
    too: 11,900 working digits (5 s at n = 32, d = 8) at |S| ≈ 2,700 instead of 1,050."""
    import numpy as np
    rng = np.random.default_rng(0)
    n, d = 6, 3
    A1, A2, X = rng.standard_normal((n, d)) * 500, rng.standard_normal((n, d)), rng.standard_normal((d, d))
    A2[:, 0] = 1.0
    B = rng.dirichlet(np.ones(n), size=n)
    assert np.abs(A1 @ X @ A2.T).max() > 1000
    rec = reference.grad(A1, A2, B, X, version="normalized", record=True)
    assert rec.unresolved == (0, 3, 6) and rec.working_dps == 1050
    assert all(rec.value[i, 0] == 0 and 0 < rec.radius[i, 0] < mpmath.mpf(10) ** -900 for i in range(d))
    assert all(rec.value[i, k] != 0 for i in range(d) for k in range(1, d))
