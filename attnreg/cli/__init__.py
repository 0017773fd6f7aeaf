"""``attnreg``: the command line. Thin by design: parse, select, run, render.

Each subcommand is a module ``attnreg.cli.<name>_cmd`` with ``add_parser(subparsers)`` (which sets
``handler``) and no heavy imports at module level. User errors raise :class:`UsageError` (or are
reported by argparse): one sentence on stderr, exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

COMMANDS = ("verify", "solve", "claims", "proofs", "certify", "check-impl", "audit")
MODULES = {"check-impl": "check_impl"}  # command names that are not module names


class UsageError(Exception):
    """A mistake in what the user asked for; the message is one sentence."""


def check_output(flag: str, path) -> None:
    """Before any work: an output path must name a file in an existing folder."""
    if not path:
        return
    from pathlib import Path

    where = Path(path)
    if where.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give a file name")
    if not where.parent.exists():
        raise UsageError(f"{flag} {path}: the folder {where.parent} does not exist")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnreg",
        description="Check the theory of attention regression: cross-validate the float64 production path "
                    "against an mpmath reference, derive and check lemmas, and test theorem constants.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"attnreg.cli.{MODULES.get(name, name)}_cmd").add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    parser.add_argument("--version", action="version", version=f"attnreg {_version()}")
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # Floating-point warnings (overflow in an intermediate exp that the code then handles) are not
            # messages for the user: results say what happened in words, so none leaks into the output.
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.handler(args)
    except BrokenPipeError:  # `attnreg proofs | head`: the reader left. Before OSError, of which it is a kind.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # silence the final flush
        return 0
    except UsageError as exc:
        print(f"attnreg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the user named cannot be read or written (permissions, full disk, ...)
        print(f"attnreg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnreg: interrupted", file=sys.stderr)
        return 130


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("attnreg")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
