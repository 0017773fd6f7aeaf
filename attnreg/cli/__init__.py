"""``attnreg``: the command line. Thin by design: parse, select, run, render.

Each subcommand is a module ``attnreg.cli.<name>_cmd`` with ``add_parser(subparsers)`` (which sets
``handler``) and no heavy imports at module level. User errors raise :class:`UsageError` (or are
reported by argparse): one sentence on stderr, exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
import warnings

COMMANDS = ("verify", "solve", "claims", "proofs", "certify", "check-impl", "audit")
MODULES = {"check-impl": "check_impl"}  # command names that are not module names


class UsageError(Exception):
    """A mistake in what the user asked for; the message is one sentence."""


def check_output(flag: str, path) -> None:
    """Before any work: an output path must name a file in an existing, writable folder (the file is written
    beside it and renamed into place), or an existing stream or device (``/dev/stdout``, a pipe). ``-`` is
    refused rather than written as a file named ``-`` (the usual spelling of standard output, where the command
    prints), and so is an empty path. ``None``: the option was not given."""
    if path is None:
        return
    where = _path(flag, path)
    if where.is_dir() or str(path).endswith(("/", os.sep)):  # pathlib drops a trailing slash: "out.json/" is out.json
        raise UsageError(f"{flag} {path}: is a folder; give a file name")
    if where.exists() and not where.is_file():
        return  # a device, a pipe, a terminal: written in place (attnreg._io)
    folder = where.resolve().parent if where.is_symlink() else where.absolute().parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: {folder} {'is not a folder' if folder.exists() else 'does not exist'}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: the folder {folder} is not writable")


def check_folder(flag: str, path, *, create: bool = False) -> None:
    """Before any work: an output folder must be a writable folder (``create``: or one that can be made inside
    the nearest existing folder above it). ``-`` (standard output) and an empty path are refused."""
    where = _path(flag, path, folder=True)
    if where.exists() and not where.is_dir():
        raise UsageError(f"{flag} {path}: is a file; give a folder")
    probe = where.absolute()
    while create and not probe.exists() and probe != probe.parent:
        if probe.is_symlink():  # a link to nothing on the way up: making the folder would fail there
            raise UsageError(f"{flag} {path}: {probe} is a symbolic link to nothing")
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{flag} {path}: not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: the folder {probe} is not writable")


def _path(flag: str, path, folder: bool = False):
    """``path`` as a :class:`pathlib.Path`, or a :class:`UsageError` for ``-``, an empty path, a loop of links or
    (for a ``folder``) a link to nothing."""
    from pathlib import Path

    if path == "-" and folder:
        raise UsageError(f"{flag} -: a folder is needed here, not standard output")
    if path == "-":
        raise UsageError(f"{flag} -: standard output is not supported (the command prints there); give a path, "
                         "or /dev/stdout to follow what it prints")
    if str(path) == "":
        raise UsageError(f"{flag}: the path is empty")
    where = Path(path)
    try:
        where.resolve()
        if where.is_symlink():
            os.stat(where)
    except RuntimeError:  # Python < 3.13, for a loop of symbolic links
        raise UsageError(f"{flag} {path}: a loop of symbolic links") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{flag} {path}: a loop of symbolic links") from None
        if not folder:  # a link to a file not made yet: the file is written where it points
            return where
        raise UsageError(f"{flag} {path}: a symbolic link to nothing") from None
    return where


def add_pool_options(parser, tasks: str) -> None:
    """``--workers`` / ``--scheduler`` for a command whose ``tasks`` run on :mod:`attnreg.verify.executor`."""
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help=f"run the {tasks} on this process and N-1 forked ones (default: the number of cores; "
                             "1 = this process alone; none is started for a run shorter than 10 ms)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help=f"run the {tasks} on a Dask cluster, e.g. tcp://host:8786 (needs pip install "
                             "'attnreg[dask]'; see README, 'Certified bounds and scaling out')")


@contextlib.contextmanager
def open_pool(args):
    """The executor pool that ``--workers`` / ``--scheduler`` ask for; a bad value is a :class:`UsageError`
    before any work."""
    from attnreg.verify.executor import ExecutorError, executor

    if args.workers is not None and args.scheduler is not None:
        raise UsageError("give --workers or --scheduler, not both")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    with contextlib.ExitStack() as stack:
        try:
            pool = stack.enter_context(executor(args.workers, args.scheduler))
        except ExecutorError as exc:
            raise UsageError(" ".join(str(exc).split())) from None
        yield pool


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnreg",
        description="Check the theory of attention regression: cross-validate the float64 production path "
                    "against an mpmath reference, derive and check lemmas, and test theorem constants.",
        epilog="Every command exits 130 with one line when interrupted (Ctrl-C, or a KeyboardInterrupt raised by a "
               "function under check-impl or audit).")
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
