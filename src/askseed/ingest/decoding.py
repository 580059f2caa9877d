"""Bytes to text: byte-order marks, UTF-8, a declared encoding, then legacy fallbacks, and the
sniffing that tells binary data from text whatever a file's extension says."""

from __future__ import annotations

import codecs
import re
import unicodedata

from askseed.ingest.document import SkipFile

# Binary sniffing looks at the start only, like git and grep do.
SNIFF_BYTES = 8192
MAX_CONTROL_RATIO = 0.10

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
