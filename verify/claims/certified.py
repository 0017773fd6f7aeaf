r"""Claims backed by a certificate: ``certificate = "spec.toml"`` in a claim (path relative to the claims file).

The spec is run (:mod:`attnreg.verify.certify`), its certificate re-checked by the independent checker,
and the claim is reported **certified — for that data and that box only** when

* the spec is about the claim's object: ``kind = "lipschitz"``, ``wrt`` x / X, the same ``quantity``
  (``f``, or ``grad`` with the same ``version``) and ``form``;
* the data and box satisfy the claim's assumptions at ``R*``, the smallest ``R`` allowed by the
  assumptions of the form ``norm(·) <= R`` (``norm(x)`` taken as its largest value on the box) and by
  ``R >= NUMBER``; step restrictions (``norm_inf(A(x-y)) <= ...``) only weaken a Lipschitz claim and
  are not needed;
* the certified bound is below the claim's constant at ``(n, d, R*)`` by the relative margin
  ``certify.claim_margin`` of the tolerance table
  (the constant is evaluated in float64; twice the bound for a ``grad`` claim with
  ``loss_scale = "full"``: the gradient of ``2L``).

For ``quantity = "f"`` the target ``b`` plays no part: assumptions on ``b`` hold vacuously.

A proved or refuted verdict is kept (a proof covers every box; a confirmed counterexample refutes
the claim wherever it lies); a survived one becomes certified, with the certificate as its evidence.
"""
from __future__ import annotations

import math
from fractions import Fraction

from attnreg.evidence import Evidence
from pathlib import Path

import numpy as np

from ..tolerances import tol
from .assume import NormBound, ParamBound, Simplex

MARGIN = tol("certify.claim_margin").factor


class NotApplicable(ValueError):
    """The certificate does not speak about this claim; one sentence."""


def apply(claim, outcome, outcome_type, pool=None):
    """The outcome with the certificate taken into account (see the module docstring); ``pool`` runs the
    certificate's boxes (None: this process)."""
    try:
        verdict = certify(claim, pool)
    except NotApplicable as exc:
        return outcome_type(claim, "error", f"error: certificate {claim.certificate}: {exc}")
    if outcome.status in ("survived",) and verdict[0]:
        return outcome_type(claim, Evidence.CERTIFIED, f"certified: {verdict[1]}; {outcome.evidence}",
                            worst=outcome.worst,
                            decision=outcome.decision, slack_by_R=outcome.slack_by_R)
    outcome.evidence += f"; certificate: {verdict[1]}"
    return outcome


def certify(claim, pool=None):
    """``(certified?, evidence)``; raise :class:`NotApplicable` for a spec about something else. The
    certificate does not depend on ``pool`` (:func:`attnreg.verify.certify.bnb.run`)."""
    # python-flint (imported by the certify modules) is loaded only for a claim with a certificate
    from attnreg.verify.certify import bnb, certificate, checker  # deferred: python-flint
    from attnreg.verify.certify.spec import SpecError, load  # deferred: python-flint

    path = Path(claim.file).parent / claim.certificate
    try:
        spec = load(path)
    except SpecError as exc:
        raise NotApplicable(str(exc)) from None
    _same_object(claim, spec)
    R, env_text = _R_star(claim, spec)
    cert = certificate.build(bnb.run(spec, pool))
    try:
        checker.check(cert)
    except checker.Rejected as exc:
        return False, f"the certificate of {path} was rejected by the checker ({exc})"
    # a run cut short by its wall-clock budget depends on the machine's speed and the number of workers
    timed = (" (stopped by budget_seconds, a wall-clock budget: this outcome can change with the machine and "
             "--workers; max_boxes is a budget that does not)" if cert["stop"] == "budget_seconds" else "")
    if cert["status"] != "certified":
        return False, f"{path} is not certified (best bound {cert['bound']}, target {spec.target}){timed}"
    env = dict(n=spec.n, d=spec.d, R=R)
    K = claim.constant.evaluate(env)
    scale = 2 if claim.quantity == "grad" and claim.loss_scale == "full" else 1
    bound = float(Fraction(cert["bound"])) * scale
    what = f"sup ||{'J_f' if claim.quantity == 'f' else 'Hessian'}||_2"
    if not bound <= K * (1 - MARGIN):
        return False, (f"{path} certifies {what} ≤ {cert['bound']}{' (×2, full loss)' if scale == 2 else ''}, "
                       f"not below the claimed constant {K:.6g} at {env_text}{timed}")
    return True, (f"for the data and box of {path} only: {what} ≤ {cert['bound']}"
                  f"{' (×2, full loss)' if scale == 2 else ''} (certificate checked independently) < constant "
                  f"{K:.6g} at {env_text}{timed}")


def _same_object(claim, spec):
    if claim.kind != "lipschitz" or claim.wrt not in ("x", "X"):
        raise NotApplicable("certificates bound Lipschitz constants in x (X); the claim is "
                            f"{claim.kind}{' in ' + claim.wrt if claim.wrt else ''}")
    if claim.quantity not in ("f", "grad") or claim.quantity != spec.quantity:
        raise NotApplicable(f"the spec certifies quantity {spec.quantity!r}, the claim is about {claim.quantity!r}")
    if claim.form != spec.form:
        raise NotApplicable(f"the spec is in {spec.form} form, the claim in {claim.form} form")
    if claim.quantity == "grad" and claim.version != spec.version:
        raise NotApplicable(f"the spec is about the {spec.version} loss, the claim about the {claim.version} one")


def _values(spec):
    """The norms an assumption can name, for the spec's data and box."""
    arr = lambda k: np.array([[float(v) for v in r] for r in spec.data[k]])  # noqa: E731
    corner = np.abs(np.array([float(c) for c in spec.center])) + float(spec.radius)
    out = dict(x=float(np.linalg.norm(corner)), X=float(np.linalg.norm(corner)))
    if spec.form == "vector":
        out["A"] = float(np.linalg.norm(arr("A"), 2))
        if "b" in spec.data:
            out["b"] = float(np.linalg.norm([float(v) for v in spec.data["b"]]))
    else:
        out["A1"], out["A2"] = (float(np.linalg.norm(arr(k), 2)) for k in ("A1", "A2"))
        out["kron"] = out["A1"] * out["A2"]
        if "B" in spec.data:
            out["b"] = float(max(np.linalg.norm(r) for r in arr("B")))
    return out


def _R_star(claim, spec):
    vals = _values(spec)
    R = 0.0
    for a in claim.hypotheses:
        if claim.quantity == "f" and getattr(a, "target", None) == "b":
            continue
        if isinstance(a, NormBound) and a.bound.text.replace(" ", "") == "R":
            if a.target not in vals:
                raise NotApplicable(f"assumption {a.text!r} names data the spec does not give")
            R = max(R, vals[a.target])
        elif isinstance(a, ParamBound) and a.symbol == "R" and a.op in (">=", ">"):
            R = max(R, a.value.evaluate({}))
    env = dict(n=spec.n, d=spec.d, R=R)
    env_text = f"n={spec.n}, d={spec.d}, R={R:.6g}"
    for a in claim.hypotheses:
        ok = True
        if claim.quantity == "f" and (isinstance(a, Simplex) or getattr(a, "target", None) == "b"):
            continue  # f does not involve b
        if isinstance(a, NormBound):
            if a.target not in vals:
                raise NotApplicable(f"assumption {a.text!r} names data the spec does not give")
            ok = vals[a.target] <= a.bound.evaluate(env) * (1 + MARGIN) and not (
                a.strict and vals[a.target] >= a.bound.evaluate(env))
        elif isinstance(a, ParamBound):
            v, w = env[a.symbol], a.value.evaluate({})
            ok = {"<=": v <= w, "<": v < w, ">=": v >= w, ">": v > w}[a.op]
        elif isinstance(a, Simplex):
            rows = [spec.data["b"]] if spec.form == "vector" else list(spec.data.get("B", []))
            ok = bool(rows) and all(all(Fraction(v) >= 0 for v in r) and sum(map(Fraction, r)) == 1 for r in rows)
        if not ok:
            raise NotApplicable(f"the spec's data and box do not satisfy {a.text!r} at {env_text}")
    if not math.isfinite(R):
        raise NotApplicable("R is not finite")
    return R, env_text
