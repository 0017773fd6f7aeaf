"""Time ``attnreg certify run`` with 1 and with N local worker processes; print the ratio and check that
the certificates are identical (byte for byte).

Usage: ``python benchmarks/bench_certify.py [SPEC.toml ...] [--workers 2] [--repeat 3]`` (default: the
example specs in docs/examples). Each timing is the minimum over ``--repeat`` runs and includes starting
the worker processes; the load average is printed next to it, since other jobs on the machine change
the ratio.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from attnreg.verify.certify import bnb, certificate, spec
from attnreg.verify.executor import executor

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def once(s, workers):
    start = time.perf_counter()
    with executor(workers) as pool:
        body = bnb.run(s, pool.executor, chunks=2 * pool.slots)
    return time.perf_counter() - start, certificate.dumps(certificate.build(body)), body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*", default=sorted(str(p) for p in EXAMPLES.glob("certify-*.toml")))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    for path in args.specs:
        s = spec.load(path)
        t1, c1, body = min(once(s, 1) for _ in range(args.repeat))
        tn, cn, _ = min(once(s, args.workers) for _ in range(args.repeat))
        print(f"{Path(path).name}: {body['status']}, {body['boxes_evaluated']} boxes; 1 worker {t1:.2f} s, "
              f"{args.workers} workers {tn:.2f} s: speed-up {t1 / tn:.2f}x; same certificate: {c1 == cn}; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
