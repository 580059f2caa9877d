"""The index folder: what it may hold besides the index (nothing of anyone else's), the lock
that lets one writer in, and throwing away an index that cannot be used.

`--index` names a folder; askseed writes its files there and deletes its vector files by
name, so a folder that holds no index but other files is refused before anything is written.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from askseed.store.schema import DB_FILE, IndexBusyError, StoreError


class ForeignFolderError(StoreError):
    """The index folder holds no index but files of someone else's."""


# What askseed keeps in an index folder (and its first versions' exports); hidden files
# (.gitkeep, .DS_Store) are nobody's documents.
INDEX_NAMES = re.compile(
    r"meta\.sqlite(-wal|-shm|-journal)?|write\.lock|vectors-\d+\.\d+\.(faiss|ivf)(\.tmp)?"
    r"|onnx-[0-9a-f]+-v\d+|\..*"
)


def check_index_folder(directory: Path) -> None:
    """ForeignFolderError when `directory` holds no index but other files: an index would mix
    with them, and askseed deletes its vector files by name. An empty or missing folder, or
    an index, passes."""
    directory = Path(directory)
    if not directory.is_dir() or (directory / DB_FILE).exists():
        return
    foreign = sorted(entry for entry in os.listdir(directory) if not INDEX_NAMES.fullmatch(entry))
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise ForeignFolderError(
            f"the index folder {directory} holds files that are not askseed's ({shown}): "
            "pass --index with a new or empty folder"
        )


def acquire_lock(path: Path) -> int:
    """The writer's lock, held until the returned descriptor is closed; IndexBusyError when
    another process holds it."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise IndexBusyError(
            f"another askseed is updating the index in {path.parent}; wait for it to finish"
        ) from None
    return handle


def discard_index_files(directory: Path) -> None:
    """Delete an unusable index (the lock stays: this process holds it)."""
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        (directory / name).unlink(missing_ok=True)
    for path in directory.glob("vectors-*"):
        path.unlink(missing_ok=True)
