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


def test_a_hanging_function_is_stopped_with_a_reason():
    import time

    calls = []

    def hangs(*a):
        calls.append(1)
        time.sleep(3600)

    start = time.perf_counter()
    out = check.run(hangs, version="normalized", examples=3, timeout=0.5)
    assert time.perf_counter() - start < 30
    assert not out.ok and "time limit of 0.5 s" in out.diagnosis[0] and "later case(s) were not run" in out.diagnosis[0]
    assert len(calls) == 1 and out.measured[0].status == "timeout" and out.meta["cases_run"] == 1


def test_a_function_that_swallows_exceptions_still_times_out():
    import time

    def stubborn(*a):
        try:
            time.sleep(3600)
        except Exception:  # the limit is a BaseException: a candidate's own handler does not catch it
            return 0.0

    out = check.run(stubborn, version="normalized", examples=0, timeout=0.3)
    assert not out.ok and "time limit" in out.diagnosis[0]


def test_the_limit_does_not_touch_a_function_that_returns_in_time():
    from attnreg.verify.conformance import timelimit

    with timelimit.limit(5.0):
        pass
    import signal
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    out = check.run(_core, version="normalized", examples=2, timeout=30.0)
    assert out.ok and all(m.status == "ok" for m in out.measured)


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


def test_check_impl_cli_stops_a_hanging_target_and_refuses_a_bad_timeout(capsys, tmp_path):
    import time

    from attnreg.cli import main

    f = tmp_path / "hang.py"
    f.write_text("import time\ndef fn(A1, A2, B, X):\n    time.sleep(3600)\n")
    start = time.perf_counter()
    assert main(["check-impl", f"{f}:fn", "--timeout", "0.3", "--examples", "1"]) == 1
    assert time.perf_counter() - start < 60
    assert "diagnosis: the function did not return within the time limit of 0.3 s" in capsys.readouterr().out
    for bad in ("-1", "nan", "inf"):
        assert main(["check-impl", f"{f}:fn", "--timeout", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--timeout" in err


def test_audit_sweep_calls_nothing_after_a_timeout():
    import time

    from attnreg.verify.conformance import audit

    calls = []

    def hangs(*a):
        calls.append(1)
        time.sleep(3600)

    points = audit.sweep(lambda v, dt: hangs, "normalized", ["float64", "float32"], sizes=[8], scales=[1.0, 4.0],
                         timeout=0.3)
    assert len(calls) == 1 and [p["status"] for p in points] == ["timeout"] * 4
    assert all("not called" in p["message"] for p in points[1:])


def test_a_target_that_prints_does_not_write_into_the_report(capsys, tmp_path):
    from attnreg.cli import main

    f = tmp_path / "chatty.py"
    f.write_text("import sys\nfrom attnreg import matrix\n"
                 "def fn(A1, A2, B, X):\n    print('CHATTER'); print('NOISE', file=sys.stderr)\n"
                 "    return matrix.loss_and_grad(A1, A2, B, X, version='normalized')\n")
    assert main(["check-impl", f"{f}:fn", "--examples", "1"]) == 0
    out, err = capsys.readouterr()
    assert "CHATTER" not in out + err and "NOISE" not in out + err and "verdict: PASS" in out


@pytest.mark.parametrize("trick", ["own_handler", "ignore", "cancel_timer"])
def test_a_function_that_takes_over_sigalrm_still_times_out(trick):
    """A target that installs its own SIGALRM handler, ignores the signal or cancels the timer used to hang the
    whole run despite --timeout (the alarm never reached us); the watchdog thread still stops it."""
    import signal
    import time

    from attnreg.verify.conformance import timelimit

    def takeover():
        if trick == "own_handler":
            signal.signal(signal.SIGALRM, lambda *a: None)
        elif trick == "ignore":
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)
        end = time.monotonic() + 8  # bounded, so that a failure is a failed test, not a hung suite
        while time.monotonic() < end:
            time.sleep(0.05 if trick == "ignore" else 0)

    start = time.monotonic()
    previous = signal.getsignal(signal.SIGALRM)
    with pytest.raises(timelimit.CallTimeout):
        with timelimit.limit(0.3):
            takeover()
    assert time.monotonic() - start < 5
    assert signal.getsignal(signal.SIGALRM) is previous and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_watchdog_works_where_sigint_was_ignored_and_leaves_it_ignored():
    """A run started with ``&`` by a non-interactive shell (or under a parent that ignores SIGINT) inherits
    SIGINT ignored, and Python then has no KeyboardInterrupt handler: the watchdog's SIGINT did nothing and a
    target that took SIGALRM over hung the run for as long as it liked. Other SIGINTs stay ignored."""
    import signal
    import time

    from attnreg.verify.conformance import timelimit

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with timelimit.limit(5):  # an interrupt that is not the watchdog's is ignored, as it was before
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.05)
        start = time.monotonic()
        with pytest.raises(timelimit.CallTimeout):
            with timelimit.limit(0.3):
                signal.setitimer(signal.ITIMER_REAL, 0)
                end = time.monotonic() + 8
                while time.monotonic() < end:
                    time.sleep(0.01)
        assert time.monotonic() - start < 5
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
