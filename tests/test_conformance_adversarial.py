"""check-impl against implementations written by a reviewer, independently of tests/impls: side effects,
odd return values, process exits, constant factors, and the log-sum-exp softmax at float64."""
import sys

import numpy as np
import pytest

from attnreg.verify.conformance import check, target


def _core(A1, A2, B, X):
    S = A1 @ X @ A2.T
    F = np.exp(S - S.max(axis=1, keepdims=True))
    F = F / F.sum(axis=1, keepdims=True)
    C = F - B
    P = F * C - (F * C).sum(axis=1, keepdims=True) * F
    return 0.5 * np.sum(C * C), A1.T @ P @ A2


def run(fn, **kw):
    return check.run(fn, version="normalized", examples=kw.pop("examples", 4), **kw)


def test_sys_exit_inside_the_function_is_a_failed_case_not_a_pass():
    def exits(*a):
        sys.exit(0)

    out = run(exits)
    assert not out.ok and "SystemExit" in out.diagnosis[0]


def test_sys_exit_at_import_is_a_target_error(tmp_path):
    f = tmp_path / "exits.py"
    f.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(target.TargetError, match="SystemExit"):
        target.load(f"{f}:fn")


@pytest.mark.parametrize("value", [None, "0.5", {"loss": 0.5}])
def test_none_str_dict_are_not_read_as_numbers(value):
    with pytest.raises(target.TargetError, match="must return the loss"):
        target.split(value, (2, 2))


def test_mutating_the_inputs_fails_with_that_reason():
    def mutates(A1, A2, B, X):
        out = _core(A1, A2, B, X)
        X *= 2.0
        return out

    out = run(mutates)
    assert not out.ok and "modified its input X in place" in out.diagnosis[0]


@pytest.mark.parametrize("q", ["loss", "grad"])
def test_a_constant_factor_is_named_not_called_low_precision(q):
    def off(*a):
        L, G = _core(*a)
        return (1.01 * L, G) if q == "loss" else (L, 1.01 * G)

    out = run(off)
    assert not out.ok
    text = " ".join(out.diagnosis)
    assert "1.01 × the true value on every case" in text and "float16" not in text and "bfloat16" not in text


def test_correct_core_still_passes_undiagnosed():
    out = run(_core)
    assert out.ok and out.diagnosis == []


def _lse_softmax(A1, A2, B, X):
    """Softmax as exp(S − logsumexp(S)) (JAX's and torch's logsumexp idiom): correct, but the rounded
    logsumexp carries an absolute error u·|S|, so at |S| ≈ 1000 it loses three digits against the shifted
    softmax, within the a-priori bound."""
    S = A1 @ X @ A2.T
    m = S.max(axis=1, keepdims=True)
    F = np.exp(S - (m + np.log(np.exp(S - m).sum(axis=1, keepdims=True))))
    C = F - B
    P = F * C - (F * C).sum(axis=1, keepdims=True) * F
    return 0.5 * np.sum(C * C), A1.T @ P @ A2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logsumexp_softmax_is_correct_and_not_diagnosed(dtype):
    out = run(_lse_softmax, dtype=dtype)
    assert out.ok and out.diagnosis == []


@pytest.mark.parametrize("backend,device", [("numpy", "cuda:0"), ("torch", "nonsense"), ("jax", "nonsense")])
def test_a_device_the_library_lacks_is_one_line_exit_2(capsys, tmp_path, backend, device):
    pytest.importorskip({"jax": "jax"}.get(backend, backend))
    from attnreg.cli import main

    f = tmp_path / "impl.py"
    f.write_text("def fn(A1, A2, B, X):\n    return 0.0\n")
    code = main(["check-impl", f"{f}:fn", "--backend", backend, "--device", device, "--examples", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"--device {device}" in err and "Traceback" not in err


@pytest.mark.parametrize("which", ["n", "d"])
def test_a_bug_only_at_n_or_d_equal_1_fails_and_says_where(which):
    def special(A1, A2, B, X):
        L, G = _core(A1, A2, B, X)
        if A1.shape[0 if which == "n" else 1] == 1:
            return 1.5 * L + 1e-3, G + 1e-3
        return L, G

    out = run(special, examples=10)
    assert not out.ok and f"every failing case has {which} = 1" in " ".join(out.diagnosis)


@pytest.mark.xfail(strict=True, raises=TypeError,
                   reason="no per-call time limit yet: a target that hangs hangs check-impl (Ctrl-C exits 130)")
def test_a_hanging_function_is_stopped_with_a_reason():
    import time

    out = check.run(lambda *a: time.sleep(3600), version="normalized", examples=0, timeout=1.0)
    assert not out.ok and "time limit" in out.diagnosis[0]


def test_a_complex_result_with_an_imaginary_part_is_not_silently_truncated():
    with pytest.raises(target.TargetError, match="imaginary"):
        target.split((0.5 + 1e-3j, np.zeros((2, 2))), (2, 2))
    assert target.split((0.5 + 0j, np.zeros((2, 2))), (2, 2))[0] == 0.5


def test_audit_refuses_a_device_numpy_lacks_in_one_line(capsys, tmp_path):
    from attnreg.cli import main

    f = tmp_path / "impl.py"
    f.write_text("def fn(A1, A2, B, X):\n    return 0.0\n")
    code = main(["audit", f"{f}:fn", "--device", "cuda:0", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--device cuda:0" in err and not (tmp_path / "out").exists()
