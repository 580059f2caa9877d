"""Turn one file into plain text: one reader per file type.

A reader takes the file's bytes (read once, by reading.read_document, which also hashes them)
and returns a Document, or raises SkipFile with a one-line reason that the user will read. To
support a new format, write one function and add it to READERS. The readers of richer formats
live in their own modules: html, pdf, word and epub; decoding holds the rules for bytes to text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from askseed.ingest.decoding import declared_charset, decode_text, text_from_bytes
from askseed.ingest.document import Document, SkipFile, captured_logs
from askseed.ingest.epub import read_epub
from askseed.ingest.html import extract_main_text, read_html
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
