"""The checker at a one-hot target with nearly saturated rows (found in review): the normalized Hessian is
``O(f_min²)`` there, but ``AᵀKA`` with ``K1 = 0`` sums terms ``O(f_min ||A||²)`` that cancel, so the checker could
not verify even 10× a valid box bound and refused a valid certificate. ``AᵀKA = ÃᵀKÃ`` with ``Ã = A − 1a_jᵀ``
for any row ``j`` (rows and columns of K sum to 0) keeps the small factors together."""
import json

from attnreg.verify.certify import bnb, certificate, checker, spec

SPEC = """
quantity = "grad"
form = "vector"
version = "normalized"
A = [["40", "0"], ["0", "40"], ["-40", "1"]]
b = ["1", "0", "0"]
center = ["0", "0"]
radius = "0.5"
target = "2000"
budget_seconds = 600
max_boxes = 301
"""


def test_a_one_hot_target_with_saturated_rows_is_checked():
    s = spec.loads(SPEC)
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    assert checker.check(cert).startswith(cert["status"])  # valid (the cap may stop it short of certified)


def test_the_tiny_box_bound_that_was_refused_is_verified_and_a_false_one_is_not():
    """Box [[5,3],[0,2]]: run's bound 3.23919508762e-5; the true value at its corner (0.125, −0.25) is
    3.2161516147345411701e-5 (mpmath, 50 digits, from the definitions), so 3.2e-5 is false."""
    import flint

    cert = json.loads(certificate.dumps(certificate.build(bnb.run(spec.loads(SPEC)))))
    old, flint.ctx.prec = flint.ctx.prec, 128
    try:
        rows = checker._rows(cert)
        box = ((5, 3), (0, 2))
        assert checker._holds(cert, rows, box, "0.0000323919508762", checker.MAX_DEPTH)
        assert not checker._holds(cert, rows, box, "0.0000320", checker.MAX_DEPTH)
    finally:
        flint.ctx.prec = old
