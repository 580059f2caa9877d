"""Turn one file into plain text: one reader per file type, and read_document, which picks it.

read_document reads a listed file's bytes once, hashes them, and gives them to the reader of
its type. A reader takes the bytes and returns a Document, or raises SkipFile with a one-line
reason that the user will read. To support a new format, write one function and add it to
READERS. The readers of richer formats live in their own modules: html, pdf, word and epub;
decoding holds the rules for bytes to text.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from askseed.ingest.decoding import declared_charset, decode_text, text_from_bytes
from askseed.ingest.document import Document, SkipFile, captured_logs
from askseed.ingest.epub import read_epub
from askseed.ingest.html import extract_main_text, read_html
from askseed.ingest.listing import SourceFile, os_reason
from askseed.ingest.pdf import PAGE_SEPARATOR, read_pdf
from askseed.ingest.word import read_docx

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "PAGE_SEPARATOR",
    "READERS",
    "Document",
    "SkipFile",
    "captured_logs",
    "decode_text",
    "declared_charset",
    "extract_main_text",
    "read_bytes",
    "read_document",
    "read_docx",
    "read_epub",
    "read_html",
    "read_pdf",
    "read_text",
    "text_from_bytes",
    "too_large_reason",
]

# Bigger files are skipped before a byte is read, so memory stays bounded.
MAX_FILE_BYTES = 64 * 1024 * 1024
# A text file with a longer line holds generated data (minified code, base64, dumps), not prose.
MAX_LINE_CHARS = 1_000_000


def read_bytes(path: Path) -> bytes:
    """The whole file, refusing anything that is not a regular file of a sensible size."""
    # O_NONBLOCK: if the file was swapped for a named pipe since it was listed, opening it
    # must not wait forever for a writer.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise SkipFile("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise SkipFile(too_large_reason(info.st_size))
        # The file may grow after fstat; reading one byte past the limit notices.
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SkipFile(too_large_reason(len(data)))
    if not data:
        raise SkipFile("empty file")
    return data


def too_large_reason(size: int) -> str:
    return f"file too large ({size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB)"


def read_text(data: bytes) -> Document:
    text, warnings = text_from_bytes(data)
    longest = max(map(len, text.split("\n")))
    if longest > MAX_LINE_CHARS:
        raise SkipFile(
            f"a line is {longest:,} characters long (limit {MAX_LINE_CHARS:,}): generated data?"
        )
    return Document(text, warnings=warnings)


READERS: dict[str, Callable[[bytes], Document]] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".epub": read_epub,
}


def read_document(source: SourceFile) -> Document:
    """The file's text and the SHA-256 of its bytes, both from one read.

    Raises SkipFile (a one-line reason) for anything that makes the file unusable.
    """
    path = source.path
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(no extension)'}")
    if source.size > MAX_FILE_BYTES:
        raise SkipFile(too_large_reason(source.size))
    try:
        data = read_bytes(path)
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
