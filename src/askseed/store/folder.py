"""What an index folder may hold besides the index: nothing of anyone else's.

`--index` names a folder; askseed writes its files there and deletes its vector files by
name, so a folder that holds no index but other files is refused before anything is written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from askseed.store.schema import DB_FILE, StoreError


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
