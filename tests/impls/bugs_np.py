"""One NumPy implementation per known bug, each written the way the bug is made in practice."""
import numpy as np


def _softmax(S):
    E = np.exp(S - S.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _parts(A1, A2, B, X):
    F = _softmax(A1 @ X @ A2.T)
    C = F - B
    W = F * C
    return F, C, W - W.sum(axis=1, keepdims=True) * F


def loss_twice(A1, A2, B, X):
    """The loss without ½ (the papers' objective), the gradient with it."""
    F, C, P = _parts(A1, A2, B, X)
    return np.sum(C**2), A1.T @ P @ A2


def grad_twice(A1, A2, B, X):
    """The loss with ½, the gradient of the objective without it."""
    F, C, P = _parts(A1, A2, B, X)
    return 0.5 * np.sum(C**2), 2 * A1.T @ P @ A2


def column_major(A1, A2, B, X):
    """Tensor trick with column-major vec: vec_F(S) = (A2 ⊗ A1) vec_F(X), then the gradient vector is reshaped
    row-major, which transposes it."""
    n, d = A1.shape
    K = np.kron(A2, A1)
    S = (K @ X.flatten(order="F")).reshape(n, n, order="F")
    F = _softmax(S)
    C = F - B
    W = F * C
    P = W - W.sum(axis=1, keepdims=True) * F
    g = K.T @ P.flatten(order="F")
    return 0.5 * np.sum(C**2), g.reshape(d, d)


def wrong_sign(A1, A2, B, X):
    F, C, P = _parts(A1, A2, B, X)
    return 0.5 * np.sum(C**2), -(A1.T @ P @ A2)


def unshifted(A1, A2, B, X):
    """Softmax as exp(S) / sum(exp(S)) with no shift by the row max."""
    E = np.exp(A1 @ X @ A2.T)
    F = E / E.sum(axis=1, keepdims=True)
    C = F - B
    W = F * C
    P = W - W.sum(axis=1, keepdims=True) * F
    return 0.5 * np.sum(C**2), A1.T @ P @ A2


def float32_inside(A1, A2, B, X):
    """Computes in float32 whatever it is given, returns float64."""
    L, G = _parts_loss_grad(*(np.asarray(a, dtype=np.float32) for a in (A1, A2, B, X)))
    return np.float64(L), G.astype(np.float64)


def _parts_loss_grad(A1, A2, B, X):
    F, C, P = _parts(A1, A2, B, X)
    return 0.5 * np.sum(C**2), A1.T @ P @ A2


def inconsistent_grad(A1, A2, B, X):
    """Correct loss; the gradient forgets the rowsum term of the softmax Jacobian (P = F∘C)."""
    F, C, _ = _parts(A1, A2, B, X)
    return 0.5 * np.sum(C**2), A1.T @ (F * C) @ A2


def rescaled_unshifted(A1, A2, B, X):
    """Rescaled loss straight from the formula: exp(S) overflows although exp(S) − D B may be small."""
    U = np.exp(A1 @ X @ A2.T)
    alpha = U.sum(axis=1, keepdims=True)
    H = U - alpha * B
    P = U * H - np.sum(H * B, axis=1, keepdims=True) * U
    return 0.5 * np.sum(H**2), A1.T @ P @ A2


def vector_wrong_sign(A, b, x):
    s = A @ x
    f = np.exp(s - s.max())
    f /= f.sum()
    c = f - b
    return 0.5 * c @ c, -(A.T @ (f * c - (f @ c) * f))


def wrong_shape(A1, A2, B, X):
    F, C, P = _parts(A1, A2, B, X)
    return 0.5 * np.sum(C**2), (A1.T @ P @ A2).ravel()
