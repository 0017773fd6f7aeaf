r"""Where ``||M(x)||₂`` is largest, roughly: a float64 search that only *chooses* a point (``run`` side).

With ``refine_to = ρ`` the branch-and-bound splits every box whose bound exceeds ``ρ ×`` the best lower
bound known. Started from the root's centre alone, that goal moves up as boxes are evaluated, and every
move is a synchronisation (a new round). A good lower bound before the tree is built fixes the goal
instead: this module looks for the dyadic box centre ``x`` with the largest float64 ``||M(x)||₂`` —
first the centres of the uniform level-``L`` boxes (``2^{pL} ≤`` :data:`POINTS`), then :data:`ZOOM`
times the centres one level finer around the best one (the best box's children and its neighbours',
or its children alone where that would be too many points; above 8 parameters, 256 fixed
pseudo-random level-1 centres, and no zoom where even the ``2^p`` children are more than 256).
Nothing here is rigorous and nothing needs to be: :func:`.bnb.run` evaluates ``||M||₂`` at the chosen
centre in arb, and that is the lower bound it states (a box centre, as the checker requires). The
search is deterministic (same data, same points, same float64 arithmetic in this process), so the
certificate does not depend on the workers.

``M`` is the same matrix as in :mod:`.enclose` (Jacobian of the stacked softmax rows, or the loss's
Hessian, normalized or rescaled), written with NumPy over a batch of points.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

POINTS = 256  # centres in the first, uniform look (and at most this many per zoom step, see _zoom)
ZOOM = 4  # zoom steps, one dyadic level each


def _rows(prob):
    """``(A, b)``: ``A`` (rows × n × p) and ``b`` (rows × n) in float64, as in :func:`.problem.rows`."""
    data = prob["data"]
    if prob["form"] == "vector":
        A = np.array([[float(v) for v in r] for r in data["A"]])
        b = np.array([float(v) for v in data["b"]]) if "b" in data else np.zeros(len(A))
        return A[None], b[None]
    A1 = np.array([[float(v) for v in r] for r in data["A1"]])
    A2 = np.array([[float(v) for v in r] for r in data["A2"]])
    n, d = A1.shape
    B = np.array([[float(v) for v in r] for r in data["B"]]) if "B" in data else np.zeros((n, n))
    return np.einsum("ji,lk->jlik", A1, A2).reshape(n, n, d * d), B


CHUNK = 1 << 20  # floats per intermediate array: points are taken in batches of at most this over the data's size


def norms(prob, x):
    """float64 ``||M(x)||₂`` for each row of ``x`` (points × p); ``-inf`` where float64 overflows."""
    A, b = _rows(prob)
    step = max(1, CHUNK // A.size)
    return np.concatenate([_norms(A, b, prob, x[i:i + step]) for i in range(0, len(x), step)])


def _norms(A, b, prob, x):
    with np.errstate(all="ignore"):
        s = np.einsum("jlp,Np->Njl", A, x)
        if prob["quantity"] == "grad" and prob["version"] == "rescaled":
            u = np.exp(s)
            h = u - u.sum(-1, keepdims=True) * b
            beta = (h * b).sum(-1, keepdims=True)
            ua, uba = np.einsum("Njl,jlp->Njp", u, A), np.einsum("Njl,jl,jlp->Njp", u, b, A)
            M = (np.einsum("Njl,jlp,jlq->Npq", u * (h + u - beta), A, A)
                 - np.einsum("Njp,Njq->Npq", uba, ua) - np.einsum("Njp,Njq->Npq", ua, uba)
                 + np.einsum("j,Njp,Njq->Npq", (b * b).sum(-1), ua, ua))
        else:
            f = np.exp(s - s.max(-1, keepdims=True))
            f /= f.sum(-1, keepdims=True)
            At = A[None] - np.einsum("Njl,jlp->Njp", f, A)[:, :, None, :]  # a_i − ā
            if prob["quantity"] == "f":
                M = (f[..., None] * At).reshape(len(x), -1, A.shape[-1])
            else:
                w = f * (2 * f - b - (f * (f - b)).sum(-1, keepdims=True))
                M = np.einsum("Njl,Njlp,Njlq->Npq", w, At, At)
        out = np.full(len(x), -np.inf)
        ok = np.isfinite(M).all(axis=(1, 2))
        if ok.any():
            out[ok] = np.linalg.norm(M[ok], 2, axis=(1, 2))
    return out


def _centres(prob, idx, level):
    """The centres of the level-``level`` boxes with integer coordinates ``idx`` (boxes × p)."""
    c = np.array([float(v) for v in prob["domain"]["center"]])
    return c + float(prob["domain"]["radius"]) * (-1 + (2 * np.asarray(idx, float) + 1) / 2 ** level)


def best_box(prob):
    """The dyadic box (coordinates ``(i, ℓ)`` as in :mod:`.problem`) whose centre the search found largest."""
    p = len(prob["domain"]["center"])
    level = max(1, int(math.log2(POINTS)) // p)
    if 2 ** (p * level) <= POINTS:
        idx = np.array(list(itertools.product(range(2 ** level), repeat=p)))
    else:  # many parameters: a fixed pseudo-random set of level-1 centres (the seed makes it reproducible)
        idx = np.random.default_rng(0).integers(0, 2, size=(POINTS, p))
    values = norms(prob, _centres(prob, idx, level))
    best = idx[int(np.argmax(values))]
    for _ in range(ZOOM):
        idx = _zoom(best, level)
        if idx is None:
            break
        level += 1
        values = norms(prob, _centres(prob, idx, level))
        best = idx[int(np.argmax(values))]
    return tuple((int(i), level) for i in best)


def _zoom(best, level):
    """Level ``level + 1`` boxes around ``best``: the children of it and its neighbours (``6^p`` boxes), or its
    children alone (``2^p``) where that is more than :data:`POINTS`; None where even those are."""
    p, top = len(best), 2 ** (level + 1)
    if 6 ** p <= POINTS:
        ranges = [range(max(0, 2 * i - 2), min(top, 2 * i + 4)) for i in best]
    elif 2 ** p <= POINTS:
        ranges = [range(2 * i, 2 * i + 2) for i in best]
    else:
        return None
    return np.array(list(itertools.product(*ranges)))
