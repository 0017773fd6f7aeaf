"""``attnreg audit [TARGET] --out DIR``: sweep logit scale, n and dtype; Markdown, JSON and PNG plots."""
from __future__ import annotations

from attnreg.cli.check_impl_cmd import add_target_parser


DESCRIPTION = " ".join("""
Sweep max|S| from 1 to 2048 (past every dtype's exp overflow), n and the dtype (float64, float32, float16,
bfloat16) and measure, against high-precision gold, the relative error of the loss and the gradient, the
digits lost and where NaN/inf/underflow start, beside the a-priori error bound; for attnreg's own path (no
TARGET: both versions) also the softmax step beside the Blanchard-Higham-Higham bound. Writes report.md,
report.json and PNG plots into --out DIR and prints where the plots are. With TARGET only --version is swept.
Exit 0 when every point was measured, 1 when a call of TARGET ran past --timeout or returned after it (the
later points are not called; the report is written and marked incomplete, and one line names the point) or
when calls raised or returned no number (counted in the summary and in one line naming the first), 2 usage
error.
""".split())  # argparse rewraps it


def add_parser(sub) -> None:
    p = add_target_parser(
        sub, "audit", help="sweep logit scale, n and dtype; report errors and overflow onsets",
        description=DESCRIPTION,
        target_help="as in check-impl; default: attnreg's production path", optional=True)
    p.add_argument("--out", metavar="DIR", required=True, help="folder for report.md, report.json and PNG plots")
    p.set_defaults(handler=run)


def run(args) -> int:
    from attnreg.verify.conformance import audit_report

    return audit_report.main(args)
