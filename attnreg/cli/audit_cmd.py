"""``attnreg audit [TARGET] --out DIR``: sweep logit scale, n and dtype; Markdown, JSON and PNG plots."""
from __future__ import annotations


def add_parser(sub) -> None:
    from attnreg.cli.check_impl_cmd import add_common

    p = sub.add_parser("audit", help="sweep logit scale, n and dtype; report errors and overflow onsets")
    p.add_argument("target", metavar="TARGET", nargs="?", help="as in check-impl; default: attnreg's production path")
    add_common(p)
    p.add_argument("--out", metavar="DIR", required=True, help="folder for report.md, report.json and PNG plots")
    p.set_defaults(handler=run)


def run(args) -> int:
    from attnreg.verify.conformance import audit_report

    return audit_report.main(args)
