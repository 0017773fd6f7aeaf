"""``attnreg check-impl TARGET``: test someone's loss / gradient against the golden cases, with a diagnosis."""
from __future__ import annotations

import sys

FORMS, VERSIONS = ("matrix", "vector"), ("normalized", "rescaled")
DTYPES = ("float64", "float32", "float16", "bfloat16")


def add_target_parser(sub, name: str, *, help: str, description: str, target_help: str, optional: bool = False):
    """The subcommand ``name`` with TARGET and the options shared by ``attnreg check-impl`` and ``attnreg audit``."""
    p = sub.add_parser(name, help=help, description=description)
    p.add_argument("target", metavar="TARGET", nargs="?" if optional else None, help=target_help)
    p.add_argument("--version", choices=VERSIONS, default="normalized", help="which loss (default normalized)")
    p.add_argument("--form", choices=FORMS, default="matrix",
                   help="matrix: fn(A1, A2, B, X); vector: fn(A, b, x) (default matrix)")
    p.add_argument("--backend", choices=("numpy", "torch", "jax", "cupy"), default="numpy",
                   help="hand the inputs over as this library's arrays (default numpy)")
    p.add_argument("--device", help="device for torch/jax/cupy arrays (e.g. cuda:0)")
    p.add_argument("--scale", choices=("half", "full"), default="half",
                   help="half: ½||·||² (attnreg's convention); full: the papers' objective without ½, so the "
                        "expected loss and gradient are doubled (default half)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Hypothesis-generated cases (default 0)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="stop when one call of TARGET runs longer than this (default 60; 0: no limit); "
                        "check-impl's verdict is then FAIL and audit exits 1, each naming the case")
    return p


DESCRIPTION = " ".join("""
Call TARGET (path/to/file.py:function or package.module:function) as fn(A1, A2, B, X) or, with --form vector,
fn(A, b, x); it returns the loss or (loss, grad). Its relative errors against high-precision gold (the shipped
golden cases plus Hypothesis-generated ones) are judged by the ratio rule: within a stated multiple of the
error of a straightforward same-dtype implementation plus a round-off floor (factors and reasons in
attnreg/verify/tolerances.py). On failure it says which known bug the numbers fit. Exit 0 pass, 1 fail, 2
usage error.
""".split())  # argparse rewraps it


def add_parser(sub) -> None:
    p = add_target_parser(
        sub, "check-impl", help="test another implementation of the loss (and gradient) against golden values",
        description=DESCRIPTION,
        target_help="path/to/file.py:function or package.module:function")
    p.add_argument("--dtype", choices=DTYPES, default="float64", help="dtype of the inputs (default float64)")
    p.add_argument("--examples", type=int, default=20, help="Hypothesis-generated cases (default 20)")
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    p.set_defaults(handler=run)


def check_seed(seed, timeout=0.0) -> None:
    """Refuse a seed outside 0 .. 2**32 − 1 and a negative or non-finite ``--timeout``."""
    import math

    from attnreg.cli import UsageError

    if not 0 <= seed < 2**32:
        raise UsageError(f"--seed must be an integer in 0 .. 2**32 - 1, got {seed}")
    if not (math.isfinite(timeout) and timeout >= 0):
        raise UsageError(f"--timeout must be a number of seconds ≥ 0 (0: no limit), got {timeout}")


def load_target(name):
    from attnreg.cli import UsageError
    from attnreg.verify.conformance import target

    try:
        return target.load(name)
    except target.TargetError as exc:
        raise UsageError(str(exc)) from None


def smoke(fn, args):
    """Call once on the first golden case: a wrong return type or shape is a usage error, not a failed case.

    The call is that case's measurement (:func:`runner.measure`, under ``--timeout``), handed to
    :func:`check.run` as it is: a call that ran past the limit — interrupted, or returning late — is
    the run's timeout (FAIL, naming the case), not forgotten and the case called afresh (a target slow
    on its first call only then passed); one that raised is judged as that case."""
    from attnreg.cli import UsageError
    from attnreg.verify.conformance import cases, runner

    first = cases.golden_cases(args.form, args.dtype)[0]
    m = runner.measure(fn, first, form=args.form, version=args.version, dtype=args.dtype, backend=args.backend,
                       device=args.device, scale=args.scale, timeout=args.timeout or None)
    if m.status in ("shape", "unreadable"):
        raise UsageError(f"{args.target}: {m.message} (on case {first.id}, n={first.n}, d={first.d})")
    return m


def run(args) -> int:
    import json
    import os
    import warnings

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from attnreg._io import atomic_write_text
    from attnreg.cli import UsageError, check_output
    from attnreg.verify.conformance import check, target

    check_seed(args.seed, args.timeout)
    check_output("--json", args.json)
    if args.json:  # absolute before the target runs: an os.chdir inside it moved a relative --json
        args.json = os.path.abspath(args.json)
    if not 0 <= args.examples <= 10_000:
        raise UsageError(f"--examples must be between 0 and 10000, got {args.examples}")
    warnings.simplefilter("ignore")  # the candidate's own warnings (overflow in exp, ...) are judged, not printed
    fn = load_target(args.target)
    try:
        target.converter(args.backend, args.dtype, args.device)
        first = smoke(fn, args)
    except target.TargetError as exc:
        raise UsageError(str(exc)) from None
    total = check.count(args.form, args.dtype, args.examples)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("cases", total=total)
        out = check.run(fn, version=args.version, form=args.form, dtype=args.dtype, backend=args.backend,
                        device=args.device, scale=args.scale, seed=args.seed, examples=args.examples,
                        target_name=args.target, timeout=args.timeout or None, first=first,
                        progress=lambda c: progress.update(task, advance=1, description=c.id))
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"{args.target}: {args.version} {args.form}, {args.dtype} on {args.backend} "
                        f"(scale {args.scale}; low precision via {out.meta['low_precision_arithmetic']})")
    for col in ("case", "n", "d", "max logit", "loss err", "grad err", "baseline (loss / grad)", "verdict"):
        table.add_column(col, overflow="fold")
    for row in out.rows():
        table.add_row(*(str(v) for v in row))
    console.print(table)
    for q, r in out.judgement.rule.items():
        console.print(f"ratio rule, {'gradient' if q == 'grad' else 'loss'} over {r['count']} well-conditioned cases: "
                      f"geometric mean of error/baseline {r['geomean_ratio']:.3g} (≤ 4), mean {r['mean'][0]:.2e} vs "
                      f"baseline {r['mean'][1]:.2e}, max {r['max'][0]:.2e} vs {r['max'][1]:.2e}: "
                      f"{'ok' if r['ok'] else 'FAIL'}")
    failing = [(m.case.id, v.reasons) for m, v in zip(out.measured, out.judgement.cases) if not v.ok]
    for cid, reasons in failing[:5]:
        console.print(f"  {cid}: {'; '.join(reasons)}")
    if len(failing) > 5:
        console.print(f"  ... and {len(failing) - 5} more failing cases (all in --json)")
    console.print(f"verdict: {'PASS' if out.ok else 'FAIL'}")
    for line in out.diagnosis:
        console.print(f"diagnosis: {line}")
    if args.json:
        atomic_write_text(args.json, json.dumps(out.to_json(), indent=1, ensure_ascii=False) + "\n")
    return 0 if out.ok else 1
