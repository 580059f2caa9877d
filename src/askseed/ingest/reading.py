"""Read one listed document: its text and the SHA-256 of its bytes, from one read."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

from askseed.ingest import readers
from askseed.ingest.listing import SourceFile, os_reason
from askseed.ingest.readers import READERS, Document, SkipFile

__all__ = ["SkipFile", "read_document"]


def read_document(source: SourceFile) -> Document:
    """The file's text and the SHA-256 of its bytes, both from one read.

    Raises SkipFile (a one-line reason) for anything that makes the file unusable.
    """
    path = source.path
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(no extension)'}")
    if source.size > readers.MAX_FILE_BYTES:
        raise SkipFile(readers.too_large_reason(source.size))
    try:
        data = readers.read_bytes(path)
        document = reader(data)
    except SkipFile:
        raise
    except FileNotFoundError as error:
        raise SkipFile("deleted before it could be read") from error
    except OSError as error:
        raise SkipFile(os_reason(error)) from error
    # The last line of defence for "never a traceback": a reader bug or a library failing on
    # hostile input costs this one file, not the whole run.
    except Exception as error:
        raise SkipFile(f"could not read it ({type(error).__name__}: {error})") from error
    try:
        after = os.stat(path)
    except FileNotFoundError as error:
        raise SkipFile("deleted while reading") from error
    except OSError as error:
        raise SkipFile(os_reason(error)) from error
    # Comparing with the listing's stat data also catches a change between listing and reading.
    # Size and mtime only: an edit meanwhile that restores the mtime is caught by the next
    # freshness check, through the change time recorded from the listing; a chmod meanwhile
    # need not cost the file a run.
    if (after.st_size, after.st_mtime_ns) != (source.size, source.mtime_ns):
        raise SkipFile("changed while reading; will retry next run")
    return replace(document, sha256=hashlib.sha256(data).hexdigest())
