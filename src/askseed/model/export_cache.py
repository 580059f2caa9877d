"""The per-user cache of ONNX exports: one export per machine, shared by every index folder.

An export costs 12-25 s and imports torch, so it is made once per model and export version,
into `askseed.config.cache_dir()` (`$ASKSEED_CACHE`, else `$XDG_CACHE_HOME/askseed`, else
`~/.cache/askseed`):

    onnx-<model fingerprint>-v<export version>/    what onnx_export.export_onnx writes
    .onnx-<model fingerprint>-v<export version>.lock

Opening needs no lock: export_onnx renames a finished folder into place, so a reader finds a
complete export or none. Exporting takes the lock file, and whoever gets it second finds the
export already made and opens it: two processes starting at once export once, and never
write into the same folder. An entry that is there but cannot be opened (a file missing or
truncated, onnxruntime refusing it) is exported again, with a one-line warning on stderr.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from askseed.config import cache_dir
from askseed.errors import first_line
from askseed.model.onnx_runtime import (
    ENCODER_CONFIG_FILE,
    ONNX_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    BrokenExportError,
)

Opened = TypeVar("Opened")


def export_path(cache: Path, fingerprint: str, version: str) -> Path:
    return Path(cache) / f"onnx-{fingerprint}-v{version}"


def open_cached(
    target: Path,
    export: Callable[[Path], object],
    open_export: Callable[[Path], Opened],
) -> Opened:
    """Open the export at `target`, making it first (`export(target)`) when it is missing or
    damaged. `open_export` raises FileNotFoundError or BrokenExportError for an unusable one."""
    try:
        return open_export(target)
    except (FileNotFoundError, BrokenExportError):
        pass
    with _locked(target.parent / f".{target.name}.lock"):
        try:  # another process may have made it while this one waited for the lock
            return open_export(target)
        except (FileNotFoundError, BrokenExportError) as error:
            if target.exists():
                print(
                    f"askseed: warning: the cached model export is damaged ({first_line(error)}); "
                    "exporting it again",
                    file=sys.stderr,
                    flush=True,
                )
        export(target)
    return open_export(target)


def remove_entries(targets: list[Path]) -> None:
    """Delete cache entries nothing reads any more, with their lock files. A process of an
    older askseed that still reads one has its files open, which stay readable; when it next
    needs the entry, it makes it again."""
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
        (target.parent / f".{target.name}.lock").unlink(missing_ok=True)


# What askseed's first versions named an export inside an index folder, and all it held.
OLD_EXPORT_NAME = re.compile(r"onnx-[0-9a-f]+-v[0-9]+")
EXPORT_FILES = frozenset({ONNX_FILE, WEIGHTS_FILE, TOKENIZER_FILE, ENCODER_CONFIG_FILE})


def remove_index_folder_exports(index: Path) -> None:
    """Delete the exports (about 90 MB each) that askseed's first versions made inside an
    index folder, `onnx-<fingerprint>-v<version>/`, before there was this cache: nothing reads
    them now. Only a folder of that name holding an export's files and nothing else goes, for
    `--index` may name a folder of the user's own. An index folder that is the cache itself
    keeps its entries."""
    if Path(index).resolve() == cache_dir().resolve():
        return
    for path in Path(index).glob("onnx-*"):
        if not (OLD_EXPORT_NAME.fullmatch(path.name) and path.is_dir()):
            continue
        names = {child.name for child in path.iterdir()}
        if ONNX_FILE in names and names <= EXPORT_FILES:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if this process dies
        yield
    finally:
        os.close(handle)
