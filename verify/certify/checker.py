r"""The independent checker of certificate files.

It shares no bound computation with ``run``: the enclosures come from :mod:`.check_formulas`
(hand-derived derivatives, plain softmax), and ``||M||₂ ≤ β`` on a box is decided by a different
rigorous test — ``β² I − MᵀM`` positive definite for every member of the enclosure of ``MᵀM``, by an
LDLᵀ factorisation in ball arithmetic whose pivots are all positive (Sylvester). Where that test is
too coarse for a box it splits the box (at most ``MAX_DEPTH`` levels) and tests the pieces, so a
looser enclosure costs time, never soundness. A certificate is valid only if

1. it parses, names the right format, and its digest matches the data, domain and target it states;
2. its boxes are inside the domain, do not overlap and cover it (an exact recursion on the dyadic boxes);
3. every box's bound holds, ``bound`` is the largest box bound, and a ``certified`` one has
   ``bound ≤`` the target (evaluated here: norms by a Rayleigh quotient in arb, a lower bound);
4. its lower bound and counterexample (if any) hold at their points;
5. its descriptive fields say what the rest proves: no unknown field; the statement is the one its
   fields give; ``stop`` agrees with the status; ``target_enclosure`` encloses the target; the lower
   bound's and counterexample's points are the exact centres of the boxes they name; the worst box is
   one of the boxes, with its bound; ``boxes_evaluated`` is at least the ``2L − 1`` boxes a tree with
   ``L`` leaves takes.
"""
from __future__ import annotations

import decimal
import json
from fractions import Fraction

import flint
import numpy as np

from . import certificate as C
from .check_formulas import Disjoint, enclosure, matrix_and_derivatives
from .spec import SpecError, factors, from_dict

FIELDS = ("format", "status", "statement", "stop", *C.PROBLEM_KEYS, "target_enclosure", "bound", "lower_bound",
          "boxes_evaluated", "boxes", "worst_box", "counterexample", "digest")
# a certified run ends when its target is met, or later by its budget while it refines (refine_to)
STOPS = {"certified": ("certified", "budget_seconds", "max_boxes"),
         "not certified": ("counterexample", "budget_seconds", "max_boxes")}
# A box the checker cannot verify in 2^14 pieces is rejected. A false bound is not caught early: a piece fails
# only at depth 0, so rejecting costs at least one path of 15 enclosures, and more where a first half that
# holds must be split deeply before the failing half is reached (the examples edited to 0.5x-0.9x: one path).
# A check of each failing piece's centre would stop sooner but cost valid certificates ~30 % (grad example).
MAX_DEPTH = 14


class Rejected(ValueError):
    """The certificate is not valid; ``str()`` says why in one sentence."""


def check(cert: dict, progress=None) -> str:
    """Raise :class:`Rejected` unless ``cert`` is valid; returns a one-line summary."""
    try:
        return _check(cert, progress)
    except Rejected:
        raise
    except Disjoint as exc:
        raise Rejected(f"the checker's own enclosures contradict each other, so no bound can be verified ({exc})") \
            from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
        raise Rejected(f"malformed certificate ({exc.__class__.__name__}: {exc})") from None


def _check(cert, progress):
    _shape(cert)
    if C.digest(cert) != cert["digest"]:
        raise Rejected("the data, domain or target differ from what the certificate states (digest mismatch)")
    _validate_problem(cert)
    p = len(cert["domain"]["center"])
    boxes = [_box(b, p) for b in cert["boxes"]]
    _cover(boxes, p)
    old = flint.ctx.prec
    flint.ctx.prec = cert["precision_bits"]
    try:
        rows = _rows(cert)
        for idx, (entry, box) in enumerate(zip(cert["boxes"], boxes)):
            beta = _decimal(entry["bound"], f"boxes[{idx}].bound")
            if not _holds(cert, rows, box, beta, MAX_DEPTH):
                raise Rejected(f"box {idx} {entry['box']}: its bound {entry['bound']} could not be verified")
            if progress:
                progress(idx + 1, len(boxes))
        top = max(Fraction(_decimal(e["bound"], "bound")) for e in cert["boxes"])
        if Fraction(_decimal(cert["bound"], "bound")) != top:
            raise Rejected(f"the stated bound {cert['bound']} is not the largest box bound {top}")
        if cert["status"] != "certified" and (cert.get("worst_box") or {}).get("bound") != cert["bound"]:
            raise Rejected("a not-certified certificate must name its worst box, whose bound is the stated bound")
        target_low, target_high = _target_range(cert)
        if cert["status"] == "certified" and not flint.arb(str(_decimal(cert["bound"], "bound"))) <= target_low:
            raise Rejected(f"status is 'certified' but the bound {cert['bound']} is not below the target "
                           f"{cert['target']}")
        _lower_bound(cert, rows, target_high)
        _descriptive(cert, boxes, p, target_low, target_high)
    finally:
        flint.ctx.prec = old
    return (f"{cert['status']}: sup ||M||_2 <= {cert['bound']} on {len(boxes)} boxes "
            f"(target {cert['target']}; lower bound {cert['lower_bound']['value']})")


def load(path) -> dict:
    """Parse strictly: a repeated key (which parsers resolve differently) and nesting too deep to parse are
    refused with a sentence, like any other unreadable file."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, object_pairs_hook=_no_repeated_keys)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else f"{exc.__class__.__name__}: {exc}"
        raise Rejected(f"{path}: cannot read the certificate ({what})") from None


def _no_repeated_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise json.JSONDecodeError(f"the key {key!r} appears twice in one object", "", 0)
        out[key] = value
    return out


def _shape(cert):
    if not isinstance(cert, dict) or cert.get("format") != C.FORMAT:
        raise Rejected(f"not an attnreg certificate (format must be {C.FORMAT!r})")
    for key in FIELDS:
        if key not in cert and key not in ("worst_box", "counterexample"):
            raise Rejected(f"missing field {key!r}")
    for key in cert:
        if key not in FIELDS:
            raise Rejected(f"unknown field {key!r} (a certificate states only {', '.join(FIELDS)})")
    if not isinstance(cert["domain"], dict) or sorted(cert["domain"]) != ["center", "norm", "radius"] \
            or cert["domain"]["norm"] != "inf":
        raise Rejected("domain must be {center, radius, norm: 'inf'}: the checker verifies ∞-norm boxes only")
    if cert["status"] not in ("certified", "not certified"):
        raise Rejected(f"status must be 'certified' or 'not certified', got {cert['status']!r}")
    if not isinstance(cert["boxes"], list) or not cert["boxes"]:
        raise Rejected("boxes must be a non-empty list")


def _validate_problem(cert):
    raw = dict(quantity=cert["quantity"], form=cert["form"], center=_nest(cert), radius=cert["domain"]["radius"],
               target=cert["target"], budget_seconds=1, precision_bits=cert["precision_bits"], **cert["data"])
    if cert["version"] is not None:
        raw["version"] = cert["version"]
    try:
        from_dict(raw, "certificate")
    except (SpecError, TypeError, KeyError) as exc:
        raise Rejected(f"the problem it states is malformed: {exc}") from None


def _nest(cert):
    c = cert["domain"]["center"]
    if cert["form"] == "vector":
        return c
    d = int(round(len(c) ** 0.5))
    return [c[i * d:(i + 1) * d] for i in range(d)]


def _decimal(text, where) -> str:
    try:
        if not isinstance(text, str) or not decimal.Decimal(text).is_finite():
            raise decimal.InvalidOperation
    except decimal.InvalidOperation:
        raise Rejected(f"{where}: {text!r} is not a decimal string") from None
    return text


def _box(entry, p, keys=("box", "bound")):
    if not isinstance(entry, dict) or sorted(entry) != sorted(keys):
        raise Rejected(f"{entry!r}: must have exactly the fields {', '.join(keys)}")
    box = entry.get("box")
    ok = (isinstance(box, list) and len(box) == p and all(
        isinstance(c, list) and len(c) == 2 and all(type(v) is int for v in c) and 0 <= c[1] <= 200
        and 0 <= c[0] < 2 ** c[1] for c in box))
    if not ok:
        raise Rejected(f"box {entry!r}: must be {p} pairs [i, level] with 0 <= i < 2^level")
    return tuple((c[0], c[1]) for c in box)


def _cover(boxes, p):
    """The dyadic boxes tile the domain: no gap, no overlap (exact)."""
    stack = [(tuple((0, 0) for _ in range(p)), boxes)]
    while stack:
        region, inside = stack.pop()
        if not inside:
            raise Rejected(f"the boxes do not cover the domain: nothing covers the sub-box {[list(c) for c in region]}")
        if any(b == region for b in inside):
            if len(inside) > 1:
                raise Rejected(f"boxes overlap on the sub-box {[list(c) for c in region]}")
            continue
        k = next(j for j in range(p) if any(b[j][1] > region[j][1] for b in inside))
        ri, rl = region[k]
        halves = {2 * ri: [], 2 * ri + 1: []}
        for b in inside:
            bi, bl = b[k]
            if bl == rl:
                for half in halves:
                    halves[half].append(b[:k] + ((half, rl + 1),) + b[k + 1:])
            else:
                halves[bi >> (bl - rl - 1)].append(b)
        for half, sub in halves.items():
            stack.append((region[:k] + ((half, rl + 1),) + region[k + 1:], sub))


def _rows(cert):
    data = cert["data"]
    arr = lambda M: [[flint.arb(v) for v in r] for r in M]  # noqa: E731
    if cert["form"] == "vector":
        A = arr(data["A"])
        return [(A, [flint.arb(v) for v in data.get("b", ["0"] * len(A))])]
    A1, A2 = arr(data["A1"]), arr(data["A2"])
    n, d = len(A1), len(A1[0])
    B = arr(data["B"]) if "B" in data else [[flint.arb(0)] * n for _ in range(n)]
    kron = lambda j: [[A1[j][i] * A2[l][k] for i in range(d) for k in range(d)] for l in range(n)]  # noqa: E731
    return [(kron(j), B[j]) for j in range(n)]


def _point(cert, box):
    """``(centre, box)`` as arb lists: ``x_k ∈ c_k + r [−1 + 2i/2^ℓ, −1 + 2(i+1)/2^ℓ]``."""
    r = flint.arb(cert["domain"]["radius"])
    xc, X = [], []
    for ck, (i, lvl) in zip(cert["domain"]["center"], box):
        lo = flint.arb(2 * i - 2 ** lvl) / 2 ** lvl
        hi = flint.arb(2 * i + 2 - 2 ** lvl) / 2 ** lvl
        xc.append(flint.arb(ck) + r * (lo + hi) / 2)
        X.append(flint.arb(ck) + r * lo.union(hi))
    return xc, X


def _holds(cert, rows, box, beta, depth) -> bool:
    """``||M||₂ ≤ β`` on the box, proved by the test or on the two halves, depth first (``all`` stops at the
    first half that fails)."""
    xc, X = _point(cert, box)
    M = enclosure(rows, xc, X, cert["quantity"], cert["version"])
    if _norm_below(M, flint.arb(beta).lower()):
        return True
    if depth == 0:
        return False
    k = min(range(len(box)), key=lambda j: (box[j][1], j))
    i, lvl = box[k]
    return all(_holds(cert, rows, box[:k] + ((2 * i + h, lvl + 1),) + box[k + 1:], beta, depth - 1) for h in (0, 1))


def _norm_below(M, beta) -> bool:
    """``||M'||₂ < β`` for every member M' of M: ``β² I − MᵀM`` positive definite (LDLᵀ, Sylvester)."""
    if not beta > 0:  # only the exact zero matrix has norm 0
        return beta == 0 and all(e == 0 for row in M for e in row)
    cols = list(zip(*M))
    G = [[(beta * beta if i == j else 0) - sum((a * b for a, b in zip(cols[i], cols[j])), flint.arb(0))
          for j in range(len(cols))] for i in range(len(cols))]
    n = len(G)
    for k in range(n):  # in place: G[k][k] becomes the pivot d_k, G[i][k] the multiplier times d_k
        for j in range(k):
            G[k][k] -= G[k][j] * G[k][j] / G[j][j]
        if not G[k][k] > 0:
            return False
        for i in range(k + 1, n):
            for j in range(k):
                G[i][k] -= G[i][j] * G[k][j] / G[j][j]
    return True


def _rayleigh_lower(M):
    """A rigorous lower bound of ``||M||₂``: ``||M v|| / ||v||`` in arb at a float singular vector ``v``."""
    mids = np.array([[float(e.mid()) for e in r] for r in M])
    v = [flint.arb(float(t)) for t in np.linalg.svd(mids)[2][0]]
    Mv = [sum((e * t for e, t in zip(r, v)), flint.arb(0)) for r in M]
    q = sum((y * y for y in Mv), flint.arb(0)) / sum((t * t for t in v), flint.arb(0))
    return q.lower().sqrt().lower() if q.lower() > 0 else flint.arb(0)


def _target_range(cert):
    """Exact arbs ``(low, high)`` around the target; spectral norms enclosed by a Rayleigh quotient from below
    and the positive-definiteness test from above."""
    text = cert["target"]
    try:
        value = flint.arb(str(decimal.Decimal(text)))
        return value.lower(), value.upper()
    except (decimal.InvalidOperation, ValueError):
        pass
    nums, powers = factors(text, cert["form"])
    low = high = flint.arb(1)
    for s in nums:
        low, high = low * flint.arb(s).lower(), high * flint.arb(s).upper()
    for name, k in powers.items():
        M = [[flint.arb(v) for v in r] for r in cert["data"][name]]
        lo = _rayleigh_lower(M)
        for slack in (-100, -60, -40, -30):  # the tightest upper end the test proves
            hi = (lo * (1 + flint.arb(2) ** slack)).upper() + flint.arb(2) ** -1000
            if _norm_below(M, hi):
                break
        else:
            raise Rejected(f"could not enclose norm({name}) for the target")
        low, high = low * lo ** k, high * hi ** k
    return low.lower(), high.upper()


def _at(cert, rows, point, where):
    """``M(point)``, after checking exactly that the point is a list of decimals inside the domain: a value
    attained outside it says nothing about the sup over the domain."""
    dom = cert["domain"]
    if not isinstance(point, list) or len(point) != len(dom["center"]):
        raise Rejected(f"{where}: the point must list {len(dom['center'])} decimal strings")
    r = Fraction(decimal.Decimal(dom["radius"]))
    for k, (v, ck) in enumerate(zip(point, dom["center"])):
        if abs(Fraction(decimal.Decimal(_decimal(v, where))) - Fraction(decimal.Decimal(ck))) > r:
            raise Rejected(f"{where}: the point {point} lies outside the domain (coordinate {k})")
    x = [flint.arb(v) for v in point]
    return matrix_and_derivatives(rows, x, cert["quantity"], cert["version"])[0]


def _lower_bound(cert, rows, target_high):
    lb = cert["lower_bound"]
    value = flint.arb(_decimal(lb["value"], "lower_bound.value"))
    if not _rayleigh_lower(_at(cert, rows, lb["point"], "lower_bound")) >= value:
        raise Rejected(f"the lower bound {lb['value']} does not hold at its point {lb['point']}")
    cx = cert.get("counterexample")
    if cx:
        Mx = _at(cert, rows, cx["point"], "counterexample")
        if not _rayleigh_lower(Mx) > target_high:
            raise Rejected(f"the counterexample at {cx['point']} does not exceed the target")
        # the stated value is ||M(point)|| to 12 digits at least: not below what is shown there, not above it
        stated = flint.arb(_decimal(cx["value"], "counterexample.value"))
        slack = 1 + flint.arb(10) ** -12
        if not ((_rayleigh_lower(Mx) * slack).lower() >= stated.upper() and _norm_below(Mx, (stated * slack).upper())):
            raise Rejected(f"the counterexample's value {cx['value']} is not ||M|| at its point {cx['point']}")


def _centre_of(cert, box, point, where):
    """The point is exactly the centre of the box: ``c_k + r (2i + 1 − 2^ℓ) / 2^ℓ`` in rationals."""
    r = Fraction(decimal.Decimal(cert["domain"]["radius"]))
    for k, (v, ck, (i, lvl)) in enumerate(zip(point, cert["domain"]["center"], box)):
        want = Fraction(decimal.Decimal(ck)) + r * Fraction(2 * i + 1 - 2 ** lvl, 2 ** lvl)
        if Fraction(decimal.Decimal(v)) != want:
            raise Rejected(f"{where}: the point {point} is not the centre of its box {[list(c) for c in box]} "
                           f"(coordinate {k})")


def _descriptive(cert, boxes, p, target_low, target_high):
    """The fields that state, rather than prove: each must agree with what was checked (item 5 above)."""
    status, stop = cert["status"], cert.get("stop")
    if cert["statement"] != C.statement(cert):
        raise Rejected("the statement is not the one its fields give")
    if stop not in STOPS[status]:
        raise Rejected(f"stop {stop!r} does not go with status {status!r} (allowed: {', '.join(STOPS[status])})")
    enc = cert["target_enclosure"]
    if not isinstance(enc, list) or len(enc) != 2:
        raise Rejected("target_enclosure must be [low, high]")
    low, high = (flint.arb(_decimal(v, "target_enclosure")) for v in enc)
    if not (low <= target_low and high >= target_high):
        raise Rejected(f"target_enclosure {enc} does not enclose the target {cert['target']}")
    lb = cert["lower_bound"]
    _centre_of(cert, _box(lb, p, ("value", "point", "box")), lb["point"], "lower_bound")
    count = cert["boxes_evaluated"]
    if type(count) is not int or count < 2 * len(boxes) - 1:
        raise Rejected(f"boxes_evaluated {count!r}: a tree with {len(boxes)} leaves takes at least "
                       f"{2 * len(boxes) - 1} evaluated boxes")
    if status == "certified":
        for key in ("worst_box", "counterexample"):
            if key in cert:
                raise Rejected(f"a certified certificate has no {key!r}")
        return
    worst = cert.get("worst_box")
    box = _box(worst, p)
    if box not in boxes or cert["boxes"][boxes.index(box)]["bound"] != worst["bound"]:
        raise Rejected(f"the worst box {worst['box']} with bound {worst['bound']} is not one of the boxes")
    if "counterexample" not in cert:
        raise Rejected("missing field 'counterexample' (null when none was found)")
    cx = cert["counterexample"]
    if cx is None:
        return
    _centre_of(cert, _box(cx, p, ("point", "box", "value", "target", "dps")), cx["point"], "counterexample")
    if stop != "counterexample" or cx["dps"] != 50:
        raise Rejected("a counterexample comes with stop 'counterexample' and dps 50")
    value, target = (decimal.Decimal(_decimal(cx[k], f"counterexample.{k}")) for k in ("value", "target"))
    if not (value > target and flint.arb(cx["target"]).overlaps(target_low.union(target_high))):
        raise Rejected(f"the counterexample's value {cx['value']} and target {cx['target']} are not what it "
                       f"shows (value > target, the target as enclosed here)")
