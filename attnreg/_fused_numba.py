"""The numba kernels of :mod:`attnreg._fused` (imported only through :func:`attnreg._fused.kernels`).

Loops named ``_sum*``/``_stats*`` only add up (compiled with ``reassoc``: vectorised partial sums); the loops
that write entries (``_write*``) carry no fast-math flag, so each written entry is rounded exactly as in
:mod:`attnreg._fastrows` (the comments give its NumPy statement)."""
from __future__ import annotations

import math

import numba


def _jit(**options):
    """``numba.njit`` with ``error_model="numpy"`` (1/0 is inf and 0/0 nan, as in the NumPy kernels, where numba's
    default raises ZeroDivisionError: a rescaled row whose logits all underflow has α = 0; it is flagged, its values
    unused), cached on disk where numba can write (beside this file or in the user's cache directory) and compiled
    in each process where it cannot (numba then refuses ``cache=True`` outright: "no locator available")."""
    def wrap(fn):
        try:
            return numba.njit(nogil=True, cache=True, error_model="numpy", **options)(fn)
        except RuntimeError as err:
            if "cannot cache" not in str(err):
                raise
            return numba.njit(nogil=True, error_model="numpy", **options)(fn)
    return wrap


_SUM = _jit(fastmath={"reassoc"})
_EXACT = _jit()


@_SUM
def _sum(e):
    t = 0.0
    for j in range(e.shape[0]):
        t += e[j]
    return t


@_SUM
def _sumsq(a):
    t = 0.0
    for j in range(a.shape[0]):
        t += a[j] * a[j]
    return t


@_SUM
def _dot_scaled(e, z, inv):
    """``Σ (e_j·inv)·z_j``."""
    t = 0.0
    for j in range(e.shape[0]):
        t += (e[j] * inv) * z[j]
    return t


# normalized loss+gradient -----------------------------------------------------------------------------------

@_SUM
def _stats_normalized(e, b, inv, t):
    cc = 0.0
    fc = 0.0
    dom = False
    for j in range(e.shape[0]):
        f = e[j] * inv                  # S *= 1/total
        c = f - b[j]                    # C = S − B
        cc += c * c                     # dot(C, C)
        fc += f * c                     # dot(S, C)
        dom |= 2.0 * e[j] > t           # 2·exp(max) > total
    return cc, fc, dom


@_EXACT
def _write_normalized(e, b, inv, fc):
    for j in range(e.shape[0]):
        f = e[j] * inv
        e[j] = ((f - b[j]) - fc) * f    # C = C − s; S = C·S


@_EXACT
def normalized(S, B, loss, flags, with_p):
    for i in range(S.shape[0]):
        e, b = S[i], B[i]
        t = _sum(e)
        inv = 1.0 / t
        cc, fc, dom = _stats_normalized(e, b, inv, t)
        ell = 0.5 * cc
        loss[i] = ell
        flags[i] = dom or not (ell < math.inf)
        if with_p:
            _write_normalized(e, b, inv, fc)


# rescaled loss+gradient -------------------------------------------------------------------------------------

@_SUM
def _stats_rescaled(e, b, t):
    hh = 0.0
    hb = 0.0
    flag = False
    for j in range(e.shape[0]):
        h = e[j] - b[j] * t             # C = B·total; C = S − C
        hh += h * h                     # dot(C, C)
        hb += h * b[j]                  # dot(C, B)
        flag |= (2.0 * e[j] > t) | (b[j] > 0.5)   # dominated; a target entry above ½
    return hh, hb, flag


@_EXACT
def _write_rescaled(e, b, t, hb):
    for j in range(e.shape[0]):
        e[j] = ((e[j] - b[j] * t) - hb) * e[j]   # C = C − ⟨h, b⟩; S = C·S


@_EXACT
def rescaled(S, B, hh_out, pp_out, flags, with_p):
    for i in range(S.shape[0]):
        e, b = S[i], B[i]
        t = _sum(e)
        hh, hb, flag = _stats_rescaled(e, b, t)
        hh_out[i] = hh
        flags[i] = flag
        if with_p:
            _write_rescaled(e, b, t, hb)
            pp_out[i] = _sumsq(e)


# normalized HVP ---------------------------------------------------------------------------------------------

@_SUM
def _stats_normalized_hvp(e, b, ds, inv, t):
    r = 0.0
    mu = 0.0
    dom = False
    for j in range(e.shape[0]):
        f = e[j] * inv
        r += f * (f - b[j])             # r = dot(S, C)
        mu += f * ds[j]                 # μ = dot(S, dS)
        dom |= 2.0 * e[j] > t
    return r, mu, dom


@_EXACT
def _write_z(e, b, ds, inv, r, mu):
    for j in range(e.shape[0]):
        f = e[j] * inv
        y = ((f - b[j]) + f) - r        # C = S − B; C = C + S; C = C − r
        ds[j] = (ds[j] - mu) * y        # dS = dS − μ; dS = dS·C


@_EXACT
def _write_dp(e, ds, inv, zeta):
    for j in range(e.shape[0]):
        ds[j] = (ds[j] - zeta) * (e[j] * inv)   # dS = dS − ⟨f, z⟩; dS = dS·S


@_EXACT
def normalized_hvp(S, B, dS, r_out, flags):
    for i in range(S.shape[0]):
        e, b, ds = S[i], B[i], dS[i]
        t = _sum(e)
        inv = 1.0 / t
        r, mu, dom = _stats_normalized_hvp(e, b, ds, inv, t)
        r_out[i] = r
        flags[i] = dom
        _write_z(e, b, ds, inv, r, mu)
        _write_dp(e, ds, inv, _dot_scaled(e, ds, inv))


# rescaled HVP -----------------------------------------------------------------------------------------------

@_SUM
def _stats_rescaled_hvp(e, b, ds, t):
    hh = 0.0
    tt = 0.0
    hT = 0.0
    dalpha = 0.0
    duT = 0.0
    flag = False
    half = 0.5 * t
    for j in range(e.shape[0]):
        T = b[j] * t                    # T = B·total
        h = e[j] - T                    # C = S − T
        du = ds[j] * e[j]               # dS = dS·S
        hh += h * h
        tt += T * T
        hT += h * T
        dalpha += du                    # rowsum(dS)
        duT += du * T                   # dot(dS, T)
        flag |= (2.0 * e[j] > t) | (T >= half)   # dominated; above_half(T, tt, ½·total)
    return hh, tt, hT, dalpha, duT, flag


@_EXACT
def _write_rescaled_hvp(e, b, ds, t, gamma, s, kappa):
    for j in range(e.shape[0]):
        T = b[j] * t
        du = ds[j] * e[j]
        a = ((e[j] - T) - gamma) * du   # C = C − γ; C = C·dS
        dg = (du - T * s) - kappa       # T = T·(dα/α); dS = dS − T; dS = dS − κ
        ds[j] = a + dg * e[j]           # dS = dS·S; dS = C + dS


@_EXACT
def rescaled_hvp(S, B, dS, hh_out, pp_out, flags):
    for i in range(S.shape[0]):
        e, b, ds = S[i], B[i], dS[i]
        t = _sum(e)
        inv = 1.0 / t
        hh, tt, hT, dalpha, duT, flag = _stats_rescaled_hvp(e, b, ds, t)
        hh_out[i] = hh
        flags[i] = flag
        kappa = (duT - dalpha * (tt * inv)) * inv
        _write_rescaled_hvp(e, b, ds, t, hT * inv, dalpha * inv, kappa)
        pp_out[i] = _sumsq(ds)
