"""Straightforward float64 NumPy implementations: the baseline of the ratio rule (docs/design.md §5).

These are the textbook formulas written the obvious way (no row shift, no blocking, no scaling),
as a careful user would first write them. They are *not* the production code and share nothing
with it; they overflow where the formulas do.
"""
from __future__ import annotations

import numpy as np


def matrix_loss_and_grad(A1, A2, B, X, version):
    with np.errstate(all="ignore"):
        U = np.exp(A1 @ X @ A2.T)
        alpha = U.sum(axis=1, keepdims=True)
        if version == "normalized":
            F = U / alpha
            C = F - B
            P = F * C - (F * C).sum(axis=1, keepdims=True) * F
            return 0.5 * np.sum(C * C), A1.T @ P @ A2
        H = U - alpha * B
        P = U * H - (H * B).sum(axis=1, keepdims=True) * U
        return 0.5 * np.sum(H * H), A1.T @ P @ A2


def matrix_hvp(A1, A2, B, X, V, version):
    with np.errstate(all="ignore"):
        U = np.exp(A1 @ X @ A2.T)
        dS = A1 @ V @ A2.T
        rs = lambda Z: Z.sum(axis=1, keepdims=True)  # noqa: E731
        if version == "normalized":
            F = U / rs(U)
            C = F - B
            dF = F * dS - rs(F * dS) * F
            dP = dF * C + F * dF - (rs(dF * C) + rs(F * dF)) * F - rs(F * C) * dF
        else:
            H = U - rs(U) * B
            dU = U * dS
            dH = dU - rs(dU) * B
            dP = dU * H + U * dH - rs(dH * B) * U - rs(H * B) * dU
        return A1.T @ dP @ A2


def vector_loss_and_grad(A, b, x, version):
    with np.errstate(all="ignore"):
        u = np.exp(A @ x)
        alpha = u.sum()
        if version == "normalized":
            f = u / alpha
            c = f - b
            return 0.5 * c @ c, A.T @ (f * c - (f @ c) * f)
        h = u - alpha * b
        return 0.5 * h @ h, A.T @ (u * h - (h @ b) * u)


def vector_hvp(A, b, x, v, version):
    with np.errstate(all="ignore"):
        u = np.exp(A @ x)
        ds = A @ v
        if version == "normalized":
            f = u / u.sum()
            c = f - b
            df = f * ds - (f @ ds) * f
            dp = df * c + f * df - (df @ c + f @ df) * f - (f @ c) * df
        else:
            h = u - u.sum() * b
            du = u * ds
            dh = du - du.sum() * b
            dp = du * h + u * dh - (dh @ b) * u - (h @ b) * du
        return A.T @ dp
