"""Turn one file into plain text: one reader per file type, and the decoding rules they share.

A reader takes the file's bytes (read once, by sources.read_document, which also hashes them)
and returns a Document, or raises SkipFile with a one-line reason that the user will read. To
support a new format, write one function and add it to READERS.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Bigger files are skipped before a byte is read, so memory stays bounded.
MAX_FILE_BYTES = 64 * 1024 * 1024
# A text file with a longer line holds generated data (minified code, base64, dumps), not prose.
MAX_LINE_CHARS = 1_000_000
# Binary sniffing looks at the start only, like git and grep do.
SNIFF_BYTES = 8192
MAX_CONTROL_RATIO = 0.10
PAGE_SEPARATOR = "\n\n"


class SkipFile(Exception):
    """This file cannot be used; str(error) is a one-line reason."""

    def __init__(self, reason: object) -> None:
        super().__init__(" ".join(str(reason).split())[:300] or "unreadable")


@dataclass(frozen=True)
class Document:
    text: str
    # PDF only: offset in `text` where each page starts (page 1 is index 0).
    page_starts: tuple[int, ...] | None = None
    # Non-fatal problems worth telling the user, e.g. "not valid UTF-8; decoded as cp1252".
    warnings: tuple[str, ...] = ()
    sha256: str = ""  # of the bytes the text was read from, set by sources.read_document


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


# --- decoding -------------------------------------------------------------------------------

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Five bytes have no cp1252 meaning; they fall back to latin-1, which maps every byte.
_CP1252_OR_LATIN1 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]


def _invalid_utf8_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_CP1252_OR_LATIN1[byte] for byte in bad), error.end


codecs.register_error("askseed-cp1252", _invalid_utf8_as_cp1252)


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, tuple[str, ...]]:
    """Bytes to text, and a warning when a guess was needed.

    Order: a UTF-16/32 byte-order mark, UTF-8 (with or without BOM), the encoding the
    document declares (HTML), UTF-8 with stray invalid bytes, cp1252, and latin-1.
    """
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), ()
            except UnicodeDecodeError:
                return data.decode(codec, errors="replace"), (
                    f"not valid {codec.upper()}; broken characters replaced",
                )
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return body.decode(declared), ()
        except (LookupError, UnicodeDecodeError):
            pass
    # Well-formed multi-byte UTF-8 (what survives "ignore" beyond ASCII) means UTF-8 with some
    # damage: legacy 8-bit text almost never contains such a sequence by accident.
    if not body.decode("utf-8", errors="ignore").isascii():
        text = body.decode("utf-8", errors="askseed-cp1252")
        return text, ("mixed encodings: UTF-8 with some invalid bytes, decoded as cp1252",)
    try:
        return body.decode("cp1252"), ("not valid UTF-8; decoded as cp1252",)
    except UnicodeDecodeError:
        return body.decode("latin-1"), ("not valid UTF-8; decoded as latin-1",)


def control_ratio(sample: str) -> float:
    """Share of control characters other than ordinary whitespace: high in binary data."""
    if not sample:
        return 0.0
    controls = sum(
        1 for char in sample if char not in "\t\n\r\f\v" and unicodedata.category(char) == "Cc"
    )
    return controls / len(sample)


def text_from_bytes(data: bytes, declared: str | None = None) -> tuple[str, tuple[str, ...]]:
    """Decode a text-like file, rejecting binary content whatever the file's extension."""
    wide = any(data.startswith(bom) for bom, _ in _WIDE_BOMS)
    if not wide and b"\0" in data[:SNIFF_BYTES]:
        raise SkipFile("binary file (contains NUL bytes)")
    text, warnings = decode_text(data, declared)
    ratio = control_ratio(text[:SNIFF_BYTES])
    if ratio > MAX_CONTROL_RATIO:
        raise SkipFile(f"binary file ({ratio:.0%} control characters)")
    if not text.strip():
        raise SkipFile("empty file (only whitespace)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


# --- readers ---------------------------------------------------------------------------------


def read_text(data: bytes) -> Document:
    text, warnings = text_from_bytes(data)
    longest = max(map(len, text.split("\n")))
    if longest > MAX_LINE_CHARS:
        raise SkipFile(
            f"a line is {longest:,} characters long (limit {MAX_LINE_CHARS:,}): generated data?"
        )
    return Document(text, warnings=warnings)


_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def declared_charset(head: bytes) -> str | None:
    """The encoding an HTML page names in its <meta> tag, if Python knows it."""
    match = _META_CHARSET.search(head)
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # Bytes that reached a <meta> tag readable as ASCII are not UTF-16/32, whatever it says
    # (browsers make the same call).
    return None if name.startswith(("utf-16", "utf-32")) else name


def read_html(data: bytes) -> Document:
    html, warnings = text_from_bytes(data, declared_charset(data[:4096]))
    text = extract_main_text(html)
    if not text:
        raise SkipFile("no main text found in the HTML page")
    return Document(text, warnings=warnings)


def extract_main_text(html: str) -> str:
    """The page's main content, without navigation, banners, footers or comments."""
    import trafilatura

    if "<html" not in html[:4096].lower():
        # trafilatura gives up on bare fragments like "<p>note</p>"; a wrapper rescues them.
        html = f"<html><body>{html}</body></html>"
    # It logs parse trouble at ERROR level, which Python would print on the user's terminal.
    with captured_logs("trafilatura", "htmldate", "courlan"):
        text = trafilatura.extract(html, include_comments=False, include_tables=True)
    # One block (heading, paragraph, table row) per line; a blank line between blocks keeps
    # a heading from being read as the start of the paragraph below it.
    return re.sub(r"\n+", "\n\n", text.strip()) if text else ""


def read_pdf(data: bytes) -> Document:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise SkipFile("not a PDF file (no %PDF header)")
    with captured_logs("pypdf") as messages:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise SkipFile("encrypted PDF (needs a password)")
            pages = list(reader.pages)
        except SkipFile:
            raise
        # A parser of untrusted bytes can fail in any way; all of them mean "cannot read it".
        except Exception as error:
            raise SkipFile(f"unreadable PDF: {error or type(error).__name__}") from error
        texts, failed = [], []
        for number, page in enumerate(pages, start=1):
            try:
                texts.append(page.extract_text().replace("\r\n", "\n").replace("\r", "\n"))
            except Exception:
                texts.append("")
                failed.append(str(number))
    if not pages:
        raise SkipFile("PDF has no pages")
    if not any(text.strip() for text in texts):
        raise SkipFile("no text layer (scanned PDF?)")
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    warnings = []
    if failed:
        warnings.append(f"could not extract text from page(s) {', '.join(failed)}")
    if messages:
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        warnings.append(f"damaged PDF, read anyway: {messages[0]}{more}")
    return Document(PAGE_SEPARATOR.join(texts), tuple(starts), tuple(warnings))


@contextmanager
def captured_logs(*logger_names: str) -> Iterator[list[str]]:
    """Collect WARNING+ records of these loggers as one-line strings instead of printing them."""
    messages: list[str] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = " ".join(record.getMessage().split())
            if message not in messages:
                messages.append(message)

    collector = Collector(logging.WARNING)
    loggers = [logging.getLogger(name) for name in logger_names]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.propagate = False
    try:
        yield messages
    finally:
        for logger, propagate in zip(loggers, saved, strict=True):
            logger.removeHandler(collector)
            logger.propagate = propagate


READERS: dict[str, Callable[[bytes], Document]] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}
