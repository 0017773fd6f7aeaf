"""Atomic file writes: a report or certificate is either whole or absent (docs/design.md §6)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename over ``path``.

    Only a regular file (or a new one) is replaced by renaming. A path that exists and is not a regular file
    (``/dev/stdout``, a pipe, a device) is written in place: renaming over it would replace the device node
    itself (as root, ``--json /dev/stdout`` once turned ``/dev/stdout`` into an ordinary file). A symbolic
    link to a file keeps being a link: the file it names is replaced."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    if path.exists() and not path.is_file():
        with open(path, "wb") as fh:
            fh.write(data)
        return path
    if path.is_symlink():
        path = path.resolve()
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
