"""A refinement cut short by the box cap (found in review): ``run`` writes status ``certified`` (the target
was met) with ``stop = "max_boxes"``, and the checker refused its own run's certificate ("stop 'max_boxes'
does not go with status 'certified'"). A certified run may end by its budget while refining."""
import dataclasses
import json
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, checker, spec

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_a_refinement_cut_short_by_max_boxes_is_a_valid_certificate():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-grad.toml"), refine_to="1.001", max_boxes=41)
    cert = json.loads(certificate.dumps(certificate.build(bnb.run(s))))
    assert (cert["status"], cert["stop"]) == ("certified", "max_boxes")
    assert checker.check(cert).startswith("certified")
    bad = dict(cert, stop="counterexample")
    try:
        checker.check(bad)
    except checker.Rejected as exc:
        assert "stop" in str(exc)
    else:
        raise AssertionError("a certified certificate with stop 'counterexample' was accepted")
