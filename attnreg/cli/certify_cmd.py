"""``attnreg certify``: certify a Lipschitz bound on a box (interval branch-and-bound in arb), and check a
certificate through an independent code path."""
from __future__ import annotations

EPILOG = """\
actions:
  run SPEC.toml --out CERT.json   prove sup over the box of ||J_f||_2 (quantity f) or ||Hessian||_2 (quantity
                                  grad) <= target; exit 0 if certified, 1 if not (the certificate then holds the
                                  best bound reached, the worst box and, if found, a counterexample confirmed at
                                  50 digits), 2 on a bad spec or option
  check CERT.json [--spec SPEC]   re-derive every box's bound by separate code; exit 0 only for a valid
                                  certificate whose status is certified, 1 otherwise, 2 if unreadable

spec keys: quantity (f|grad), form (vector|matrix), version (normalized|rescaled; grad only), A, b |
A1, A2, B, center, radius (inf-norm), target (>= 0: a number or e.g. "1.01 * 0.5 * norm(A)"),
budget_seconds, precision_bits (optional), max_boxes (optional), refine_to (optional). Formats and an
example: docs/certify.md."""


def add_parser(sub) -> None:
    import argparse

    from attnreg.cli import add_pool_options

    p = sub.add_parser("certify", help="certified Lipschitz bounds on a box (arb branch-and-bound) and their checker",
                       description="Certify, for fixed data and a box of parameters, that a Lipschitz constant is at "
                                   "most a target, and re-check such certificates.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = acts.add_parser("run", help="run the branch-and-bound and write a certificate",
                        description="Run the branch-and-bound of SPEC and write the certificate (JSON) atomically.")
    r.add_argument("spec", metavar="SPEC.toml", help="what to certify: quantity, data, box, target, budget "
                                                     "(keys below and in docs/certify.md)")
    r.add_argument("--out", required=True, metavar="CERT.json", help="where to write the certificate")
    add_pool_options(r, "boxes")
    c = acts.add_parser("check", help="check a certificate independently",
                        description="Re-derive every bound of a certificate through code that does not share the "
                                    "bound computation with `run`, and check the boxes cover the domain.")
    c.add_argument("cert", metavar="CERT.json", help="a certificate written by `attnreg certify run`")
    c.add_argument("--spec", metavar="SPEC.toml", help="also require the certificate to be about this spec's "
                                                       "quantity, data, box and target")
    p.set_defaults(handler=run)


def run(args) -> int:
    return {"run": _run, "check": _check}[args.action](args)


def _fail(message) -> None:
    from attnreg.cli import UsageError

    raise UsageError(" ".join(str(message).split()))


def _load_spec(path):
    from attnreg.verify.certify.spec import SpecError, load

    try:
        return load(path)
    except SpecError as exc:
        _fail(exc)


def _run(args) -> int:
    import sys
    import time
    from pathlib import Path

    from attnreg._io import own_stream
    from attnreg.cli import check_output, open_pool
    from attnreg.verify.certify import bnb, certificate, enclose

    check_output("--out", args.out)
    spec = _load_spec(args.spec)
    start = time.monotonic()
    with open_pool(args) as pool, _progress(spec) as progress:
        try:
            body = bnb.run(spec, pool, progress=progress)
        except enclose.Disjoint as exc:  # never a certificate from a false enclosure
            _fail(f"internal error, no certificate written: {exc}")
        kind = pool.kind + (": a worker died, this process ran its tasks" if pool.lost else "")
    seconds = time.monotonic() - start
    cert = certificate.build(body)
    low = cert["lower_bound"]["value"]
    ratio = float(cert["bound"]) / float(low) if float(low) > 0 else float("inf")
    lines = [f"{cert['status']}: {cert['statement']}",
             f"  target {cert['target']} (>= {cert['target_enclosure'][0]}); lower bound {low} at x = "
             f"{cert['lower_bound']['point']} (bound/lower = {ratio:.4g})",
             f"  {cert['boxes_evaluated']} boxes evaluated, {len(cert['boxes'])} in the certificate, stopped by "
             f"{cert['stop']}; {seconds:.2f} s on {kind}"]
    if cert["status"] != "certified":
        cx = cert.get("counterexample")
        if cx:
            lines.append(f"  counterexample: x = {cx['point']}: ||M||_2 = {cx['value'][:20]} > target "
                         f"{cx['target'][:20]} ({cx['dps']} digits)")
        else:
            lines.append(f"  worst remaining box {cert['worst_box']['box']} with bound {cert['worst_box']['bound']}")
    own = own_stream(Path(args.out))
    if own is None:  # a file: written first (a failed write prints no report), then the report
        certificate.write(args.out, cert)
        print("\n".join(lines))
        print(f"  wrote {args.out}", file=sys.stderr)
    else:  # this process's stdout or stderr (``--out /dev/stdout | attnreg certify check /dev/stdin``): the report
        # on the other stream, and the certificate last and alone on its own
        print("\n".join(lines), file=sys.stderr if own is sys.stdout else sys.stdout, flush=True)
        certificate.write(args.out, cert)
    return 0 if cert["status"] == "certified" else 1


class _progress:
    """A transient progress line on a terminal (stderr); nothing otherwise. Redrawn at each update, never by
    a thread of its own: a thread alive when the worker pool starts would make it spawn instead of fork."""

    def __init__(self, spec):
        self.spec, self.bar = spec, None

    def __enter__(self):
        import sys

        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True),
                            transient=True, auto_refresh=False)
        self.bar.__enter__()
        self.task = self.bar.add_task("branch-and-bound")
        return lambda boxes, worst, secs: self.bar.update(
            self.task, refresh=True, description=f"branch-and-bound: {boxes} boxes, worst bound {worst:.6g} (target "
                                   f"{self.spec.target}), budget {self.spec.budget_seconds:g} s")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


class _check_progress(_progress):
    """A transient 'boxes checked' bar on a terminal."""

    def __init__(self):
        super().__init__(None)

    def __enter__(self):
        import sys

        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("checking boxes"), BarColumn(), MofNCompleteColumn(),
                            console=Console(stderr=True), transient=True, auto_refresh=False)
        self.bar.__enter__()
        self.task = self.bar.add_task("check")
        return lambda done, total: self.bar.update(self.task, completed=done, total=total, refresh=True)


def _check(args) -> int:
    from attnreg.verify.certify import checker
    from attnreg.verify.certify.certificate import PROBLEM_KEYS

    spec = _load_spec(args.spec) if args.spec else None
    try:
        cert = checker.load(args.cert)
    except checker.Rejected as exc:
        _fail(exc)
    try:
        if spec is not None:
            want = spec.problem()
            for key in PROBLEM_KEYS:
                if cert.get(key) != want[key]:
                    raise checker.Rejected(f"its {key} differs from the spec {args.spec}")
        with _check_progress() as progress:
            summary = checker.check(cert, progress=progress)
    except checker.Rejected as exc:
        print(f"rejected: {exc}")
        return 1
    print(f"valid: {summary}")
    return 0 if cert["status"] == "certified" else 1
