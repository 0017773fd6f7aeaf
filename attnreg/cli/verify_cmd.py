"""``attnreg verify``: run the registered checks, print a table, optionally write JSON / Markdown."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("verify", help="run the cross-validation checks (quick tier by default)",
                       description="Run every registered check of the quick tier (add --slow for the slow "
                                   "tier), print what each verified and how, and exit 0 if all pass, "
                                   "1 if any fails.")
    p.add_argument("-k", metavar="PATTERN", dest="pattern", help="only checks whose name contains PATTERN "
                   "(or matches it as a glob, e.g. 'prod.*.rescaled*')")
    p.add_argument("--slow", action="store_true", help="include the slow tier")
    p.add_argument("--seed", type=int, default=0, help="seed for sampled inputs (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--report", metavar="PATH", help="also write a Markdown report to PATH")
    p.add_argument("--list", action="store_true", help="list the selected checks without running them")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="under each check, say what it verified and how (the --report file always does)")
    p.set_defaults(handler=run)


def run(args) -> int:

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from attnreg._io import atomic_write_text
    from attnreg.cli import UsageError, check_output
    from attnreg.verify import catalogue, registry, report

    if not 0 <= args.seed < 2**32:
        raise UsageError(f"--seed must be an integer in 0 .. 2**32 - 1, got {args.seed}")
    for flag, path in (("--json", args.json), ("--report", args.report)):
        check_output(flag, path)
    tiers = ("quick", "slow") if args.slow else ("quick",)
    chosen = catalogue.select(args.pattern, tiers=tiers)
    if not chosen:
        raise UsageError(f"no check matches -k {args.pattern!r} in the {' and '.join(tiers)} tier; "
                         "see `attnreg verify --list --slow`")
    console = Console()
    if args.list:
        for c in chosen:
            console.print(f"{c.name}  [dim]({c.tier}, {c.evidence})[/dim]  {escape(c.claim)}", highlight=False,
                          soft_wrap=True)
        return 0
    results = []
    bar = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=bar, transient=True, disable=not bar.is_terminal) as progress:
        task = progress.add_task("checks", total=len(chosen))
        for c in chosen:
            progress.update(task, description=c.name)
            results.append(registry.run(c, seed=args.seed))
            progress.advance(task)
    by_name = {c.name: c for c in chosen}
    report.render_text(results, by_name, console, verbose=args.verbose)
    meta = report.header(args.seed, tiers)
    if args.json:
        atomic_write_text(args.json, report.to_json(results, by_name, meta))
    if args.report:
        atomic_write_text(args.report, report.to_markdown(results, by_name, meta))
    return 0 if all(r.ok for r in results) else 1
