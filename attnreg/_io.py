"""Atomic file writes: a report or certificate is either whole or absent (docs/design.md §6)."""
from __future__ import annotations

import errno
import os
import sys
import tempfile
import typing
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename over ``path``.

    Only a regular file (or a new one) is replaced by renaming. A path that exists and is not a regular file
    (``/dev/stdout``, a pipe, a device) is written in place: renaming over it would replace the device node
    itself (as root, ``--json /dev/stdout`` once turned ``/dev/stdout`` into an ordinary file). A symbolic
    link to a file keeps being a link: the file it names is replaced.

    A path that is this process's own standard output or error (``--json /dev/stdout > out.txt``, or
    ``--json out.txt > out.txt``) is written through that open descriptor, after what the process printed:
    replacing the file would throw the printed text away. That write is an append, not atomic."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    own = own_stream(path)
    if own is not None:
        own.flush()
        with os.fdopen(os.dup(own.fileno()), "wb") as fh:
            fh.write(data)
        return path
    if path.exists() and not path.is_file():
        with open(path, "wb") as fh:
            fh.write(data)
        return path
    if path.is_symlink():
        try:
            path = path.resolve()
        except RuntimeError:  # Python < 3.13 raises this for a loop of links
            raise OSError(errno.ELOOP, "a loop of symbolic links", str(path)) from None
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the permissions a plain open() would
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def own_stream(path: Path) -> typing.TextIO | None:
    """``sys.stdout`` or ``sys.stderr`` when ``path`` is the very file (or pipe, or terminal) behind it, else None."""
    try:
        named = os.stat(path)
    except (OSError, ValueError):
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and os.path.samestat(named, os.fstat(stream.fileno())):
                return stream
        except (OSError, ValueError, AttributeError):  # no descriptor (a replaced stream), or a closed one
            continue
    return None
