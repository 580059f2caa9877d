"""The SHA-256 of a file: how a document's content and a vectors file's integrity are known."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    """Raises OSError (EINVAL) for anything that is not a regular file."""
    digest = hashlib.sha256()
    # O_NONBLOCK: a file swapped for a named pipe since it was listed must not hang the run.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
