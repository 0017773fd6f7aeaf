"""Threads over row blocks on CPU: a fixed partition, fixed lanes, BLAS limited so threads × BLAS ≤ cores.

Block ``b`` of a call goes to partial sum ``b mod P`` (``P`` = :data:`attnreg._fastsweep.PARTS`, at most
the number of blocks), which walks its blocks in increasing order; the ``L`` lanes (the thread count, at
most ``P``) take the partial sums ``l, l + L, …`` and the partial sums are added in their fixed order. The
result is therefore the same to the last bit for any number of lanes (and from run to run). BLAS (and
torch's intra-op pool) is limited to ``max(1, threads // L)`` threads, so lanes × BLAS threads never exceed
the threads asked for. That keeps the bits only while it is 1 (``threads < 2 P``): OpenBLAS 0.3.31's GEMM
gives other last bits on 2 threads than on 1 for some shapes (``Abᵀ (P A2)`` with k = 1000, d = 97; a
257 × 514 by 514 × 256 product), so e.g. a one-block call at ``threads=2`` differs from ``threads=1``.
The limit is set before the call's first product. When ``W = X A2ᵀ`` was formed on several BLAS threads just
before the lanes started, OpenBLAS's worker thread stayed busy (it waits for work by spinning) on the lanes'
cores. Measured at n = 2048, d = 128, float64, 2 lanes on 2 cores, BLAS at 2 threads outside the call: 24–49 ms
of CPU per call in that thread (seen in its /proc task CPU time; up to 22% of the call's CPU, load average 1–7),
about 1 ms once ``W`` ran under the limit; 26 → 1 ms at n = 4096. ``W`` is no longer formed: each lane forms
its blocks' logits as ``(A1_b X) A2ᵀ`` (:mod:`attnreg._fastsweep`).

The block size: one k × n buffer of about :data:`BLOCK_BYTES` bytes, at least ``MIN_ROWS`` rows (thinner blocks make
the matrix products slow). Measured on the project's earlier CPU machine (1 MiB L2; float64, d = 128, one thread,
benchmarks/_data.py problems, CPU time of loss_and_grad over the whole-matrix floor; the machine was shared, so
±15%): blocks of 32 rows 1.5–2.0×, 64 rows 1.6–1.9×, 128 rows 1.3–1.6×, 256 rows 1.4–1.7×, 512 rows 1.2–1.6× at n =
2048 and 4096 — i.e. blocks of 2 MiB or more (twice the 1 MiB L2 and up) and at least 64 rows were fastest, within
noise of each other. Remeasured with the kept buffers and fixed partial sums (CPU time, one thread, load average ≈
10, both versions): n = 1024 best at 256–512 rows (1.36–1.48× the floor; 64 rows 1.64–1.79×), n = 2048 at 256 rows
(1.28–1.42×; 128 and 512 rows +0.04–0.16×). The default is four times the L2 size read from the operating system (4
MiB there: 512 rows at n = 1024, 256 at n = 2048, 128 at n = 4096). On the current development VM (512 KiB L2) that
is 2 MiB: 256 rows at n = 1024, 128 at n = 2048, the 64-row minimum from n = 4096 on; not re-tuned there (one-thread
CPU times at load 7 could not separate 128 from 256 rows at n = 2048).
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

from ._validate import check_int

MIN_ROWS = 64


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _l2_bytes() -> int:
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size") as fh:
            text = fh.read().strip()
        scale = {"K": 2**10, "M": 2**20}.get(text[-1], 1)
        return int(text.rstrip("KM")) * scale
    except (OSError, ValueError):
        return 2**20


BLOCK_BYTES = 4 * _l2_bytes()


def block_rows(n: int, itemsize: int, arrays: int = 1) -> int:
    """Default rows per block: ``arrays`` k × n buffers of about :data:`BLOCK_BYTES` in all (the HVP's kernels hold
    two, ``S_b`` and ``dS_b``), at least ``MIN_ROWS`` rows. Two arrays of half the rows made the HVP 1–7% faster than
    two of the whole block (Intel Xeon, L2 2 MiB: n = 2048, 4096, d = 128, both versions, 1 and 2 threads, interleaved
    medians of 9) and halved its memory."""
    return max(1, min(n, max(MIN_ROWS, BLOCK_BYTES // (arrays * itemsize * n))))


def check_threads(threads) -> int | None:
    """``threads`` option: None (default: every core) or a positive integer."""
    return None if threads is None else check_int("threads", threads, minimum=1)


def resolve(threads, parts: int, *, cpu: bool) -> tuple[int, int | None]:
    """``(lanes, BLAS threads per lane)`` for a call: ``(1, None)`` off the CPU (nothing limited); on the CPU
    ``threads`` (default: the cores) spread as lanes over at most ``parts`` partial sums, and the rest of
    ``threads`` to BLAS inside each lane (so ``threads=1`` runs BLAS on one thread too)."""
    if not cpu:
        return 1, None
    total = cores() if threads is None else threads
    lanes = max(1, min(parts, total))
    return lanes, max(1, total // lanes)


_CONTROLLER = None


def refresh() -> None:
    """Look for BLAS libraries again at the next :func:`limited` (one was loaded since: numba loads SciPy's)."""
    global _CONTROLLER
    _CONTROLLER = None


@contextlib.contextmanager
def limited(lanes: int, inner: int | None, torch_module=None):
    """Limit BLAS (and torch's intra-op threads) to ``inner`` threads while ``lanes`` lanes run (nothing
    when ``inner`` is None); ``lanes × inner`` is at most the threads asked for.

    Only a call from the main thread sets the limits. They are process-wide: calls from several threads
    overlap, and one that restores what it found can restore another's limit for good (A sets 1, B finds
    1, A restores, B restores 1); and this OpenBLAS (0.3.31, pthreads) ignores some set calls made from a
    thread other than the main one, so even a count of the calls inside could not restore them reliably.
    A call from another thread therefore leaves BLAS and torch as they are: lanes × BLAS threads may then
    exceed the cores (speed only: the results keep their bits)."""
    global _CONTROLLER
    if inner is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    stack = contextlib.ExitStack()
    try:
        if _CONTROLLER is None:
            _CONTROLLER = ThreadpoolController()
        stack.enter_context(_CONTROLLER.limit(limits=inner, user_api="blas"))
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    before = None
    if torch_module is not None:
        before = torch_module.get_num_threads()
        torch_module.set_num_threads(inner)
    try:
        with stack:
            yield
    finally:
        if before is not None:
            torch_module.set_num_threads(before)


def run_lanes(work, lanes: int):
    """``[work(0), …, work(lanes − 1)]``, on ``lanes`` threads when more than one."""
    if lanes == 1:
        return [work(0)]
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        return list(pool.map(work, range(lanes)))
