"""Correct NumPy implementations (softmax by max-shift), written from the definitions for the tests."""
import numpy as np


def _softmax(S):
    E = np.exp(S - S.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def normalized(A1, A2, B, X):
    F = _softmax(A1 @ X @ A2.T)
    C = F - B
    W = F * C
    P = W - W.sum(axis=1, keepdims=True) * F
    return 0.5 * np.sum(C**2), A1.T @ P @ A2


def normalized_loss_only(A1, A2, B, X):
    return normalized(A1, A2, B, X)[0]


def rescaled(A1, A2, B, X):
    """Row j carries exp(m_j) separately: H_j = e^{m_j}(E_j − a_j B_j) with E = exp(S − m)."""
    S = A1 @ X @ A2.T
    m = S.max(axis=1, keepdims=True)
    E = np.exp(S - m)
    Hs = E - E.sum(axis=1, keepdims=True) * B
    with np.errstate(divide="ignore"):
        loss = 0.5 * np.sum(np.exp(2 * m[:, 0] + np.log(np.sum(Hs**2, axis=1))))
        Ps = E * Hs - np.sum(Hs * B, axis=1, keepdims=True) * E
        P = np.sign(Ps) * np.exp(2 * m + np.log(np.abs(Ps)))
    return loss, A1.T @ P @ A2


def vector_normalized(A, b, x):
    f = _softmax(A @ x)
    c = f - b
    return 0.5 * c @ c, A.T @ (f * c - (f @ c) * f)


def normalized_full(A1, A2, B, X):
    """The papers' objective without ½: ||F − B||², gradient 2·A1ᵀPA2."""
    L, G = normalized(A1, A2, B, X)
    return 2 * L, 2 * G
