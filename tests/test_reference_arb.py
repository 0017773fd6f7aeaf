"""Proven digits at the edges: every reproducer of the reference's old defects, and variants at other magnitudes.

Oracles are independent of the code under test: closed forms (derived in each test's docstring) or
mpmath at 300-800 digits straight from the definitions, with derivatives by ``ctx.diff``. Each value
must come back with 50 correct digits at dps = 50 *and* the record must say the balls proved them.
"""
import time
from fractions import Fraction

import flint
import mpmath
import numpy as np
import pytest

from attnreg import reference
from attnreg.reference import ball_forms

VERSIONS = ("normalized", "rescaled")


def _ctx(dps):
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _flat(value):
    if isinstance(value, tuple):
        return [y for v in value for y in _flat(v)]
    if isinstance(value, mpmath.matrix) or hasattr(value, "rows"):
        return [value[i, j] for i in range(value.rows) for j in range(value.cols)]
    return [value]


def assert_50_digits(rec, truth):
    """Every entry resolved and within 1e-50 of the truth, relative; the balls prove it (radius ≤ 1e-50·|v|)."""
    assert rec.unresolved == () and rec.dps == 50
    values, radii, truth = _flat(rec.value), _flat(rec.radius), list(truth)
    assert len(values) == len(truth)
    for v, r, t in zip(values, radii, truth):
        if t == 0:
            assert v == 0 and r == 0, (v, r)
        else:
            assert abs(v - t) <= abs(t) * mpmath.mpf(10) ** -50, (v, t)
            assert r <= abs(v) * mpmath.mpf(10) ** -50


# ---- independent oracles: definitions at high precision -------------------------------------------

def oracle_loss(ctx, A1, A2, B, X, version):
    """½||D⁻¹exp(S) − B||² or ½||exp(S) − D B||², S = A1 X A2ᵀ, with mpmath matrices (no shift, no tricks)."""
    S = ctx.matrix(A1) * X * ctx.matrix(A2).T
    total = ctx.zero
    for j in range(S.rows):
        u = [ctx.exp(S[j, k]) for k in range(S.cols)]
        a = ctx.fsum(u)
        r = [u[k] / a - ctx.mpf(B[j][k]) if version == "normalized" else u[k] - a * ctx.mpf(B[j][k])
             for k in range(S.cols)]
        total += ctx.fsum(v * v for v in r)
    return total / 2


def oracle_derivatives(A1, A2, B, X, V, version, dps):
    """``(L, ∇L entries, Vᵀ∇²L V)`` by ``ctx.diff`` of :func:`oracle_loss` at ``dps`` digits."""
    ctx = _ctx(dps)
    d = len(X)
    X0, V0 = ctx.matrix(np.asarray(X, float).tolist()), ctx.matrix(np.asarray(V, float).tolist())
    L = lambda M: oracle_loss(ctx, np.asarray(A1, float).tolist(), np.asarray(A2, float).tolist(), B, M, version)  # noqa: E731

    def along(i, k):
        E = ctx.matrix(d, d)
        E[i, k] = 1
        return ctx.diff(lambda t: L(X0 + t * E), 0)

    grad = [along(i, k) for i in range(d) for k in range(d)]
    curvature = ctx.diff(lambda t: L(X0 + t * V0), 0, 2)
    return L(X0), grad, curvature


def _dot(M, V):
    return sum(M[i, j] * float(V[i][j]) for i in range(M.rows) for j in range(M.cols))


# ---- the reproducers ---------------------------------------------------------------------------

@pytest.mark.parametrize("gap, s1", [(200.0, 0.0), (30.0, -5.0), (800.0, 3.0), (1e4, -700.0)])
def test_rescaled_row_beside_a_saturated_one(gap, s1):
    """Vector rescaled, A = [[gap], [s1]], b = e₀, x = 1: h = u − αb = (−e^{s1}, e^{s1}), so L = e^{2·s1};
    ∇L = Aᵀp, p = u∘h − ⟨h,b⟩u = (u₀(h₀ − h₀), e^{s1}(e^{s1} + e^{s1})) gives ∇L = 2·s1·e^{2·s1} exactly."""
    A, b, x = np.array([[gap], [s1]]), np.array([1.0, 0.0]), np.array([1.0])
    ctx = _ctx(80)
    rec = reference.vector.loss_and_grad(A, b, x, version="rescaled", dps=50, record=True)
    assert_50_digits(rec, [ctx.exp(2 * s1), 2 * s1 * ctx.exp(2 * s1)])


def test_the_issue_reproducer_of_the_vector_loss_is_exactly_one():
    rec = reference.vector.loss(np.array([[200.0], [0.0]]), np.array([1.0, 0.0]), np.array([1.0]),
                                version="rescaled", dps=50, record=True)
    assert rec.value == 1 and rec.radius == 0  # proven exact: h = (−1, 1) with no rounding at all


@pytest.mark.parametrize("gap", [37.0, 200.0, 800.0, 1e4])
def test_normalized_loss_far_below_its_terms(gap):
    """A1 = [[gap], [0]], A2 = [[1], [0]], B = [[1, 0], [½, ½]], X = [[t]]: row 1 fits exactly, row 0 has
    c = (−q, q) with q = 1/(1 + e^{gap·t}); so L = q², ∇L = −2·gap·q²(1−q) and
    ∇²L = gap²·2q²(1−q)(2−3q) (differentiate q² twice, q' = −q(1−q)). At gap 200: L = 1.9152e-174."""
    A1, A2, B, X, V = [[gap], [0.0]], [[1.0], [0.0]], [[1.0, 0.0], [0.5, 0.5]], [[1.0]], [[1.0]]
    ctx = _ctx(120)
    q = 1 / (1 + ctx.exp(ctx.mpf(gap)))
    rec = reference.loss_and_grad(A1, A2, B, X, version="normalized", dps=50, record=True)
    assert_50_digits(rec, [q * q, -2 * gap * q * q * (1 - q)])
    second = gap * gap * 2 * q * q * (1 - q) * (2 - 3 * q)
    assert_50_digits(reference.hvp(A1, A2, B, X, V, version="normalized", dps=50, record=True), [second])
    assert_50_digits(reference.hessian(A1, A2, B, X, version="normalized", dps=50, record=True), [second])


@pytest.mark.parametrize("g", [60.0, 400.0, 5000.0])
def test_rescaled_loss_with_one_saturated_row(g):
    """A1 = [[g], [0]], A2 = [[1], [−1]], X = 1, B = [[1, 0], [1, 0]]: row 0 has h = (−e^{−g}, e^{−g}), row 1
    h = (−1, 1); L = 1 + e^{−2g} (the production path gave 0 at g = 400)."""
    ctx = _ctx(80)
    rec = reference.loss([[g], [0.0]], [[1.0], [-1.0]], [[1.0, 0.0], [1.0, 0.0]], [[1.0]], version="rescaled",
                         dps=50, record=True)
    assert_50_digits(rec, [1 + ctx.exp(-2 * g)])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scale", [400.0, 40.0])
def test_mixed_huge_and_small_rows_against_definitions_at_800_digits(version, scale):
    """The issue's gradient/HVP/Hessian reproducer (A1 = [[400, 0], [0, 1]], A2 = [[1, 0], [−1, .5]], X = I,
    B = [[1, 0], [.3, .7]]) and a milder variant: loss, gradient and Vᵀ∇²L V from ctx.diff at 800 digits."""
    A1, A2, B, X = [[scale, 0.0], [0.0, 1.0]], [[1.0, 0.0], [-1.0, 0.5]], [[1.0, 0.0], [0.3, 0.7]], [[1.0, 0.0],
                                                                                                   [0.0, 1.0]]
    V = [[0.5, -1.0], [1.0, 0.25]]  # moves row 1's softmax, so Vᵀ∇²L V is O(1) and ctx.diff resolves it
    L, G, curvature = oracle_derivatives(A1, A2, B, X, V, version, 800)
    rec = reference.loss_and_grad(A1, A2, B, X, version=version, dps=50, record=True)
    assert_50_digits(rec, [L, *G])
    hvp = reference.hvp(A1, A2, B, X, V, version=version, dps=50)
    H = reference.hessian(A1, A2, B, X, version=version, dps=50)
    v = [x for row in V for x in row]
    quadratic = sum(H[i, j] * v[i] * v[j] for i in range(4) for j in range(4))
    with mpmath.workdps(120):  # comparison arithmetic only
        for got in (_dot(hvp, V), quadratic):
            assert abs(got - curvature) <= abs(curvature) * mpmath.mpf(10) ** -49


def test_large_n_with_a_saturated_row_against_definitions():
    """n = 10, d = 2, row 0 with a logit range 500, one-hot targets on the argmax: loss and gradient."""
    rng = np.random.default_rng(5)
    A1, A2, X = rng.standard_normal((10, 2)), rng.standard_normal((10, 2)), rng.standard_normal((2, 2))
    A1[0] *= 500 / np.ptp(A1[0] @ X @ A2.T)
    B = np.eye(10)[(A1 @ X @ A2.T).argmax(axis=1)]
    for version in VERSIONS:
        L, G, _ = oracle_derivatives(A1, A2, B.tolist(), X, X, version, 600)
        assert_50_digits(reference.loss_and_grad(A1, A2, B, X, version=version, dps=50, record=True), [L, *G])


@pytest.mark.parametrize("gap", [800.0, 1e4])
def test_building_blocks_at_a_saturated_row(gap):
    """A = [[gap], [0]], x = 1, b = e₀: u = (e^gap, 1), α = e^gap + 1, f = u/α, c = (−q, q) with
    q = 1/(1 + e^gap), h = (−1, 1) exactly (the production h gave nan at 800); the matrix form too."""
    ctx = _ctx(int(gap / 2.3) + 120)
    A, b, x = [[gap], [0.0]], [1.0, 0.0], [1.0]
    E, q = ctx.exp(ctx.mpf(gap)), 1 / (1 + ctx.exp(ctx.mpf(gap)))
    assert_50_digits(reference.vector.u(A, x, record=True), [E, 1])
    assert_50_digits(reference.vector.alpha(A, x, record=True), [E + 1])
    assert_50_digits(reference.vector.f(A, x, record=True), [1 - q, q])
    assert_50_digits(reference.vector.c(A, b, x, record=True), [-q, q])
    assert_50_digits(reference.vector.h(A, b, x, record=True), [-1, 1])
    Bm = [[1.0, 0.0], [0.5, 0.5]]  # row 1: logits (0, 0), so h = c = 0 exactly
    assert_50_digits(reference.h(A, [[1.0], [0.0]], Bm, [[1.0]], record=True), [-1, 1, 0, 0])
    assert_50_digits(reference.c(A, [[1.0], [0.0]], Bm, [[1.0]], record=True), [-q, q, 0, 0])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("x0", [-400.0, -40.0, -800.0])
def test_icl_shifted_target_across_a_huge_move(version, x0):
    """A1 = A2 = [[1], [1]], B = ½, X = x0 → X' = 0: every logit moves by −x0; B̃ = ½ exactly (normalized:
    B + F − F' = ½ + ½ − ½; rescaled: (u − u' + α'B)/α = (e^{x0} − 1 + 1)/(2e^{x0}) = ½); the old reference gave 0
    and its exactness called that exact."""
    A, B = [[1.0], [1.0]], [[0.5, 0.5], [0.5, 0.5]]
    rec = reference.icl.shifted_target(A, A, B, [[x0]], X_new=[[0.0]], version=version, dps=50, record=True)
    assert_50_digits(rec, [mpmath.mpf(0.5)] * 4)
    assert reference.icl.exactness(A, A, B, [[x0]], X_new=[[0.0]], version=version, dps=50) <= 1e-45
    data = reference.icl.shifted_target([[x0], [x0]], A, B, [[1.0]], A1_new=A, version=version, dps=50, record=True)
    assert_50_digits(data, [mpmath.mpf(0.5)] * 4)


def test_deep_cancellation_of_a_nearly_realisable_target():
    """B = the softmax at X0 to 120 decimal digits (strings): c = f − B ~ 1e-121 while its terms are ~0.3 and the
    loss is ~1e-241, so the balls need ~170 working digits; oracle: the definitions at 500 digits."""
    A1 = [[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]]
    A2 = [[1.0, 0.5], [-0.5, 1.25], [0.25, -1.0]]
    X0 = [[0.5, -0.25], [1.0, 0.75]]
    F = reference.f(A1, A2, X0, dps=130)
    B = [[F.ctx.nstr(F[i, j], 120) if hasattr(F, "ctx") else mpmath.nstr(F[i, j], 120) for j in range(3)]
         for i in range(3)]
    ctx = _ctx(500)
    exact = oracle_loss(ctx, A1, A2, B, ctx.matrix(X0), "normalized")
    assert 0 < exact < 1e-200
    rec = reference.loss(A1, A2, B, X0, version="normalized", dps=50, record=True)
    assert_50_digits(rec, [exact])
    assert rec.working_dps > 170  # the precision really had to rise


# ---- the record: exact zeros, unresolved zeros, balls as inputs ---------------------------------

def test_an_exact_zero_is_proven_exact():
    rec = reference.vector.grad([[1.0, 2.0]], [1.0], [0.3, -0.1], version="normalized", record=True)
    assert _flat(rec.value) == [0, 0] and _flat(rec.radius) == [0, 0] and rec.unresolved == ()


def test_a_zero_the_balls_cannot_separate_is_reported_not_invented():
    """A target that matches the softmax to 2000 digits (decimal strings, closed form f = (e, 1)/(e + 1)):
    the true loss is nonzero but below 1e-3900, far below 10^{−50} of its terms (~1) even at the
    working-precision cap, so it comes back as an unresolved 0 whose radius bounds the true value."""
    ctx = _ctx(6000)
    f = [ctx.e / (ctx.e + 1), 1 / (ctx.e + 1)]
    b = [mpmath.nstr(t, 2000) for t in f]
    truth = sum((t - ctx.mpf(s)) ** 2 for t, s in zip(f, b)) / 2
    assert 0 < truth < ctx.mpf(10) ** -3900
    rec = reference.vector.loss([["1"], ["0"]], b, ["1"], version="normalized", record=True)
    assert rec.unresolved == (0,) and rec.value == 0
    assert truth <= rec.radius < mpmath.mpf(10) ** -1000  # |true value| ≤ radius, ~1e-1000 of the terms (~1)


def test_ball_inputs_enclose_every_point_of_the_box():
    """The evaluators accept balls of nonzero radius and enclose the value at every point of the box."""
    rng = np.random.default_rng(3)
    A, b, x = rng.standard_normal((4, 2)), rng.dirichlet(np.ones(4)), rng.standard_normal(2)
    with flint.ctx.workprec(120):
        box = lambda v: flint.arb(float(v), 1e-3)  # noqa: E731
        for version in VERSIONS:
            loss, grad = ball_forms.vector_loss_and_grad([[box(t) for t in r] for r in A], [box(t) for t in b],
                                                         [box(t) for t in x], version)
            for _ in range(10):
                dA, db, dx = (rng.uniform(-1e-3, 1e-3, np.shape(t)) for t in (A, b, x))
                L, G = reference.vector.loss_and_grad(A + dA, b + db, x + dx, version=version, dps=30)
                near = lambda v: flint.arb(mpmath.nstr(v, 30), 1e-27 * abs(float(v)) + 1e-300)  # noqa: E731
                assert loss.overlaps(near(L)) and all(g.overlaps(near(G[i])) for i, g in enumerate(grad))
                assert loss.rad() < 1 and max(g.rad() for g in grad) < 1  # an enclosure, but not a vacuous one
    assert loss.rad() > 0


def test_decimal_strings_and_fractions_are_balls_that_contain_them():
    third = reference.vector.u([[1.0]], [Fraction(1, 3)], dps=60)[0]
    ctx = _ctx(90)
    assert abs(third - ctx.exp(ctx.mpf(1) / 3)) < ctx.mpf(10) ** -60


@pytest.mark.parametrize("version", VERSIONS)
def test_50_digit_gradient_n32_d8_well_within_two_seconds(version):
    """Target: 2 s on one core. Measured ~0.02 s (arb_mat products in C, rows in Python), so a 2 s limit
    has a margin of ~100x for a loaded 2-core CI machine and cannot flake without a real regression."""
    rng = np.random.default_rng(0)
    A1, A2 = rng.standard_normal((32, 8)), rng.standard_normal((32, 8))
    B, X = rng.dirichlet(np.ones(32), size=32), 0.3 * rng.standard_normal((8, 8))
    start = time.process_time()
    rec = reference.grad(A1, A2, B, X, version=version, dps=50, record=True)
    assert time.process_time() - start < 2.0 and rec.unresolved == ()


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: reference.loss([[1.0]], [[1.0]], None, [[0.0]], version="normalized"), "B"),
    (lambda: reference.grad([[1.0]], [[1.0]], [[1.0]], None, version="rescaled"), "X"),
    (lambda: reference.hvp([[1.0]], [[1.0]], [[1.0]], [[0.0]], None, version="rescaled"), "V"),
    (lambda: reference.vector.loss(None, [1.0], [0.0], version="normalized"), "A"),
    (lambda: reference.h([[1.0]], [[1.0]], None, [[0.0]]), "B"),
    (lambda: reference.icl.shifted_target([[1.0]], [[1.0]], None, [[0.0]], X_new=[[1.0]], version="rescaled"), "B"),
])
def test_a_missing_argument_is_one_sentence_naming_it(call, name):
    with pytest.raises(TypeError, match=rf"^{name} is required"):
        call()


@pytest.mark.parametrize("dps", [10, 10_001, 50.0, "50", True, None])
def test_dps_is_validated(dps):
    with pytest.raises(ValueError, match="dps must be an integer between 15 and 10000"):
        reference.loss([[1.0]], [[1.0]], [[1.0]], [[0.0]], version="normalized", dps=dps)


def test_log_loss_and_log_alpha_past_every_float_range():
    """log L = log1p(e^{−800}) for the rescaled reproducer (1) (production log_loss gave −inf there);
    vector normalized at gap 1e4: L = q², log L = −2·(1e4 + log1p(e^{−1e4})); log α = 1e4 + log1p(e^{−1e4})."""
    ctx = _ctx(120)
    rec = reference.log_loss([[400.0], [0.0]], [[1.0], [-1.0]], [[1.0, 0.0], [1.0, 0.0]], [[1.0]],
                             version="rescaled", record=True)
    assert_50_digits(rec, [ctx.log1p(ctx.exp(-800))])
    big = 10**4 + ctx.log1p(ctx.exp(-(10**4)))
    assert_50_digits(reference.vector.log_loss([[1e4], [0.0]], [1.0, 0.0], [1.0], version="normalized",
                                               record=True), [-2 * big])
    assert_50_digits(reference.log_alpha([[1e4], [0.0]], [[1.0], [0.0]], [[1.0]], record=True),
                     [big, ctx.log(2)])
    assert reference.vector.log_loss([[1.0, 2.0]], [1.0], [0.3, -0.1], version="normalized") == -mpmath.inf


def test_extended_precision_inputs_convert_exactly():
    """np.longdouble carries more bits than float64 (where the platform has them): they are kept exactly."""
    third = np.longdouble(1) / np.longdouble(3)
    p, q = third.as_integer_ratio()
    ctx = _ctx(90)
    got = reference.vector.u([[1.0]], [third], dps=60)[0]
    assert abs(got - ctx.exp(ctx.mpf(p) / q)) <= ctx.exp(ctx.mpf(p) / q) * ctx.mpf(10) ** -60
    with pytest.raises(ValueError, match="x holds"):
        reference.vector.u([[1.0]], [np.longdouble("inf")])
