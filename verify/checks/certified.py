"""Certified Lipschitz bounds (attnreg.verify.certify): interval branch-and-bound in arb, re-checked by the
independent checker. Data: n = 3, d = 2 (vector form), the box ||x||∞ ≤ 1/2; the matrix form in the slow tier."""
from __future__ import annotations

import json

from ..registry import Result, check

A = [["1.2", "-0.4"], ["0.3", "0.9"], ["-0.8", "0.5"]]
B_ROW = ["0.2", "0.5", "0.3"]


def _certify(raw) -> Result:
    from attnreg.verify.certify import bnb, certificate, checker, spec  # deferred: python-flint, when run

    s = spec.from_dict(dict(raw, budget_seconds=120), "check")
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    try:
        checked = checker.check(cert)
    except checker.Rejected as exc:
        return Result.of(False, detail=f"the checker rejected the certificate: {exc}")
    low, high = float(cert["lower_bound"]["value"]), float(cert["bound"])
    return Result.of(cert["status"] == "certified", measured=high, bound=float(cert["target_enclosure"][0]),
                     detail=f"{checked}; lower bound {low:.6g} at {cert['lower_bound']['point']}, so the "
                            f"supremum lies in [{low:.6g}, {high:.6g}]; {cert['boxes_evaluated']} boxes")


@check("certify.f.vector", evidence="certified",
       claim="On ||x||∞ ≤ 1/2 (n = 3, d = 2, fixed data) the softmax f(x) = softmax(Ax) is Lipschitz with constant "
             "1.01·||A||₂/2, certified by arb branch-and-bound and accepted by the independent checker.")
def f_vector(*, seed):
    return _certify(dict(quantity="f", form="vector", A=A, center=["0", "0"], radius="0.5",
                         target="1.01 * 0.5 * norm(A)", refine_to="1.05"))


@check("certify.grad.normalized.vector", evidence="certified",
       claim="On ||x||∞ ≤ 1/2 (n = 3, d = 2, fixed data) the gradient of the normalized loss is Lipschitz with "
             "constant 3.25·||A||₂², certified by arb branch-and-bound and accepted by the independent checker.")
def grad_vector(*, seed):
    return _certify(dict(quantity="grad", form="vector", version="normalized", A=A, b=B_ROW, center=["0", "0"],
                         radius="0.5", target="3.25 * norm(A)^2", refine_to="1.1"))


@check("certify.f.matrix", evidence="certified", tier="slow",
       claim="On ||X||_max ≤ 1/2 (n = 3, d = 2) the row softmax of A1 X A2ᵀ is Lipschitz in X (Frobenius) with "
             "constant 1.01·||A1||₂||A2||₂/2, certified over 4 parameters and accepted by the checker.")
def f_matrix(*, seed):
    A2 = [["0.7", "0.2"], ["-0.5", "0.6"], ["0.1", "-0.9"]]
    return _certify(dict(quantity="f", form="matrix", A1=A, A2=A2, center=[["0", "0"], ["0", "0"]], radius="0.5",
                         target="1.01 * 0.5 * norm(A1) * norm(A2)"))
