"""The independent checker: a valid certificate is accepted; edited bounds, removed or duplicated boxes,
changed data and a false 'certified' are rejected, each with its reason."""
import copy
import decimal
import dataclasses
import json
from pathlib import Path

import pytest

from attnreg.verify.certify import bnb, certificate, checker, spec

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture(scope="module")
def cert():
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.62")  # tight: many boxes
    return json.loads(certificate.dumps(certificate.build(bnb.run(s))))


def test_valid_certificate_is_accepted(cert):
    assert cert["status"] == "certified" and len(cert["boxes"]) > 20
    assert checker.check(copy.deepcopy(cert)).startswith("certified")


def _rejected(cert, match):
    with pytest.raises(checker.Rejected, match=match):
        checker.check(cert)


def test_an_edited_box_bound_is_rejected(cert):
    bad = copy.deepcopy(cert)
    worst = max(range(len(bad["boxes"])), key=lambda i: float(bad["boxes"][i]["bound"]))
    # just below the lower bound attained at a sampled point of the box: false for sure
    bad["boxes"][worst]["bound"] = "0.5"
    _rejected(bad, r"box \d+ .*could not be verified")


def test_a_removed_box_is_rejected(cert):
    bad = copy.deepcopy(cert)
    del bad["boxes"][len(bad["boxes"]) // 2]
    _rejected(bad, "do not cover the domain")


def test_a_duplicated_box_is_rejected(cert):
    bad = copy.deepcopy(cert)
    bad["boxes"].append(copy.deepcopy(bad["boxes"][0]))
    _rejected(bad, "overlap")


def test_changed_data_is_rejected(cert):
    bad = copy.deepcopy(cert)
    bad["data"]["A"][0][0] = "1.3"
    _rejected(bad, "digest mismatch")


def test_changed_data_with_a_recomputed_digest_fails_its_bounds(cert):
    bad = copy.deepcopy(cert)
    bad["data"]["A"] = [[str(2 * float(v)) for v in row] for row in bad["data"]["A"]]
    bad["digest"] = certificate.digest(bad)
    _rejected(bad, "could not be verified")


def test_a_false_certified_status_is_rejected(cert):
    bad = copy.deepcopy(cert)
    bad["target"] = "0.55"  # below the true supremum (≈ 0.591)
    bad["digest"] = certificate.digest(bad)
    _rejected(bad, "not below the target")


def test_a_stated_bound_that_is_not_the_largest_is_rejected(cert):
    bad = copy.deepcopy(cert)
    bad["bound"] = "0.3"
    _rejected(bad, "not the largest box bound")


def test_a_false_lower_bound_is_rejected(cert):
    bad = copy.deepcopy(cert)
    bad["lower_bound"]["value"] = "0.7"
    _rejected(bad, "lower bound")


def test_garbage_is_rejected():
    _rejected({"format": "something else"}, "format")
    _rejected({"format": certificate.FORMAT}, "missing field")


def test_the_cover_check_is_exact():
    root = ((0, 0), (0, 0))
    a, b = ((0, 1), (0, 0)), ((1, 1), (0, 0))
    b1, b2 = ((1, 1), (0, 1)), ((1, 1), (1, 1))
    checker._cover([root], 2)
    checker._cover([a, b1, b2], 2)
    with pytest.raises(checker.Rejected, match="cover"):
        checker._cover([a, b1], 2)
    with pytest.raises(checker.Rejected, match="overlap"):
        checker._cover([a, b, b2], 2)
    with pytest.raises(checker.Rejected, match="overlap"):
        checker._cover([root, a, b], 2)


@pytest.mark.parametrize("edit", [
    lambda c: c["domain"].pop("radius"),
    lambda c: c.__setitem__("data", "nonsense"),
    lambda c: c["boxes"][0].__setitem__("bound", 7),
    lambda c: c.__setitem__("precision_bits", "many"),
    lambda c: c["lower_bound"].pop("point"),
])
def test_malformed_certificates_are_rejected_not_crashes(cert, edit):
    bad = copy.deepcopy(cert)
    edit(bad)
    bad["digest"] = certificate.digest(bad)
    with pytest.raises(checker.Rejected):
        checker.check(bad)


def test_repeated_keys_and_deep_nesting_are_refused_with_a_sentence(cert, tmp_path):
    text = json.dumps(cert)
    twice = tmp_path / "twice.json"  # parsers disagree on which 'status' counts: refuse the file
    twice.write_text(text.replace('"status": "certified"', '"status": "not certified", "status": "certified"', 1))
    with pytest.raises(checker.Rejected, match="appears twice"):
        checker.load(twice)
    deep = tmp_path / "deep.json"
    deep.write_text(text.replace('"lower_bound": {', '"x": ' + "[" * 100_000 + "]" * 100_000 + ', "lower_bound": {', 1))
    with pytest.raises(checker.Rejected, match="nested too deeply"):
        checker.load(deep)


@pytest.mark.parametrize("domain", [{"norm": "2"}, {"norm": None}, {"shape": "ball"}])
def test_a_domain_other_than_the_inf_norm_box_is_rejected(cert, domain):
    bad = copy.deepcopy(cert)
    bad["domain"].update(domain)
    bad["digest"] = certificate.digest(bad)
    _rejected(bad, "∞-norm boxes only")


@pytest.mark.parametrize("field", ["lower_bound", "counterexample"])
def test_a_point_outside_the_domain_proves_nothing(cert, field):
    """||J_f|| reaches 0.7499 at (−1.35, −3), outside ||x||∞ ≤ 0.5, where the sup is below 0.594."""
    bad = copy.deepcopy(cert)
    if field == "lower_bound":
        bad["lower_bound"] = dict(value="0.69", point=["-1.35", "-3"], box=bad["lower_bound"]["box"])
    else:  # a refutation of a target that holds on the domain
        bad.update(target="0.7", status="not certified", counterexample=dict(point=["-1.35", "-3"]),
                   worst_box=dict(bound=bad["bound"]))
        bad["digest"] = certificate.digest(bad)
    _rejected(bad, "outside the domain")


@pytest.fixture(scope="module")
def unfinished():
    """Not certified: the box budget ends first, so the certificate names its worst box."""
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.5911", max_boxes=40, refine_to=None)
    return json.loads(certificate.dumps(certificate.build(bnb.run(s))))


@pytest.fixture(scope="module")
def refuted():
    """Not certified: a target below the supremum (≈ 0.5929), refuted at a box centre."""
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), target="0.585", refine_to=None)
    return json.loads(certificate.dumps(certificate.build(bnb.run(s))))


def _other_box(cert, box):
    """A valid box of the certificate other than ``box``."""
    return next(b["box"] for b in cert["boxes"] if b["box"] != box)


def test_not_certified_certificates_are_accepted_as_valid(unfinished, refuted):
    assert unfinished["stop"] == "max_boxes" and checker.check(copy.deepcopy(unfinished)).startswith("not certified")
    assert refuted["stop"] == "counterexample" and refuted["counterexample"] is not None
    assert checker.check(copy.deepcopy(refuted)).startswith("not certified")


DESCRIPTIVE = {  # an edit of a field that states rather than proves -> the reason the checker gives
    "lower_bound.box": (lambda c: c["lower_bound"].__setitem__("box", _other_box(c, c["lower_bound"]["box"])),
                        "not the centre of its box"),
    "lower_bound.extra": (lambda c: c["lower_bound"].__setitem__("note", "tight"), "exactly the fields"),
    "statement": (lambda c: c.__setitem__("statement", c["statement"].replace("at most", "at least")),
                  "statement"),
    "stop": (lambda c: c.__setitem__("stop", "counterexample"), "does not go with status"),
    "target_enclosure": (lambda c: c.__setitem__("target_enclosure", ["0.1", "0.2"]), "does not enclose"),
    "boxes_evaluated": (lambda c: c.__setitem__("boxes_evaluated", 3), "boxes_evaluated"),
    "unknown field": (lambda c: c.__setitem__("verified_by", "me"), "unknown field"),
    "box entry extra": (lambda c: c["boxes"][0].__setitem__("lower", "0.1"), "exactly the fields"),
    "worst box on certified": (lambda c: c.__setitem__("worst_box", dict(box=c["boxes"][0]["box"], bound=c["bound"])),
                               "has no 'worst_box'"),
}


@pytest.mark.parametrize("name", sorted(DESCRIPTIVE))
def test_edited_descriptive_fields_are_rejected(cert, name):
    edit, match = DESCRIPTIVE[name]
    bad = copy.deepcopy(cert)
    edit(bad)
    _rejected(bad, match)


def test_an_edited_worst_box_is_rejected(unfinished):
    bad = copy.deepcopy(unfinished)
    bad["worst_box"]["box"] = _other_box(bad, bad["worst_box"]["box"])
    _rejected(bad, "worst box .* is not one of the boxes")
    bad = copy.deepcopy(unfinished)
    bad["worst_box"]["box"] = [[0, 0]] * len(bad["worst_box"]["box"])  # the whole domain: not a leaf
    _rejected(bad, "worst box .* is not one of the boxes")


def test_an_edited_counterexample_is_rejected(refuted):
    bad = copy.deepcopy(refuted)
    bad["counterexample"]["box"] = _other_box(bad, bad["counterexample"]["box"])
    _rejected(bad, "not the centre of its box")
    bad = copy.deepcopy(refuted)
    bad["counterexample"]["value"] = "0.5"
    _rejected(bad, "counterexample's value")
    for value in ("1000000", str(decimal.Decimal(refuted["counterexample"]["value"]) * decimal.Decimal("1.000001"))):
        bad = copy.deepcopy(refuted)  # above the target but not ||M|| at the point: a stated value is checked
        bad["counterexample"]["value"] = value
        _rejected(bad, "counterexample's value")
    bad = copy.deepcopy(refuted)
    bad["stop"] = "budget_seconds"
    _rejected(bad, "stop 'counterexample'")
