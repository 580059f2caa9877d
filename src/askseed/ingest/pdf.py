"""PDF files: the text layer of each page, without the page's furniture (running headers,
footers, page numbers), with words broken at line ends made whole again.

No line is ever deleted or added: a header becomes an empty line, and a rejoined word moves
to one of the two lines it was split over. A passage's `path:p<page>:<line>` therefore still
counts the lines of the original page.
"""

from __future__ import annotations

import io
import re
import traceback
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from askseed.ingest.document import Document, SkipFile, captured_logs, paged_document

# Between two pages. The form feed marks the page break, so that a sentence running on over
# it is read as one (sentences._blocks), while the blank line keeps the pages' lines apart.
PAGE_SEPARATOR = "\n\f\n"

# --- page furniture ----------------------------------------------------------------------------

# Headers and footers sit in the first or last few non-blank lines of a page, and are short.
ZONE_LINES = 3
MAX_FURNITURE_CHARS = 100
# A running header comes back on nearby pages (every page, or every other one), with its page
# number changed and, in OCR text, a letter or two misread: "THE SIEGE OF VICKSBUEG".
NEARBY_PAGES = 4
# High enough to keep a chapter's title on its first page ("Function reference") apart from
# the running header it becomes on the next ones ("CHAPTER 3. FUNCTION REFERENCE").
SIMILARITY = 0.85
_MIN_KEY_LETTERS = 4
# A bare page number: "12", "- 12 -", "[xiv]", "Page 3", "3 of 10", "Page 3 / 10"; not "1);"
# or "100." (the end of a code listing, a numbered line).
_DECORATION = r"[\s\-\u2013\u2014\[\]()|\u00b7\u2022*~]*"
_PAGE_NUMBER = re.compile(
    rf"{_DECORATION}(?:(?i:page|pg\.?|p\.)\s*)?(?:\d{{1,4}}|[ivxlc]{{1,7}})"
    rf"(?:\s*(?:of|/)\s*\d{{1,4}})?{_DECORATION}"
)
_NOT_LETTERS = re.compile(r"[^a-z]+")


def furniture_lines(pages: list[list[str]]) -> list[set[int]]:
    """For each page, the indexes of its lines that are page furniture.

    A line near the top or bottom of a page is furniture when it is a bare page number, or
    when a similar line (digits aside) sits near the top or bottom of enough nearby pages:
    the document's own repetition, not a list of known headers.
    """
    zones = [_zone(lines) for lines in pages]
    needed = min(3, max(2, len(pages) // 2))  # pages the line must appear on, itself included
    furniture: list[set[int]] = [set() for _ in pages]
    for page, zone in enumerate(zones):
        for index, key in zone:
            if key is None:
                furniture[page].add(index)
                continue
            seen = 1
            for other in range(
                max(0, page - NEARBY_PAGES), min(len(pages), page + NEARBY_PAGES + 1)
            ):
                if other != page and any(
                    other_key and _similar(key, other_key) for _, other_key in zones[other]
                ):
                    seen += 1
                    if seen >= needed:
                        furniture[page].add(index)
                        break
    return furniture


def _zone(lines: list[str]) -> list[tuple[int, str | None]]:
    """(index, key) of the lines a header or footer could be: key None for a page number,
    "" for a line too short or too long to be compared."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    indexes = sorted(set(filled[:ZONE_LINES] + filled[-ZONE_LINES:]))
    zone = []
    for index in indexes:
        line = lines[index].strip()
        if _PAGE_NUMBER.fullmatch(line):
            zone.append((index, None))
            continue
        key = _NOT_LETTERS.sub(" ", line.lower()).strip()
        too_short = sum(char.isalpha() for char in key) < _MIN_KEY_LETTERS
        zone.append((index, "" if too_short or len(line) > MAX_FURNITURE_CHARS else key))
    return zone


@lru_cache(maxsize=4096)
def _letters(key: str) -> Counter[str]:
    return Counter(key)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    # Each pair comes up twice, once from each of its pages.
    return _similar_pair(a, b) if a < b else _similar_pair(b, a)


@lru_cache(maxsize=65536)
def _similar_pair(a: str, b: str) -> bool:
    total = len(a) + len(b)
    # Upper bounds of the ratio first, from the lengths and the letters shared: most pairs
    # of body lines fail there, without the cost of a full match.
    if 2 * min(len(a), len(b)) < SIMILARITY * total:
        return False
    if 2 * (_letters(a) & _letters(b)).total() < SIMILARITY * total:
        return False
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= SIMILARITY


# --- words broken at line ends -----------------------------------------------------------------

_BROKEN_END = re.compile(r"([^\W\d_]+)([-\u00ad\u2010])\s*$")
_CONTINUED_START = re.compile(r"(\s*)([^\W\d_]+)(\S*)")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Words that make compounds far more often than they are cut from a longer word at a line end.
_COMPOUND_HEADS = frozenset(["self", "well", "ex", "non", "half", "all", "quasi", "so"])


class Vocabulary:
    """How often the document writes each word, and each hyphenated compound."""

    def __init__(self, text: str) -> None:
        tokens = _WORD.findall(text.lower())
        self.compounds = Counter(token for token in tokens if "-" in token)
        self.words = Counter(tokens)
        for compound, count in self.compounds.items():
            del self.words[compound]
            for part in compound.split("-"):
                self.words[part] += count

    def joins(self, head: str, tail: str) -> bool:
        """True when `head-` + `tail` at a line end is one word cut in two ("mova-" "ble"),
        False when it is a hyphenated compound ("well-" "known")."""
        joined, compound = (head + tail).lower(), f"{head}-{tail}".lower()
        if self.words[joined] != self.compounds[compound]:
            return self.words[joined] > self.compounds[compound]
        if head.lower() in _COMPOUND_HEADS:
            return False
        # Both halves written as words elsewhere (the cut itself counts each once): "cross" and
        # "section" make "cross-section"; "mova" and "ble" are no words.
        return not (self.words[head.lower()] > 1 and self.words[tail.lower()] > 1)


def rejoin_broken_words(lines: list[str], vocabulary: Vocabulary) -> list[str]:
    """Lines with each word hyphenated across a line end made whole on one of its lines."""
    lines = list(lines)
    for index in range(len(lines) - 1):
        end = _BROKEN_END.search(lines[index])
        start = _CONTINUED_START.match(lines[index + 1])
        if not end or not start or not start.group(2)[0].islower():
            continue
        head, hyphen, tail = end.group(1), end.group(2), start.group(2)
        joined = hyphen == "\u00ad" or vocabulary.joins(head, tail)
        word = (head + tail if joined else f"{head}-{tail}") + start.group(3)
        before = lines[index][: end.start()]
        after = lines[index + 1][start.end() :].lstrip()
        if after or not before.strip():
            lines[index], lines[index + 1] = before + word, start.group(1) + after
        else:  # the tail was the whole next line: the word moves down, no line is left empty
            lines[index], lines[index + 1] = before.rstrip(), start.group(1) + word
    return lines


# --- reading -----------------------------------------------------------------------------------


def clean_pages(texts: list[str]) -> list[str]:
    """Each page's text with its furniture blanked and its broken words joined."""
    pages = [text.split("\n") for text in texts]
    vocabulary = Vocabulary("\n".join(texts))
    cleaned = []
    for lines, furniture in zip(pages, furniture_lines(pages), strict=True):
        kept = ["" if index in furniture else line for index, line in enumerate(lines)]
        cleaned.append("\n".join(rejoin_broken_words(kept, vocabulary)))
    return cleaned


def read_pdf(data: bytes) -> Document:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise SkipFile("not a PDF file (no %PDF header)")
    with captured_logs("pypdf") as messages:
        try:
            reader = PdfReader(io.BytesIO(data))
            if _is_encrypted(reader):
                _decrypt(reader)
            pages = list(reader.pages)
        except SkipFile:
            raise
        # A parser of untrusted bytes can fail in any way; all of them mean "cannot read it".
        except Exception as error:
            if _raised_by_encryption(error):
                raise SkipFile(f"{_DAMAGED_ENCRYPTION} ({error})") from error
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
    warnings = []
    if failed:
        warnings.append(f"could not extract text from page(s) {', '.join(failed)}")
    if messages:
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        warnings.append(f"damaged PDF, read anyway: {messages[0]}{more}")
    return paged_document(clean_pages(texts), PAGE_SEPARATOR, warnings)


_DAMAGED_ENCRYPTION = "encrypted PDF with a damaged or unsupported encryption dictionary"


def _raised_by_encryption(error: Exception) -> bool:
    """True when pypdf failed while reading the encryption dictionary (as it opens the file)."""
    return "/encrypt" in str(error).lower() or any(
        Path(frame.f_code.co_filename).stem in ("_encryption", "_security")
        for frame, _ in traceback.walk_tb(error.__traceback__)
    )


def _is_encrypted(reader) -> bool:
    try:
        return reader.is_encrypted
    except Exception as error:
        raise SkipFile(f"{_DAMAGED_ENCRYPTION} ({error})") from error


def _decrypt(reader) -> None:
    """Open an encrypted PDF with the empty password, as PDF viewers do without asking."""
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("")
    except DependencyError as error:
        raise SkipFile(
            f"encrypted PDF that needs the `cryptography` package: pip install 'pypdf[crypto]'"
            f" ({error})"
        ) from error
    except Exception as error:
        raise SkipFile(f"{_DAMAGED_ENCRYPTION} ({error})") from error
    if not opened:
        raise SkipFile("password-protected PDF: it needs a password to open")
