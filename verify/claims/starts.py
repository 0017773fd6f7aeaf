r"""Structured starting points for the search, most telling first.

Bounds that lose a √n or an n are tight where every coordinate moves together, so the data starts
with rank-1 matrices along the all-ones direction ``1/√n`` (``A = r·(1/√n)1 e1ᵀ``, ``x = ±r e1``
gives the logits ``s = ±(r r_x/√n)·1``), along ``e1`` (one large logit: ``u`` and ``α`` grow like
``e^{R²}``), along ``(e1 − e2)/√2`` (the softmax Jacobian's top eigenvector at ``f = (½, ½, 0…)``),
rank-2 mixtures, and random directions; all on the boundary of their balls, plus interior and zero
points. Targets ``b``: ``±1/√n``, ``±e1``, ``±(e1 − e2)/√2``, 0 (simplex: vertices, edge midpoints,
the uniform row). The matrix form embeds the same patterns row-wise: ``A1 = r e1 e1ᵀ`` (one active
row) makes row 1 of ``A1 X A2ᵀ`` the vector problem with data ``A2``; ``A1 = r (1/√n)1 e1ᵀ`` repeats it
in every row.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


def _units(m: int, rng) -> dict:
    e = np.eye(m)
    out = {"one": np.full(m, 1 / math.sqrt(m)), "e1": e[0]}
    if m >= 2:
        out["q12"] = (e[0] - e[1]) / math.sqrt(2)
        out["e12"] = (e[0] + e[1]) / math.sqrt(2)
    g = rng.standard_normal(m)
    out["rand"] = g / np.linalg.norm(g)
    return out


def _matrices(n, d, rng) -> list:
    """Unit-spectral-norm n × d patterns."""
    un, ud = _units(n, rng), _units(d, rng)
    pats = [np.outer(un["one"], ud["e1"])]
    if n >= 2:
        pats.append(np.outer(un["q12"], ud["e1"]))
    pats.append(np.outer(un["e1"], ud["e1"]))
    if n >= 2 and d >= 2:
        pats.append(np.outer(un["one"], ud["e1"]) + np.outer(un["q12"], np.eye(d)[1]))
    G = rng.standard_normal((n, d))
    pats.append(G / np.linalg.norm(G, 2))
    return pats


def _pair(n, d, radius):
    """``(A, x)`` with unit-spectral-norm ``A`` and ``||x|| ≤ 1`` such that ``r_A·r_x·A x`` has two
    competing logits ``±0.3`` and the rest pushed down (``f ≈ (½, ½, 0, …)``, where the softmax
    Jacobian is largest), and A's range also holding ``(e1 − e2)/√2``."""
    if n < 3 or d < 2 or radius <= 0.6:
        return None
    s = np.full(n, -min(radius * 0.9, 12.0 * math.sqrt(n - 2)) / math.sqrt(n - 2))
    s[:2] = (0.3, -0.3)
    s *= min(1.0, 0.95 * radius / np.linalg.norm(s))
    w1 = s / np.linalg.norm(s)
    q = np.zeros(n)
    q[:2] = (1 / math.sqrt(2), -1 / math.sqrt(2))
    w2 = q - (q @ w1) * w1
    w2 /= np.linalg.norm(w2)
    A = np.outer(w1, np.eye(d)[0]) + np.outer(w2, np.eye(d)[1])
    return A, np.linalg.norm(s) / radius * np.eye(d)[0]


def _points(d, rng) -> list:
    ud = _units(d, rng)
    out = [ud["e1"], np.zeros(d), -ud["e1"], 0.5 * ud["e1"]]
    if d >= 2:
        out.append(ud["e12"])
    out.append(ud["rand"])
    return out


def _targets(n, simplex, rng) -> list:
    if simplex:
        e = np.eye(n)
        out = [e[0], np.full(n, 1 / n)]
        if n >= 2:
            out += [(e[0] + e[1]) / 2, e[1]]
        return out
    un = _units(n, rng)
    out = [-un["one"], un["one"], un["e1"], -un["e1"], np.zeros(n)]
    if n >= 2:
        out += [un["q12"], -un["q12"]]
    return out + [un["rand"]]


def _diagonal(first: list, second: list) -> list:
    """All pairs, ordered by the sum of their indices, so that early pairs vary both members."""
    pairs = [(i + j, i, a, b) for i, a in enumerate(first) for j, b in enumerate(second)]
    return [(a, b) for _, _, a, b in sorted(pairs, key=lambda t: (t[0], t[1]))]


def structured(claim, pt, shapes: dict, rng):
    """Yield raw starting points (dicts of arrays), most telling combinations first."""
    n, d = pt.n, pt.d
    bname = "b" if "b" in shapes else ("B" if "B" in shapes else None)
    targets = _targets(n, pt.simplex, rng) if bname else [None]
    rb = 1.0 if pt.simplex else pt.cap("b")

    def with_b(base, k):
        if bname is None:
            return base
        t = targets[k % len(targets)]
        base[bname] = t * rb if bname == "b" else np.tile(t * rb, (n, 1))
        return base

    pair_targets = [None]
    if bname and n >= 3:  # _pair needs n ≥ 3
        q = np.zeros(n)
        q[:2] = (1 / math.sqrt(2), -1 / math.sqrt(2))
        pair_targets = [np.eye(n)[0], np.eye(n)[1]] if pt.simplex else [q, -q, np.eye(n)[0]]
    if claim.form == "vector":
        rA, rx = pt.cap("A"), pt.cap("x")
        pair = _pair(n, d, rA * rx)
        for t in pair_targets if pair else ():
            base = dict(A=rA * pair[0], x=rx * pair[1])
            if bname:
                base[bname] = t * rb
            yield base
        for k, (A, x) in enumerate(_diagonal(_matrices(n, d, rng), _points(d, rng))):
            yield with_b(dict(A=rA * A, x=rx * x), k)
        return
    rk = pt.r("kron")
    r1, r2 = pt.cap("A1"), pt.cap("A2")
    if r1 * r2 > rk:  # share ||A1||·||A2|| ≤ rk, as evenly as the separate bounds allow
        r1 = min(r1, math.sqrt(rk))
        r2 = min(r2, rk / r1)
        r1 = min(pt.cap("A1"), rk / r2)
    rX = pt.cap("X")
    un, ud = _units(n, rng), _units(d, rng)
    pair = _pair(n, d, r1 * r2 * rX)
    for t in pair_targets if pair else ():
        base = dict(A1=r1 * np.outer(un["e1"], ud["e1"]), A2=r2 * pair[0], X=rX * np.outer(ud["e1"], pair[1]))
        if bname:
            base[bname] = np.tile(t * rb, (n, 1))
        yield base
    firsts = [np.outer(un["e1"], ud["e1"]), np.outer(un["one"], ud["e1"])]
    for k, ((A2, x), A1) in enumerate(itertools.product(_diagonal(_matrices(n, d, rng), _points(d, rng)), firsts)):
        yield with_b(dict(A1=r1 * A1, A2=r2 * A2, X=rX * np.outer(ud["e1"], x)), k // 2)


def random_start(claim, pt, shapes: dict, rng) -> dict:
    """Gaussian raw arrays at the scale of their balls (projection puts them on or inside)."""
    scale = dict(A=pt.cap("A"), x=pt.cap("x"), b=1.0 if pt.simplex else pt.cap("b"),
                 A1=pt.cap("A1"), A2=pt.cap("A2"), X=pt.cap("X"), B=1.0 if pt.simplex else pt.cap("b"))
    out = {}
    for name, shape in shapes.items():
        g = rng.standard_normal(shape)
        norm = np.linalg.norm(g, 2) if len(shape) == 2 and name != "B" else np.linalg.norm(g)
        out[name] = g * (scale[name] * rng.uniform(0.3, 1.2) / max(norm, 1e-300))
        if name == "B":
            out[name] = g * (scale[name] / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-300))
    if claim.form == "matrix" and math.isfinite(pt.r("kron")):
        t = math.sqrt(pt.r("kron") / max(np.linalg.norm(out["A1"], 2) * np.linalg.norm(out["A2"], 2), 1e-300))
        out["A1"], out["A2"] = out["A1"] * t, out["A2"] * t
    return out
