"""Production path: array types and devices preserved, blocking invisible, extreme logits, conventions."""
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import attnreg
from attnreg import reference
from attnreg.verify import cases

VERSIONS = attnreg.VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_arrays_in_same_type_out(backend, version):
    case = cases.make_matrix(5, 3, 4.0, "simplex", 1)
    A1, A2, B, X = (backend.asarray(a) for a in case.arrays)
    L, G = attnreg.loss_and_grad(A1, A2, B, X, version=version)
    H = attnreg.hvp(A1, A2, B, X, X, version=version)
    assert all(backend.is_native(r) for r in (L, G, H)) and tuple(G.shape) == (3, 3) and L.ndim == 0
    L_np, G_np = attnreg.loss_and_grad(*case.arrays, version=version)
    assert np.allclose(backend.to_numpy(G), G_np, rtol=1e-13, atol=0) and np.isclose(float(backend.to_numpy(L)), L_np)


def test_torch_keeps_dtype_and_device():
    torch = pytest.importorskip("torch")
    case = cases.make_matrix(4, 2, 2.0, "onehot", 2)
    for dtype in (torch.float32, torch.float64):
        args = [torch.asarray(a, dtype=dtype) for a in case.arrays]
        G = attnreg.grad(*args, version="rescaled")
        assert isinstance(G, torch.Tensor) and G.dtype == dtype and G.device == args[0].device


@pytest.mark.parametrize("version", VERSIONS)
@given(block=st.integers(1, 9), seed=st.integers(0, 1000))
def test_blocking_changes_nothing_but_rounding(version, block, seed):
    case = cases.make_matrix(9, 3, 30.0, "simplex", seed)
    L1, G1 = attnreg.loss_and_grad(*case.arrays, version=version, block_rows=9)
    Lb, Gb = attnreg.loss_and_grad(*case.arrays, version=version, block_rows=block)
    assert np.isclose(Lb, L1, rtol=1e-13, atol=0)
    assert np.allclose(Gb, G1, rtol=1e-12, atol=1e-14 * np.abs(G1).max())
    V = np.random.default_rng(seed).standard_normal((3, 3))
    H1 = attnreg.hvp(*case.arrays, V, version=version, block_rows=9)
    assert np.allclose(attnreg.hvp(*case.arrays, V, version=version, block_rows=block), H1, rtol=1e-12,
                       atol=1e-14 * np.abs(H1).max())


def test_huge_logits_stay_finite_where_the_truth_is_representable():
    case = cases.make_matrix(6, 2, 5000.0, "simplex", 3)
    L, G = attnreg.loss_and_grad(*case.arrays, version="normalized")
    assert np.isfinite(L) and np.all(np.isfinite(G))
    # rescaled at logits ~1000: the loss (~e^2000) overflows, its log does not
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isinf(attnreg.loss(*case.arrays[:3], case.X / 5, version="rescaled"))
    log_true = float(mpmath.log(reference.loss(*case.arrays[:3], case.X / 5, version="rescaled")))
    assert np.isclose(attnreg.log_loss(*case.arrays[:3], case.X / 5, version="rescaled"), log_true, rtol=1e-13)


def test_matrix_gradient_is_the_sum_of_row_gradients():
    """vec_row(∇_X L) = Σ_j A_[j]ᵀ p_j with A_[j] = A1[j, :] ⊗ A2 (docs/design.md §2)."""
    case = cases.make_matrix(5, 2, 3.0, "real", 4)
    A1, A2, B, X = case.arrays
    for version in VERSIONS:
        rows = [attnreg.vector.grad(np.kron(A1[j:j + 1], A2), B[j], attnreg.vec(X), version=version) for j in range(5)]
        assert np.allclose(attnreg.vec(attnreg.grad(*case.arrays, version=version)), sum(rows), rtol=1e-12)
        Lrows = sum(attnreg.vector.loss(np.kron(A1[j:j + 1], A2), B[j], attnreg.vec(X), version=version)
                    for j in range(5))
        assert np.isclose(attnreg.loss(*case.arrays, version=version), Lrows, rtol=1e-13)


@pytest.mark.parametrize("version", VERSIONS)
def test_dense_hessian_matches_hvp_and_is_symmetric(version):
    case = cases.make_matrix(6, 3, 3.0, "simplex", 5)
    H = attnreg.hessian(*case.arrays, version=version)
    assert H.shape == (9, 9) and np.allclose(H, H.T, rtol=0, atol=1e-13 * np.abs(H).max())
    for k in range(9):
        E = attnreg.unvec(np.eye(9)[k], 3)
        column = attnreg.vec(attnreg.hvp(*case.arrays, E, version=version))
        assert np.allclose(H[:, k], column, atol=1e-13 * np.abs(H).max())
    A, b, x = cases.make_vector(5, 3, 2.0, "simplex", 6).arrays
    Hv = attnreg.vector.hessian(A, b, x, version=version)
    assert np.allclose(Hv @ x, attnreg.vector.hvp(A, b, x, x, version=version), rtol=1e-12)


@given(r=st.integers(1, 5), c=st.integers(1, 5), order=st.sampled_from(["row", "col"]))
def test_vec_unvec_roundtrip(r, c, order):
    X = np.arange(r * c, dtype=float).reshape(r, c)
    assert np.array_equal(attnreg.unvec(attnreg.vec(X, order), (r, c), order), X)
    assert attnreg.vec(X, "row")[1 % (r * c)] == X.flat[1 % (r * c)]  # row-major: x[i·c + k] = X[i, k]


def test_building_blocks_in_paper_notation():
    case = cases.make_matrix(4, 2, 2.0, "simplex", 7)
    A1, A2, B, X = case.arrays
    U, alpha = attnreg.u(A1, A2, X), attnreg.alpha(A1, A2, X)
    assert np.allclose(U, np.exp(A1 @ X @ A2.T)) and np.allclose(alpha, U.sum(1))
    assert np.allclose(attnreg.f(A1, A2, X), U / alpha[:, None])
    assert np.allclose(attnreg.h(A1, A2, B, X), alpha[:, None] * attnreg.c(A1, A2, B, X))  # h = α c
    A, b, x = A1, B[0], X[0]
    assert np.isclose(attnreg.vector.alpha(A, x), np.exp(A @ x).sum())
    assert np.allclose(attnreg.vector.h(A, b, x), attnreg.vector.alpha(A, x) * attnreg.vector.c(A, b, x))
    assert np.allclose(attnreg.vector.u(A, x), np.exp(A @ x)) and np.isclose(attnreg.vector.f(A, x).sum(), 1)


def test_objective_is_twice_the_loss():
    """The ½ convention: L = ½||·||², so the papers' objective ||·||² is 2·loss (docs/design.md §2)."""
    A1, A2, B, X = cases.make_matrix(3, 2, 1.0, "onehot", 8).arrays
    F = attnreg.f(A1, A2, X)
    assert np.isclose(2 * attnreg.loss(A1, A2, B, X, version="normalized"), np.sum((F - B) ** 2))


def test_row_sums_by_blocks_on_every_backend(backend):
    case = cases.make_matrix(7, 2, 300.0, "simplex", 9)
    A1, A2, _, X = (backend.asarray(a) for a in case.arrays)
    S = case.A1 @ case.X @ case.A2.T
    m = S.max(axis=1)
    lse = m + np.log(np.exp(S - m[:, None]).sum(axis=1))
    for block in (1, 3, 7):
        got = attnreg.log_alpha(A1, A2, X, block_rows=block)
        assert backend.is_native(got) and np.allclose(backend.to_numpy(got), lse, rtol=1e-14)
    small = [backend.asarray(a) for a in (case.A1, case.A2, case.X / 300)]
    assert np.allclose(backend.to_numpy(attnreg.alpha(*small, block_rows=3)), np.exp(S / 300).sum(axis=1), rtol=1e-14)
