r"""The certificate file (JSON), written atomically.

Fields (``format = "attnreg-certificate/1"``)::

    status            "certified" | "not certified"   stop   certified | counterexample | budget_seconds | max_boxes
    statement         the inequality in words
    quantity, form, version, data (decimal strings, as in the spec), domain {center, radius, norm: "inf"},
    target (as written), target_enclosure [low, high] (decimals), precision_bits
    bound             the largest box bound: sup over the domain of ||M||₂ ≤ bound (decimal, rounded up)
    lower_bound       {value, point, box}: ||M(point)||₂ ≥ value (rigorous), the best centre seen
    boxes             [{box: [[i, level], ...], bound}]: dyadic sub-boxes covering the domain, each with
                      sup over it of ||M||₂ ≤ bound
    worst_box, counterexample   when not certified: the box with the largest bound, and a point with
                      ||M(point)||₂ > target at 50 digits ({point, box, value, target, dps}) or null
    digest            sha256 of the canonical JSON of the problem fields (quantity ... precision_bits)

``M`` is the Jacobian of ``f`` (``quantity = "f"``) or the Hessian of the loss (``"grad"``) in ``x``
(``x = vec(X)`` row-major for the matrix form), so ``bound`` is a Lipschitz constant on the box.
"""
from __future__ import annotations

import hashlib
import json

from attnreg._io import atomic_write_text

FORMAT = "attnreg-certificate/1"
PROBLEM_KEYS = ("quantity", "form", "version", "data", "domain", "target", "precision_bits")


def digest(body: dict) -> str:
    canon = json.dumps({k: body.get(k) for k in PROBLEM_KEYS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def statement(body: dict) -> str:
    what = ("||J_f(x)||_2, the Jacobian of the softmax f" if body["quantity"] == "f" else
            f"||H(x)||_2, the Hessian of the {body['version']} loss (with the 1/2)")
    var = "x" if body["form"] == "vector" else "x = vec(X) (row-major)"
    return (f"sup of {what}, over {var} with ||x - center||_inf <= {body['domain']['radius']}, is at most "
            f"{body['bound']}; hence it is a Lipschitz constant there")


def build(body: dict) -> dict:
    out = dict(format=FORMAT, status=body["status"], statement=statement(body))
    out.update(body)
    out["digest"] = digest(body)
    return out


def dumps(cert: dict) -> str:
    """Indented JSON with one box per line (certificates can hold thousands of boxes)."""
    head = json.dumps({k: ("@BOXES@" if k == "boxes" else v) for k, v in cert.items()}, indent=1, allow_nan=False)
    boxes = ",\n".join("  " + json.dumps(b, separators=(",", ":")) for b in cert["boxes"])
    return head.replace('"@BOXES@"', "[\n" + boxes + "\n ]") + "\n"


def write(path, cert: dict):
    return atomic_write_text(path, dumps(cert))
