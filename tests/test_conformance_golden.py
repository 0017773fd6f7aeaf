"""The golden file: format, exactness of inputs, byte-for-byte regeneration, independent agreement."""
import json

import mpmath
import numpy as np
import pytest

from attnreg.verify.conformance import golden, goldcases, independent


def test_file_covers_what_it_must():
    data = golden.load()
    cases = data["cases"]
    assert data["digits"] == 40 and {c["form"] for c in cases} == {"matrix", "vector"}
    assert {s.id for s in goldcases.SPECS} == {c["id"] for c in cases}
    assert any(c["n"] == 1 for c in cases) and any(c["d"] == 1 for c in cases)
    assert max(c["n"] for c in cases) >= 128
    tops = [float(c["max_abs_logit"]) for c in cases]
    assert min(tops) < 3 and any(88.8 < t < 709 for t in tops) and any(t > 709.8 for t in tops)
    for c in cases:
        for version in ("normalized", "rescaled"):
            g = c["gold"][version]
            for v in [g["loss"], *np.ravel(np.array(g["grad"], dtype=object))]:
                assert v == "0" or len(v.split("e")[0].replace("-", "").replace(".", "")) == 40


def test_inputs_are_exact_hexadecimal_floats():
    for c in golden.load()["cases"]:
        for rows in c["inputs"].values():
            for v in np.ravel(np.array(rows, dtype=object)):
                assert v.startswith(("0x", "-0x")) and golden.hexfloat(float.fromhex(v)) == v


def test_regeneration_is_byte_for_byte_on_a_subset():
    shipped = golden.shipped_text().splitlines()
    for spec_id in ("matrix-small", "vector-sat128", "matrix-mixed", "vector-negative"):
        spec = goldcases.by_id()[spec_id]
        line = golden.dumps_case(golden.build_case(spec))
        assert line + "," in shipped or line in shipped, spec_id
    head = json.loads(golden.dumps([]))
    assert head["format"] == golden.FORMAT and golden.shipped_text().startswith(golden.dumps([])[:-5])


def test_independent_evaluation_agrees_with_the_file():
    """Recompute two shipped values from the definitions (forward mode, 300+ digits)."""
    cases = {c["id"]: c for c in golden.load()["cases"]}
    c = cases["matrix-sat128"]
    a = golden.arrays(c)
    L, G = independent.loss_and_grad(a["A1"], a["A2"], a["B"], a["X"], "rescaled")
    ctx = mpmath.MPContext()
    ctx.dps = 60
    assert abs(L - ctx.mpf(c["gold"]["rescaled"]["loss"])) <= ctx.mpf(10) ** -39 * abs(L)
    assert abs(G[1][0] - ctx.mpf(c["gold"]["rescaled"]["grad"][1][0])) <= ctx.mpf(10) ** -39 * abs(G[1][0])


def test_a_disagreement_is_refused(monkeypatch):
    spec = goldcases.by_id()["vector-small"]
    monkeypatch.setattr(independent, "vector_loss_and_grad",
                        lambda *a, **k: (mpmath.mpf(1), [mpmath.mpf(0)] * spec.d))
    with pytest.raises(golden.GoldMismatch, match="disagree"):
        golden.build_case(spec)


def test_saturated_rescaled_value_is_small_though_exp_overflows():
    c = {c["id"]: c for c in golden.load()["cases"]}["vector-sat1024"]
    assert float(c["max_logit"]) > 709.8 and 0 < float(c["gold"]["rescaled"]["loss"]) < 10


@pytest.mark.slow
def test_regeneration_is_byte_for_byte_on_the_whole_file():
    assert golden.dumps([golden.build_case(s) for s in goldcases.SPECS]) == golden.shipped_text()
