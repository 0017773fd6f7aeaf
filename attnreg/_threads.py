"""Threads over row blocks on CPU: a fixed partition, fixed lanes, BLAS limited so threads × BLAS ≤ cores.

Block ``b`` of a call goes to lane ``b mod L`` (``L`` = the thread count, at most the number of blocks); a
lane walks its blocks in increasing order into its own accumulator, and the lanes' accumulators are added
in lane order. The result is therefore the same to the last bit from run to run for a given thread count;
different thread counts sum ``A1ᵀP`` in a different order (a few ulps apart). While more than one lane
runs, BLAS (and torch's intra-op pool) is limited to ``max(1, cores // threads)`` threads, so threads
× BLAS threads never exceed the cores.

The block size: one k × n buffer of about :data:`BLOCK_BYTES` bytes (``k`` at least 32 rows for the matrix
products' efficiency). Measured with benchmarks/run.py's problems (float64, d = 128, n = 2048 and 4096,
numpy 2.4 / OpenBLAS, 1 MiB L2 per core): blocks of 1–4 MiB (the L2 to a few times it) were fastest, within
noise of each other; 8 MiB blocks were 5–10% slower and 0.25 MiB blocks 10–20% slower (the matrix
products get thin). The default follows the L2 size read from the operating system, times two.
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

from ._validate import check_int

MIN_ROWS = 32


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


BLOCK_BYTES = 2 * _l2_bytes()


def block_rows(n: int, itemsize: int) -> int:
    """Default rows per block: a k × n buffer of about :data:`BLOCK_BYTES`, at least ``MIN_ROWS`` rows."""
    return max(1, min(n, max(MIN_ROWS, BLOCK_BYTES // (itemsize * n))))


def check_threads(threads) -> int | None:
    """``threads`` option: None (default: every core) or a positive integer."""
    return None if threads is None else check_int("threads", threads, minimum=1)


def resolve(threads, nblocks: int, *, cpu: bool) -> int:
    """Lanes for a call: 1 off the CPU, else ``threads`` (default: the cores), at most the blocks."""
    if not cpu:
        return 1
    return max(1, min(nblocks, cores() if threads is None else threads))


_CONTROLLER = None


@contextlib.contextmanager
def limited(lanes: int, torch_module=None):
    """Limit BLAS (and torch's intra-op threads) so that ``lanes`` × their threads ≤ the cores."""
    global _CONTROLLER
    if lanes <= 1:
        yield
        return
    inner = max(1, cores() // lanes)
    stack = contextlib.ExitStack()
    try:
        from threadpoolctl import ThreadpoolController

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
