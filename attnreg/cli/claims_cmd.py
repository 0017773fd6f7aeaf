"""``attnreg claims``: check theorem constants (claim files), list the built-in claims, replay a
counterexample, and measure the in-context-learning target shift."""
from __future__ import annotations

EPILOG = """\
actions:
  check FILE...   decide each claim: proved (a derived lemma covers it), survived (adversarial search found
                  no violation; worst ratio reported), or refuted (counterexample confirmed at >= 50 digits,
                  written to DIR/counterexample-ID.json). Exit 1 if any claim is refuted or errors, 2 if a
                  claim file is malformed.
  list            the built-in claims (derived constants and the precursor's recalled factor)
  replay FILE     re-check a saved counterexample at >= 50 digits; exit 0 if it stands, 1 if not
  icl             in-context learning: the shifted target B~ for weight and data moves, its measured size
                  next to our derived constant and the paper-style factor n^1.5 exp(10R^2), n up to 256

claim-file vocabulary: see `attnreg claims check --help` and verify/claims/claimfile.py."""


def add_parser(sub) -> None:
    import argparse

    from attnreg.cli import add_pool_options

    p = sub.add_parser("claims", help="check theorem constants: proved / survived / refuted",
                       description="Check bounds on the attention-regression building blocks stated in claim "
                                   "files (TOML).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = acts.add_parser("check", help="check claim files", formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="Check every [[claim]] of the given files (or the built-in ones).",
                        epilog="keys: id, source, provenance (quoted|recalled|derived), form (vector|matrix), version "
                               "(normalized|rescaled), quantity (u|alpha|f|c|h|loss|grad), kind "
                               "(lipschitz|upper|lower), wrt (x|A ; X|A1|A2), wrt_norm (spectral|fro), loss_scale "
                               "(half|full), assume (list), constant (expression in n, d, R).\n"
                               "assume: norm(A|A1|A2|x|X|b) <= EXPR, norm(kron(A1,A2)) <= EXPR, simplex(b), "
                               "norm_inf(A(x-y)) <= EXPR, norm_inf((A-A')x) <= EXPR, R|n|d >=|<= NUMBER.")
    c.add_argument("files", nargs="*", metavar="FILE", help="claim files (TOML)")
    c.add_argument("--builtin", action="store_true", help="also check the built-in claims")
    c.add_argument("--budget", type=float, default=5.0, metavar="SECONDS",
                   help="search work per claim, in seconds (default 5; deterministic given --seed)")
    c.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    c.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    c.add_argument("--report", metavar="OUT.md", help="write the tightness report (Markdown, plus OUT.slack.png)")
    c.add_argument("--out", metavar="DIR", default=".", help="folder for counterexample files (default .)")
    add_pool_options(c, "search's grid points and the boxes of certificates that claims name")
    acts.add_parser("list", help="list the built-in claims", description="List the built-in claims.")
    r = acts.add_parser("replay", help="re-check a counterexample file",
                        description="Re-check a saved counterexample at >= 50 digits.")
    r.add_argument("file", metavar="COUNTEREXAMPLE.json")
    r.add_argument("--dps", type=int, default=None, help="digits (default: as recorded, at least 50)")
    i = acts.add_parser("icl", help="measure the in-context-learning target shift",
                        description="For weight moves (a gradient step) and data moves (a perturbation of A1), "
                                    "build the shifted target B~ (attnreg.icl), and print ||B~ - B|| next to our "
                                    "derived bound and the paper-style bound n^1.5 exp(10R^2) times the step.")
    i.add_argument("--sizes", default="16,64,256", help="comma-separated n (default 16,64,256)")
    i.add_argument("--d", type=int, default=4, help="d (default 4)")
    i.add_argument("--R", type=float, default=4.0, help="radius R (default 4, the precursor's R >= 4)")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--report", metavar="OUT.md", help="also write the table as Markdown")
    i.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    return {"check": _check, "list": _list, "replay": _replay, "icl": _icl}[args.action](args)


def _fail(message) -> None:
    from attnreg.cli import UsageError

    raise UsageError(" ".join(str(message).split()))


def _writable(flag, path):
    from attnreg.cli import check_output

    check_output(flag, path)


def _check(args) -> int:
    import math

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from attnreg._io import atomic_write_text
    from attnreg.cli import check_folder, open_pool
    from attnreg.verify import claims
    from attnreg.verify.claims import report
    from attnreg.verify.executor import mapper

    if not args.files and not args.builtin:
        _fail("give claim files, or --builtin")
    if not (args.budget > 0 and math.isfinite(args.budget)):
        _fail(f"--budget must be a positive number of seconds, got {args.budget}")
    for flag, path in (("--json", args.json), ("--report", args.report)):
        _writable(flag, path)
    check_folder("--out", args.out)  # counterexamples are saved there
    try:
        chosen = claims.load([*args.files, *(claims.builtin_paths() if args.builtin else [])])
    except claims.ClaimError as exc:
        _fail(exc)
    outcomes = []
    # the pool before the progress bar, and a bar that redraws only at updates (no thread of its own):
    # the workers fork only from a process without other threads
    # (disabled where stderr is no terminal: a transient bar there still ends with a blank line)
    err = Console(stderr=True)
    with open_pool(args) as pool, Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                           console=err, transient=True, auto_refresh=False,
                                           disable=not err.is_terminal) as progress:
        map_fn = mapper(pool, PARTS_PER_SLOT)
        for claim in chosen:
            task = progress.add_task(claim.id, total=1.0)
            outcomes.append(claims.check_claim(claim, budget=args.budget, seed=args.seed, out_dir=args.out,
                                               progress=lambda f, t=task: progress.update(t, completed=f,
                                                                                          refresh=True),
                                               map_fn=map_fn, pool=pool))
            progress.remove_task(task)
        lost = pool.lost
    if lost:
        Console(stderr=True).print("a worker died: this process ran its grid points (the results are the same)",
                                   highlight=False)
    _table(outcomes)
    if args.json:
        atomic_write_text(args.json, claims.to_json(outcomes))
    if args.report:
        meta = dict(seed=args.seed, budget=f"{args.budget:g} s per claim",
                    files=", ".join(sorted({o.claim.file for o in outcomes})))
        for path in report.write(args.report, outcomes, meta):
            Console(stderr=True).print(f"wrote {path}", highlight=False)
    return 0 if all(o.status in ("proved", "certified", "survived") for o in outcomes) else 1


PARTS_PER_SLOT = 2  # a round's grid points in 2 parts per worker: balance for uneven points, few messages


def _table(outcomes) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # every evidence word (attnreg.evidence) and "error"; cells are Text, never markup: an id or evidence with
    # brackets is printed as it is
    style = dict(proved="green", certified="green", confirmed="cyan", survived="cyan", refuted="bold red",
                 error="bold red")
    table = Table(title="attnreg claims", expand=True)
    for name, kw in (("claim", dict(overflow="fold", ratio=2)), ("status", dict(no_wrap=True)),
                     ("slack", dict(justify="right", no_wrap=True)), ("evidence", dict(overflow="fold", ratio=7))):
        table.add_column(name, **kw)
    for o in outcomes:
        slack = "" if not o.worst or o.worst["slack"] is None else f"{o.worst['slack']:.4g}"
        status = str(o.status)
        table.add_row(Text(o.claim.id), Text(status, style=style.get(status, "")), slack, Text(o.evidence))
    console = Console()
    console.print(table)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    console.print(f"{len(outcomes)} claims: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))


def _list(args) -> int:
    from attnreg.verify import claims

    for c in claims.builtin():
        form = c.form + (f", {c.version}" if c.version else "")
        print(f"{c.id}  [{c.provenance}]  {c.statement()}  ({form}; assume {', '.join(c.assume)})")
        print(f"    source: {c.source}")
    return 0


def _replay(args) -> int:
    from attnreg.verify import claims

    if args.dps is not None and not 50 <= args.dps <= 10000:
        _fail(f"--dps must be between 50 and 10000, got {args.dps}")
    try:
        result = claims.replay(args.file, dps=args.dps)
    except claims.ReplayError as exc:
        _fail(exc)
    print(result.text)
    return 0 if result.stands else 1


def _icl(args) -> int:
    import json

    from attnreg._io import atomic_write_text
    from attnreg.verify.claims import icl_report

    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    except ValueError:
        _fail(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    # R ≤ 20: the moved logits reach about R² = 400, beyond which exp overflows float64 in the residuals
    if any(s < 1 or s > 4096 for s in sizes) or args.d < 1 or not 0 < args.R <= 20:
        _fail("--sizes must lie in 1..4096, --d must be at least 1 and --R in (0, 20]")
    for flag, path in (("--json", args.json), ("--report", args.report)):
        _writable(flag, path)
    rows = icl_report.measure(sizes, d=args.d, R=args.R, seed=args.seed)
    text = icl_report.to_markdown(rows, d=args.d, R=args.R, seed=args.seed)
    print(text, end="")  # a Markdown table: readable as it is, and wide tables do not get truncated
    if args.report:
        atomic_write_text(args.report, text)
    if args.json:
        atomic_write_text(args.json, json.dumps(rows, indent=1) + "\n")
    return 0
