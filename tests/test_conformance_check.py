"""check-impl's judge and diagnoses on implementations written for the tests (tests/impls)."""
import pytest

from attnreg.verify.conformance import check
from impls import bugs_np, correct_np


def run(fn, **kw):
    kw.setdefault("version", "normalized")
    return check.run(fn, examples=kw.pop("examples", 10), **kw)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fn,version", [(correct_np.normalized, "normalized"), (correct_np.rescaled, "rescaled"),
                                        (correct_np.normalized_loss_only, "normalized")])
def test_correct_numpy_passes_and_is_never_diagnosed(fn, version, dtype):
    out = run(fn, version=version, dtype=dtype)
    assert out.ok, out.judgement.reasons
    assert out.diagnosis == []


def test_correct_vector_form_passes():
    assert run(correct_np.vector_normalized, form="vector").ok


def test_low_precision_numpy_passes():
    assert run(correct_np.normalized, dtype="float16").ok


def test_scale_full_makes_a_no_half_implementation_pass():
    assert not run(correct_np.normalized_full).ok
    assert run(correct_np.normalized_full, scale="full").ok


def diag(out):
    assert not out.ok
    return " | ".join(out.diagnosis)


def test_loss_off_by_two():
    text = diag(run(bugs_np.loss_twice))
    assert "loss is exactly 2×" in text and "only the loss" in text and "½ convention" in text


def test_gradient_off_by_two():
    text = diag(run(bugs_np.grad_twice))
    assert "gradient is exactly 2×" in text and "only the gradient" in text


def test_both_off_by_two():
    assert "the loss and the gradient are exactly 2×" in diag(run(correct_np.normalized_full))


def test_transposed_gradient():
    text = diag(run(bugs_np.column_major))
    assert "transpose" in text and "A2 ⊗ A1" in text and "2×" not in text


def test_wrong_sign():
    assert "wrong sign" in diag(run(bugs_np.wrong_sign))
    assert "wrong sign" in diag(run(bugs_np.vector_wrong_sign, form="vector"))


@pytest.mark.parametrize("dtype,ln_max", [("float64", "709.8"), ("float32", "88.72")])
def test_unshifted_softmax(dtype, ln_max):
    out = run(bugs_np.unshifted, dtype=dtype)
    text = diag(out)
    assert "without shifting each row by its max" in text and ln_max in text and "from max logit" in text


def test_unshifted_float32_fails_large_logits_and_passes_small_ones():
    out = run(bugs_np.unshifted, dtype="float32")
    for m, v in zip(out.measured, out.judgement.cases):
        if 0 <= m.case.max_logit < 80:
            assert v.ok, (m.case.id, v.reasons)
        if m.case.max_logit > 88.8 and m.case.source == "golden":
            assert not v.ok and "NaN/inf" in v.reasons[0], m.case.id


def test_float32_inside_a_float64_function():
    text = diag(run(bugs_np.float32_inside))
    assert "~7 digits at float64" in text and "float32" in text


def test_gradient_inconsistent_with_its_own_loss():
    text = diag(run(bugs_np.inconsistent_grad))
    assert "inconsistent with the function's own loss" in text and "finite difference" not in text.split("loss")[0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rescaled_overflow(dtype):
    text = diag(run(bugs_np.rescaled_unshifted, version="rescaled", dtype=dtype))
    assert "rescaled loss or gradient overflows" in text and "representable" in text


def test_raising_and_wrong_shape_fail_with_their_reason():
    out = run(bugs_np.wrong_shape)
    assert not out.ok and all(m.status == "shape" for m in out.measured)
    assert "wrong return shape" in out.diagnosis[0]

    def boom(A1, A2, B, X):
        raise RuntimeError("kaput")

    out = run(boom)
    assert "raised" in out.diagnosis[0] and "kaput" in out.diagnosis[0]


def test_json_has_the_keys_of_the_issue():
    data = run(correct_np.normalized, target_name="x.py:f").to_json()
    assert {"verdict", "diagnosis", "cases", "target", "version", "dtype", "backend"} <= set(data)
    assert data["verdict"] == "pass" and data["target"] == "x.py:f"
    assert {"n", "d", "max_logit", "loss_error", "grad_error", "verdict"} <= set(data["cases"][0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_correct_implementation_is_never_diagnosed_across_seeds(seed):
    for fn, version in ((correct_np.normalized, "normalized"), (correct_np.rescaled, "rescaled")):
        out = run(fn, version=version, seed=seed, examples=25)
        assert out.ok and out.diagnosis == [], (version, out.judgement.reasons)


def test_bfloat16_without_torch_uses_ml_dtypes(monkeypatch):
    from attnreg.verify.conformance import baseline, dtypes

    fallback = lambda name: "numpy+ml_dtypes" if name == "bfloat16" else "numpy"  # noqa: E731
    monkeypatch.setattr(baseline, "provider", fallback)
    monkeypatch.setattr(dtypes, "provider", fallback)
    out = run(correct_np.normalized, dtype="bfloat16")
    assert out.ok and out.meta["low_precision_arithmetic"] == "numpy+ml_dtypes"
    assert "NaN/inf" in " ".join(diag(run(bugs_np.unshifted, dtype="bfloat16")).split("|")[0:1])
