"""The production numerics as they were before the edge fixes (numpy only, one block): the "old behaviour"
that tests/test_checks_can_fail.py runs the edge checks against, to show each defect is caught.

Faithful to the old kernels: rows shifted by their maximum only outside a safe window, textbook
``F − B``, ``U − αB``, ``FC − ⟨f, c⟩f``; rescaled rows combined under the common scale ``M = max`` of
the row *shifts*; ``vector.h`` as ``(e − Σe·b)·e^c``; icl's rescaled ``(E − E' + α'B)/α``.
"""
import math

import numpy as np
from array_api_compat import array_namespace


def _shift(S, version):
    xp = array_namespace(S)
    info = xp.finfo(S.dtype)
    n = S.shape[1]
    lo, hi = math.log(float(info.smallest_normal)) + 1, math.log(float(info.max)) - math.log(n) - 1
    if version == "rescaled":
        lo, hi = lo / 2, hi / 2 - math.log(n)
    m = xp.max(S, axis=1, keepdims=True)
    c = xp.where((m <= hi) & (xp.min(S, axis=1, keepdims=True) >= lo), xp.zeros_like(m), m)
    return c, xp.exp(S - c)


def _rows(S, B, version, dS=None):
    xp = array_namespace(S)
    rs = lambda Z: xp.sum(Z, axis=1, keepdims=True)  # noqa: E731
    c, E = _shift(S, version)
    if version == "normalized":
        F = E / rs(E)
        C = F - B
        if dS is None:
            return None, 0.5 * xp.sum(C * C, axis=1), F * C - rs(F * C) * F
        dF = F * dS - rs(F * dS) * F
        return None, None, dF * C + F * dF - (rs(dF * C) + rs(F * dF)) * F - rs(F * C) * dF
    H = E - rs(E) * B
    if dS is None:
        return c[:, 0], 0.5 * xp.sum(H * H, axis=1), E * H - rs(H * B) * E
    dU = E * dS
    dH = dU - rs(dU) * B
    return c[:, 0], None, dU * H + E * dH - rs(dH * B) * E - rs(H * B) * dU


def _unscale(v, M):
    xp = array_namespace(v)
    f = xp.exp(M)
    return xp.where(v == 0, v, (v * f) * f)


def loss_and_grad(A1, A2, B, X, *, version, V=None):
    """Old attnreg.loss_and_grad (numpy, torch, any array-API library; one block of rows)."""
    xp = array_namespace(A1)
    with np.errstate(all="ignore"):
        S = A1 @ X @ A2.T
        m, rows, P = _rows(S, B, version, None if V is None else A1 @ V @ A2.T)
        if m is None:
            return (None if rows is None else xp.sum(rows)), A1.T @ P @ A2
        M = xp.max(m)
        w = xp.exp(2 * (m - M))
        L = None if rows is None else _unscale(xp.sum(rows * w), M)
        return L, _unscale(A1.T @ (P * w[:, None]) @ A2, M)


def loss(A1, A2, B, X, *, version, block_rows=None):
    return loss_and_grad(A1, A2, B, X, version=version)[0]


def grad(A1, A2, B, X, *, version, block_rows=None):
    return loss_and_grad(A1, A2, B, X, version=version)[1]


def hvp(A1, A2, B, X, V, *, version, block_rows=None):
    return loss_and_grad(A1, A2, B, X, version=version, V=V)[1]


def vector_h(A, b, x):
    with np.errstate(all="ignore"):
        c, e = _shift((A @ x)[None, :], "normalized")
        return (e[0] - e.sum() * b) * np.exp(c[0, 0])


def vector_c(A, b, x):
    _, e = _shift((A @ x)[None, :], "normalized")
    return e[0] / e.sum() - b


def icl_shifted_target(A1, A2, B, X, *, version, X_new):
    with np.errstate(all="ignore"):
        S, Sn = A1 @ X @ A2.T, A1 @ X_new @ A2.T
        m = np.maximum(S.max(axis=1, keepdims=True), Sn.max(axis=1, keepdims=True))
        E, En = np.exp(S - m), np.exp(Sn - m)
        return (E - En + En.sum(axis=1, keepdims=True) * B) / E.sum(axis=1, keepdims=True)
