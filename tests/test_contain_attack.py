"""Attack on conformance.contain, runner.measure's return values and late returns, check-impl's smoke()/first=
and audit (the thirteenth attack, by a helper; commits f5dbe2c, d738df9, 8842e55, a73e285).

What broke (strict xfails below; T is a target file, ``attnreg check-impl T:fn --examples 2``):

1. A target that forks without exec (``os.fork()`` once, the child returns normally) leaves the child running
   the rest of check-impl: two tables, two ``verdict: PASS`` lines, two --json writers. Should: the child
   never comes back out of the call (``contain.contained``'s ``finally`` seeing ``os.getpid() != pid``
   should end it with the real ``os._exit``; a child that raises SystemExit likewise). Code: contain.py.
2. The return value is read outside the containment and the time limit: ``target.split`` (and
   ``diagnose.fd_check``'s ``to_float64``/``float``) run after ``contained`` and ``limit`` are left, so a
   loss object whose ``__float__``/``__array__`` calls ``os._exit(0)`` ends check-impl with exit 0 and no
   output at all (audit too: exit 0, empty --out folder); one that prints (``os.write(1, ...)``, ``print``)
   puts its text between the report's lines; one that sleeps 1.5 s under ``--timeout 0.5`` is status "ok".
   Should: read the value (split/to_float64) inside the same ``contained`` + ``limit`` + redirection, and
   count its time. Code: runner.measure (the ``with`` ends before ``target.split``), diagnose.fd_check.
3. A target that closes the fds it does not own (``os.closerange(3, 1024)``, the daemon idiom) closes the
   saved copies of fds 1, 2: ``os.dup2(saved[0], 1)`` raises EBADF in ``contained``'s ``finally``, fds 1 and 2
   stay on the deleted temporary file and the whole report (table, verdict, diagnosis) vanishes; exit 1 with
   empty stdout and stderr, and --json says every case "raised OSError ... (at .../contain.py:63)", blaming
   attnreg's file. Should: restore from something the target cannot close (or check the saved fds and
   fall back to ``/proc/self/fd``-independent copies / reopen), name the target. Code: contain.py.
4. A thread started by the target that outlives the call is not contained: its ``os.write(1, ...)`` lands in
   check-impl's table (19 ``THREAD-LEAK`` lines), and its later ``os._exit(0)`` (the real one is back)
   ends check-impl with exit 0 and no verdict — for a target whose loss is 2x wrong. (The test's thread
   now calls ``posix._exit(0)`` during the second call: a sleep of 0.3 s raced the run, and on a faster
   machine it fired inside a call, where the stand-in caught it and the strict xfail passed.) Neither the module
   docstring nor README's "Testing another implementation" lists threads that outlive the call among the
   limits. Should: at least documented (then these become held-limit tests); better, a verdict printed only
   after checking that no thread the target started is still alive. Code: contain.py / README.
5. A correct target writing through ``sys.stdout.buffer`` (or calling ``sys.stdout.fileno()``, e.g.
   ``faulthandler.enable()``) FAILs on every case: "AttributeError: '_io.StringIO' object has no attribute
   'buffer'" — Python-level output is redirected to an ``io.StringIO``. Should: a text stream with a buffer
   (``io.TextIOWrapper`` over a ``BytesIO``) or the fd-level redirection alone. Code: runner.measure.
6. A target calling ``sys.stdout.close()`` is reported as "ValueError: I/O operation on closed file (at
   .../verify/conformance/contain.py:82)": the case is blamed on attnreg's own line (``said.write`` on the
   closed ``StringIO``). Should: name the target's line, or not fail a target for closing a stream that
   was ours. Code: contain.contained's ``finally``.
7. A string is read as a number: a loss returned as ``np.array('0.8158...')`` (or bytes, or a gradient of
   strings) is status "ok" and check-impl says PASS; README: "a return value that is not a number is a
   failed case". ``target.to_float64`` is ``np.asarray(v).astype(np.float64)``, which parses strings.
8. A fully masked ``np.ma`` loss or gradient (no value at all) is read as its hidden data and judged "ok".
   Code: target.to_float64 (``np.asarray`` drops the mask).
9. A target that calls ``os.chdir`` moves a relative ``--json OUT``: it is written in the target's new
   working directory (``/rel.json`` for ``os.chdir("/")``), the one asked for does not exist, exit 0.
   Should: resolve OUT before calling the target (as --out is checked). Code: check_impl_cmd.run.

Fixed after the attack (their tests are regression tests now): 1 (``contained`` ends a forked child that returns
from the block, status 0), 2 (the return value is read inside the containment, the limit and the redirection, and
its time counts; ``diagnose.fd_check`` alike), 5 and 6 (Python-level output goes to a text stream on the same
temporary file, with ``buffer`` and ``fileno()``; the function closing it closes only that stream), 7 and 8
(``target.to_float64`` refuses text and masked values: "unreadable"), 9 (``--json`` and audit's ``--out`` are made
absolute before the target runs). Left as known limits, their strict xfails renamed so: 3 (a function closing fds
it does not own can close the saved copies of ours; no in-process copy is out of its reach) and 4 (a thread the
function starts and leaves running is outside the call), both stated in contain.py's docstring and the README.

What held (regression tests below): fds 1, 2, ``sys.stdout``/``sys.stderr`` and ``os._exit`` are the same
objects after a call that raised, timed out mid-``os.write`` (SIGALRM), raised KeyboardInterrupt, closed fds
1 and 2, dup2'd a pipe over them, reassigned ``sys.stdout``/``sys.stderr`` or recursed without end; a forked
child's ``os._exit(7)`` really ends the child (the parent's ``waitpid`` sees 7); a fork-context
``multiprocessing.Pool`` and ``Process`` work inside the call; a subprocess's output lands in ``printed``; 100
MB written to fd 1 take 0.03 s and are cut to 2000 bytes, the temporary file unlinked; no fd leaks over 100
calls; ``os._exit(0)`` and ``sys.exit(0)`` in the target are "raised" naming the target's line; a target raising
KeyboardInterrupt ends check-impl with 130 and one line (timelimit: a Ctrl-C stays one); pytest's fd and
sys capture (and capfd / capsys) still work after ``assert_conforms`` with a noisy target; return values
Decimal, Fraction, 0-d and object arrays, ``[loss]``, a list gradient, torch tensors requiring grad are read;
meta tensors, a raising ``__float__``, ``10**400``, ``Decimal('sNaN')``, a set are "unreadable"; 3-tuples,
``((L, G),)`` and a dict are "shape"; ``__array__`` giving NaN is an infinite error; a target slow (0.6 s) on
its first call, or whose module takes 1.5 s to import, passes under ``--timeout 1`` (the import is not timed);
a target writing to fds 1 and 2 until ``--timeout 0.5`` FAILs with one diagnosis and nothing leaked. audit's
PNGs, once written with ``savefig`` in place, are now written atomically like report.md/report.json
(tests/test_check_impl_cli.py).
"""
from __future__ import annotations

import decimal
import fractions
import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from attnreg.verify.conformance import cases, runner


def _good(A1, A2, B, X):
    S = A1 @ X @ A2.T
    F = np.exp(S - S.max(axis=1, keepdims=True))
    P = F / F.sum(axis=1, keepdims=True)
    R = P - B
    Q = P * (R - np.sum(R * P, axis=1, keepdims=True))
    return 0.5 * np.sum(R ** 2), A1.T @ Q @ A2


# the straightforward target as source, spliced into the target modules written for the subprocesses
GOOD = inspect.getsource(_good).replace("def _good(", "def good(")

TARGETS = textwrap.dedent('''
    import os, posix, sys, threading, time
    import numpy as np

    {GOOD}

    _once = []
    def fork_return(*a):
        if not _once:
            _once.append(1)
            os.fork()
        return good(*a)

    class ExitFloat:
        def __float__(self):
            os._exit(0)

    def float_exits(*a):
        return ExitFloat(), good(*a)[1]

    class PrintFloat:
        def __init__(self, v):
            self.v = v
        def __float__(self):
            os.write(1, b"LEAKED-FROM-FLOAT\\n")
            print("PY-LEAK-FROM-FLOAT")
            return float(self.v)

    def float_prints(*a):
        L, G = good(*a)
        return PrintFloat(L), G

    def closerange(*a):
        os.closerange(3, 1024)
        return good(*a)

    def thread_after(*a):
        if not _once:
            def w():
                for _ in range(100):
                    os.write(1, b"THREAD-LEAK\\n")
                    time.sleep(0.01)
            _once.append(threading.Thread(target=w, daemon=True))
            _once[0].start()
        return good(*a)

    _second = threading.Event()
    def doubled_thread_exit(*a):
        # the thread started by the first call exits the process during the second call (posix._exit: os._exit
        # is a stand-in while a call runs), whatever the machine's speed: a sleep of 0.3 s then os._exit raced
        # the run, and on a fast machine the thread fired inside a call, where the stand-in caught it
        if not _once:
            def w():
                _second.wait()
                posix._exit(0)
            _once.append(threading.Thread(target=w, daemon=True))
            _once[0].start()
        else:
            _second.set()
            time.sleep(1)
        L, G = good(*a)
        return 2 * L, 2 * G

    def buffer_write(*a):
        sys.stdout.buffer.write(b"hi\\n")
        return good(*a)

    def stdout_close(*a):
        sys.stdout.close()
        return good(*a)

    def string_loss(*a):
        L, G = good(*a)
        return np.array(repr(float(L))), G

    def chdir(*a):
        os.makedirs("elsewhere", exist_ok=True)
        os.chdir("elsewhere")
        return good(*a)

    def spin_write(*a):
        while True:
            os.write(1, b"y" * 4096)
            os.write(2, b"z" * 4096)

    def slow_first(*a):
        if not _once:
            _once.append(1)
            time.sleep(0.6)
        return good(*a)

    def kbd(*a):
        raise KeyboardInterrupt
''').replace("{GOOD}\n", GOOD)


CASE = cases.golden_cases("matrix", "float64")[0]
L0, G0 = _good(*CASE.args)


def measure(fn, timeout=1.0):
    return runner.measure(fn, CASE, form="matrix", version="normalized", dtype="float64", timeout=timeout)


def cli(tmp_path, *argv, timeout=20, cwd=None, targets=None):
    """``attnreg *argv`` in a subprocess, with ``targets`` (this file's TARGETS by default) written to ``t.py``."""
    (tmp_path / "t.py").write_text(TARGETS if targets is None else targets)
    return subprocess.run([sys.executable, "-m", "attnreg", *argv], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or tmp_path)


def check_impl(tmp_path, fn, *extra, **kw):
    return cli(tmp_path, "check-impl", f"{tmp_path / 't.py'}:{fn}", "--examples", "2", *extra, **kw)


def state():
    fds = [(os.fstat(i).st_dev, os.fstat(i).st_ino) for i in (1, 2)]
    return fds, sys.stdout, sys.stderr, os._exit


# ---------------------------------------------------------------- defects


def test_forked_child_does_not_print_a_second_report(tmp_path):
    r = check_impl(tmp_path, "fork_return")
    assert r.stdout.count("verdict:") == 1, r.stdout[-300:]


def test_return_value_calling_os_exit_is_a_failed_case(tmp_path):
    r = check_impl(tmp_path, "float_exits")
    assert r.returncode in (1, 2) and (r.stdout + r.stderr).strip(), (r.returncode, r.stdout, r.stderr)


@pytest.mark.slow  # 4.5 s (an audit run); check-impl's twin test stays in the default tier
def test_audit_return_value_calling_os_exit(tmp_path):
    r = cli(tmp_path, "audit", f"{tmp_path / 't.py'}:float_exits", "--out", str(tmp_path / "aud"))
    assert r.returncode == 1 and (tmp_path / "aud" / "report.md").exists(), (r.returncode, r.stdout, r.stderr)


def test_return_value_output_is_kept_out(tmp_path):
    r = check_impl(tmp_path, "float_prints")
    assert "LEAK" not in r.stdout, r.stdout[:300]


class _SlowFloat:
    def __float__(self):
        import time
        time.sleep(1.5)
        return float(L0)


def test_reading_the_return_value_counts_against_the_timeout():
    m = measure(lambda *a: (_SlowFloat(), G0), timeout=0.5)
    assert m.status == "timeout", m.status


@pytest.mark.xfail(strict=True, reason="known limit (defect 3): os.closerange(3, ...) in the target loses the "
                   "whole report")
def test_closerange_in_target_keeps_the_report(tmp_path):
    r = check_impl(tmp_path, "closerange")
    assert "verdict:" in r.stdout, (r.returncode, r.stdout, r.stderr)


@pytest.mark.xfail(strict=True, reason="known limit (defect 4): a thread outliving the call writes into the report")
def test_thread_outliving_the_call_does_not_write_into_the_report(tmp_path):
    r = check_impl(tmp_path, "thread_after")
    assert "THREAD-LEAK" not in r.stdout, r.stdout[:300]


@pytest.mark.xfail(strict=True, reason="known limit (defect 4): a thread the target left running that exits the "
                   "process (posix._exit(0), or os._exit(0) between calls) ends a wrong target's run with 0")
def test_thread_exit_after_the_call_does_not_pass_a_wrong_target(tmp_path):
    r = check_impl(tmp_path, "doubled_thread_exit")
    assert r.returncode != 0 and "verdict: FAIL" in r.stdout, (r.returncode, r.stdout[-300:])


def test_correct_target_writing_to_stdout_buffer_passes(tmp_path):
    r = check_impl(tmp_path, "buffer_write")
    assert r.returncode == 0 and "verdict: PASS" in r.stdout, r.stdout[-400:]


def test_closed_sys_stdout_is_not_blamed_on_attnreg(tmp_path):
    check_impl(tmp_path, "stdout_close", "--json", str(tmp_path / "r.json"))
    assert "contain.py" not in (tmp_path / "r.json").read_text()


def test_string_loss_is_not_a_number(tmp_path):
    r = check_impl(tmp_path, "string_loss")
    assert r.returncode != 0, r.stdout[-200:]


@pytest.mark.parametrize("value", [(np.array(repr(float(L0))), G0), (np.array(repr(float(L0)).encode()), G0),
                                   (L0, G0.astype(str))], ids=["str", "bytes", "str-grad"])
def test_strings_are_unreadable(value):
    assert measure(lambda *a: value).status == "unreadable"


@pytest.mark.parametrize("value", [(np.ma.masked_array(L0, mask=True), G0),
                                   (L0, np.ma.masked_array(G0, mask=np.ones(G0.shape, bool)))],
                         ids=["loss", "grad"])
def test_fully_masked_values_are_unreadable(value):
    assert measure(lambda *a: value).status != "ok"


def test_relative_json_is_written_where_asked(tmp_path):
    r = check_impl(tmp_path, "chdir", "--json", "r.json")
    assert r.returncode == 0 and (tmp_path / "r.json").exists(), sorted(p.name for p in tmp_path.rglob("*.json"))


# ---------------------------------------------------------------- what held


@pytest.mark.slow  # 2 s: what held
def test_timeout_mid_write_restores_stdout(tmp_path):
    r = check_impl(tmp_path, "spin_write", "--timeout", "0.5")
    assert r.returncode == 1 and "verdict: FAIL" in r.stdout and "time limit of 0.5 s" in r.stdout
    assert "yyyy" not in r.stdout and r.stderr == ""


@pytest.mark.slow  # 3.6 s of subprocesses: what held
def test_slow_first_call_and_slow_import_pass_under_timeout(tmp_path):
    (tmp_path / "slowimp.py").write_text("import time\ntime.sleep(1.5)\nfrom t import slow_first  # noqa\n")
    r = cli(tmp_path, "check-impl", f"{tmp_path / 'slowimp.py'}:slow_first", "--examples", "2", "--timeout", "1",
            cwd=tmp_path)
    assert r.returncode == 0 and "verdict: PASS" in r.stdout, (r.stdout[-300:], r.stderr)


def test_slow_calls_within_timeout_are_ok():
    import time

    def slow(*a):
        time.sleep(0.6)
        return _good(*a)
    assert measure(slow, timeout=2.0).status == "ok"  # 0.6 s of 2: no false timeout on a loaded 2-core CI (was 1)


def test_target_raising_keyboardinterrupt_is_one_line(tmp_path):
    r = check_impl(tmp_path, "kbd")
    assert r.returncode == 130 and r.stderr == "attnreg: interrupted\n" and "Traceback" not in r.stdout


def _fork_exit(*a):
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, st = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(st) == 7
    return _good(*a)


def _square(x):
    return x * x


def _mp(*a):
    import multiprocessing as mp
    with mp.get_context("fork").Pool(2) as p:
        assert p.map(_square, [1, 2]) == [1, 4]
    return _good(*a)


def _sub(*a):
    subprocess.run(["sh", "-c", "echo SUBOUT; echo SUBERR >&2"], check=True)
    return _good(*a)


def _big(*a):
    chunk = b"x" * (1 << 20)
    for _ in range(100):
        os.write(1, chunk)
    return _good(*a)


def _spin(*a):
    while True:
        os.write(1, b"y" * 4096)


def _kbd(*a):
    raise KeyboardInterrupt


def _close12(*a):
    os.close(1)
    os.close(2)
    return _good(*a)


def _dup_over(*a):
    r, w = os.pipe()
    os.dup2(w, 1)
    os.dup2(w, 2)
    os.close(r)
    os.close(w)
    return _good(*a)


def _reassign(*a):
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    sys.stderr = None
    return _good(*a)


def _rec(*a):
    return _rec(*a)


def _exit0(*a):
    os._exit(0)


def _sysexit(*a):
    sys.exit(0)


@pytest.mark.parametrize("fn,status", [(_fork_exit, "ok"), (_mp, "ok"), (_sub, "ok"), (_big, "ok"),
                                       (_spin, "timeout"), (_kbd, None), (_close12, "ok"), (_dup_over, "ok"),
                                       (_reassign, "ok"), (_rec, "raised"), (_exit0, "raised"),
                                       (_sysexit, "raised")])
def test_contained_call_restores_everything(fn, status):
    if fn in (_fork_exit, _mp) and "jax" in sys.modules:  # this worker ran JAX: a fork beside its threads can
        pytest.skip("fork beside JAX's threads can deadlock (the CLI fork test runs in a fresh process)")  # hang
    before, n = state(), len(os.listdir("/proc/self/fd"))
    try:
        m = measure(fn)
    except KeyboardInterrupt:
        m = None
    assert state() == before and len(os.listdir("/proc/self/fd")) == n
    assert (m is None) if status is None else (m.status == status), m
    if fn is _sub:
        assert "SUBOUT" in m.printed and "SUBERR" in m.printed
    if fn is _big:
        assert m.printed == "x" * 500
    if fn in (_exit0, _sysexit):
        assert __file__ in m.message, m.message


def test_no_fd_leak_over_many_calls():
    n = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        measure(_sub)
    assert len(os.listdir("/proc/self/fd")) == n


@pytest.mark.parametrize("value,status", [
    ((decimal.Decimal(float(L0)), G0), "ok"), ((fractions.Fraction(float(L0)), G0), "ok"),
    ((np.array(L0), G0), "ok"), ((np.array(L0, dtype=object), G0), "ok"), (([L0], G0.tolist()), "ok"),
    ((decimal.Decimal("sNaN"), G0), "unreadable"), ((10**400, G0), "unreadable"), (({L0}, G0), "unreadable"),
    ((L0, G0, 1), "shape"), (((L0, G0),), "shape"), ({"loss": L0}, "shape")])
def test_return_values(value, status):
    assert measure(lambda *a: value).status == status


def test_return_values_torch_and_odd_objects():
    torch = pytest.importorskip("torch")

    class RaiseFloat:
        def __float__(self):
            raise RuntimeError("nope")

    class NanArray:
        def __array__(self, dtype=None, copy=None):
            return np.array(np.nan)

    assert measure(lambda *a: (torch.empty((), device="meta"), G0)).status == "unreadable"
    assert measure(lambda *a: (L0, torch.empty(G0.shape, device="meta"))).status == "unreadable"
    assert measure(lambda *a: (RaiseFloat(), G0)).status == "unreadable"
    assert measure(lambda *a: (torch.tensor(L0, requires_grad=True), torch.tensor(G0))).status == "ok"
    m = measure(lambda *a: (NanArray(), G0))
    assert m.status == "ok" and m.err["loss"] == float("inf")


INNER = textwrap.dedent('''
    import os, sys
    import numpy as np
    from attnreg.testing import assert_conforms

    def noisy(A1, A2, B, X):
        os.write(1, b"FD-NOISE\\n")
        print("PY-NOISE")
        S = A1 @ X @ A2.T
        F = np.exp(S - S.max(axis=1, keepdims=True))
        return 0.5 * np.sum((F / F.sum(axis=1, keepdims=True) - B) ** 2)

    def test_after():
        assert_conforms(noisy, version="normalized", examples=1)
        print("AFTER-PY")
        os.write(1, b"AFTER-FD\\n")
        sys.stderr.write("AFTER-ERR\\n")
        assert False

    def test_capfd(capfd):
        assert_conforms(noisy, version="normalized", examples=1)
        print("CAPFD-PY")
        os.write(1, b"CAPFD-FD\\n")
        out, _ = capfd.readouterr()
        assert "CAPFD-PY" in out and "CAPFD-FD" in out and "NOISE" not in out

    def test_capsys(capsys):
        assert_conforms(noisy, version="normalized", examples=1)
        print("CAPSYS-PY")
        assert capsys.readouterr().out == "CAPSYS-PY\\n"
''')


@pytest.mark.slow  # 2.2 s (a pytest subprocess): what held
def test_pytest_capture_works_after_assert_conforms(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=fd",
                        "test_inner.py"], capture_output=True, text=True, cwd=tmp_path, timeout=20)
    assert "1 failed, 2 passed" in r.stdout, r.stdout[-800:]
    captured = r.stdout.split("Captured stdout call")[1]
    assert "AFTER-PY" in captured and "AFTER-FD" in captured and "NOISE" not in r.stdout
    assert "AFTER-ERR" in r.stdout.split("Captured stderr call")[1]
