"""Correct PyTorch implementations (torch.softmax, log_softmax + autograd) pass at float64 and float32."""
import pytest

pytest.importorskip("torch")

from attnreg.verify.conformance import check  # noqa: E402
from impls import correct_torch  # noqa: E402


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fn,version", [(correct_torch.softmax_analytic, "normalized"),
                                        (correct_torch.log_softmax_autograd, "normalized"),
                                        (correct_torch.rescaled_autograd, "rescaled")])
def test_correct_torch_passes(fn, version, dtype):
    out = check.run(fn, version=version, dtype=dtype, backend="torch", examples=10)
    assert out.ok and out.diagnosis == [], out.judgement.reasons


def test_bfloat16_through_torch():
    out = check.run(correct_torch.softmax_analytic, version="normalized", dtype="bfloat16", backend="torch",
                    examples=5)
    assert out.ok and out.meta["low_precision_arithmetic"] == "torch"


def test_nan_at_moderate_logits_is_not_called_an_overflow():
    from impls import bugs_torch

    out = check.run(bugs_torch.rescaled_log_of_zero, version="rescaled", backend="torch", examples=10)
    text = " | ".join(out.diagnosis)
    assert not out.ok and "not an exp overflow" in text and "overflows past" not in text
