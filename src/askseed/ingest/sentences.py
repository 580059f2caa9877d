"""Normalise text, split it into sentences with true raw offsets, and drop web boilerplate.

Sentences are found line by line. Inside a line, a boundary is either *spaced* (terminal
punctuation, then whitespace) or *glued*: scraped pages often lose the whitespace between
page elements, giving "preferences.Jump" or "IndependentNotifications". Glued boundaries are
what give page chrome away: menus, buttons and prompts are short fragments glued to their
neighbours, while the article's prose sits between ordinary spaces. Every rule here is a
general one about the shape of text; none names a particular site.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    text: str  # normalised: NFKC, invisible characters removed, whitespace runs -> one space
    start: int  # offset into the raw string given to split_sentences
    end: int  # exclusive; normalise(raw[start:end]) == text


# Zero-width and bidi marks, soft hyphen, BOM, and C0/C1 control characters other than
# whitespace: invisible in a terminal, but they break matching and deduplication.
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"
)
_WHITESPACE_RUN = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, whitespace runs collapsed to one space, stripped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", text)
    elif not text.isprintable():
        text = _INVISIBLE.sub("", text)
    return _WHITESPACE_RUN.sub(" ", text).strip()


# --- boundaries -----------------------------------------------------------------------------

# How a sentence meets its neighbour when no whitespace separates them.
PUNCT_GLUE = "punct"  # "preferences.Jump": the previous sentence did end
WORD_GLUE = "word"  # "IndependentNotifications": it did not

_CLOSERS = "\"'”’»)\\]"
# Terminal punctuation (with any closing quotes/brackets) followed by whitespace.
_SPACED_END = re.compile(rf"([.!?…]+[{_CLOSERS}]*)\s+(?=\S)")
# Terminal punctuation glued to a capitalised word: "preferences.Jump". Two letters or digits
# before the mark keep "U.S.Army"-style initials and "3.5" intact.
_GLUED_END = re.compile(rf"[A-Za-z0-9]{{2}}([.!?…]+[{_CLOSERS}]*)(?=[A-Z][a-z]|[AI] )")
# A lower-case letter run glued to a capitalised word: "IndependentNotifications".
_CAMEL_HIT = re.compile(r"[a-z][A-Z][a-z]")
_LETTERS_AFTER = re.compile(r"[A-Za-z]*")
_LETTERS_BEFORE = re.compile(r"[A-Za-z]*$")
_CAMEL_JOIN = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z])")
# Brand names and identifiers are short: YouTube, JavaScript, PlayStation, onClick, DuckDuckGo.
# Glued page elements make long runs ("contentThank" is 12, joined menus are far longer), and
# the lower-case run before a join must be 2+ letters, which spares McDonald, iPhone and eBay.
# A long genuine token (getElementById) can still be cut; it is safe inside `backticks`.
_LONGEST_CAMEL_WORD = 12
# Whatever its length, a token is cut before a capitalised sentence opener ("inThe",
# "menuPlease"): such words begin sentences and almost never form part of a name.
_SENTENCE_OPENER_JOIN = re.compile(
    r"(?<=[a-z]{2})(?=(?:The|This|That|These|Those|There|Here|It|We|Our|You|Your|He|She|They"
    r"|Please|Thank|What|When|Where|Why|How|If)(?![a-z]))"
)
# Letters in code, URLs and addresses are never split.
_CODE_NEIGHBOUR = re.compile(r"[_@#/\\=<>{}()\[\]`$%0-9]|\.[A-Za-z]")
_NON_SPACE_BEFORE = re.compile(r"\S*$")
_NON_SPACE_AFTER = re.compile(r"\S*")
_ADDRESS = re.compile(r"://|@|\bwww\.")
_BACKTICK = re.compile("`")

# Titles and initials that a period does not end: single letters ("U.K.", "e.g.", "J. Smith")
# and short vowel-less words ("Dr", "Mrs", "St", "vs", "Ltd"). All-caps acronyms ("NHS") can
# end a sentence, so only lower or title case counts.
_ABBREVIATION = re.compile(
    r"(?:^|[\s(\[\"'])(?:(?:[A-Za-z]\.)*[A-Za-z]|[A-Z]?[b-df-hj-np-tv-xz]{1,4})$"
)
# "Fig. 3", "No. 5", "p. 12": a short capitalised word before a number.
_NUMBER_LABEL = re.compile(r"(?:^|\s)[A-Za-z][a-z]{0,3}$")
_TERMINAL = re.compile(rf"[.!?…][{_CLOSERS}]*$")
_LINE_END_MARK = re.compile(rf"[.!?…:;][{_CLOSERS}]*\s*$")

# --- lines and blocks ---------------------------------------------------------------------

_LINE = re.compile(r"[^\n]*\n?")
# Markdown headings, list bullets, numbered items and quotes: markup, not sentence text.
_LEADING_MARKUP = re.compile(r"[ \t]*(?:(?:#{1,6}|[-*+•]|\d{1,3}[.)]|>+)[ \t]+)*")
_FENCE = re.compile(r"[ \t]*(?:```|~~~)")
_NAV_SEPARATOR = re.compile(r"\s*[|•·»›]\s*|\s+/\s+|\t+")
_MAX_NAV_LINE_CHARS = 400
_MIN_NAV_ITEMS = 3
_MAX_NAV_ITEM_WORDS = 4
_MAX_NAV_ITEM_CHARS = 32
# Navigation boxes that extraction turned into table rows (_table_rows).
_TABLE_RULE = re.compile(r":?-{2,}:?|")
_MAX_LINK_WORDS = 6
_MAX_LINK_CHARS = 60
_FIGURE_OR_MARK = re.compile(r"[0-9.!?]")
_MIN_NAV_TABLE_GAPS = 0.2  # share of empty cells
_MIN_NAV_TABLE_WIDTH = 8  # fragments in one row, none empty: a menu laid out as a table

# Short calls to action and legal lines. Only sentences of at most this many words are tested,
# so an article sentence about cookies or newsletters survives.
_MAX_PROMPT_WORDS = 12
_PROMPT = re.compile(
    r"^(?:subscribe|sign (?:up|in|out)|log ?(?:in|out)|follow us|share (?:on|this)"
    r"|click here|read more|skip to|accept all|download (?:our|the) app|advertisement"
    r"|continue reading|back to top)\b"
    r"|\b(?:all rights reserved|privacy (?:policy|notice)"
    r"|terms (?:of|and) (?:use|service|conditions)"
    r"|cookie (?:policy|settings|preferences|consent|notice)"
    r"|(?:use|uses|accept|allow|reject|manage) (?:all )?cookies"
    r"|our newsletter|sign up for|subscribe to|skip to (?:main )?content)\b"
    r"|©|\(c\) \d{4}",
    re.IGNORECASE,
)
_HAS_WORD = re.compile(r"\w")


def split_sentences(raw: str) -> list[Sentence]:
    """Sentences of `raw` in document order, with web boilerplate removed."""
    sentences: list[Sentence] = []
    blocks = list(_blocks(raw))
    tables = _table_rows(raw, blocks)
    for number, (start, end, is_code) in enumerate(blocks):
        if is_code:
            # One sentence per line, no glue splitting, nothing dropped as chrome.
            start, end = _trim(raw, start, end)
            text = normalise(raw[start:end])
            if text:
                sentences.append(Sentence(text, start, end))
            continue
        is_chrome = tables.get(number)
        if is_chrome is None:  # not a table row
            is_chrome = _is_navigation(raw[start:end])
        if not is_chrome:
            sentences.extend(_block_sentences(raw, start, end))
    return sentences


def _blocks(raw: str):
    """(start, end, is_code) of each non-blank line. A line is joined to the one before when
    it continues the same sentence (hard-wrapped prose: no terminal mark before, lower case
    after). A blank line ends a block, unless the blank lines hold a page break (a line of
    only a form feed, as PDF pages are joined): a sentence runs on over the page break.
    Lines inside ``` fences come out one by one as code; the fences themselves not."""
    block_start = block_end = -1
    in_fence = False
    blank_gap = page_break = False  # blank lines seen since the open block's last line
    for match in _LINE.finditer(raw):
        line_start, line_end = match.span()
        if line_start == line_end:
            break
        line = raw[line_start:line_end].rstrip("\r\n")
        stripped = line.strip()
        if block_start >= 0 and not stripped:
            blank_gap = True
            page_break = page_break or "\f" in line
            continue  # whether the block ends is decided at the next line with text
        content_end = line_start + len(line)
        continues = (
            block_start >= 0
            and (page_break or not blank_gap)
            and stripped[:1].islower()
            and not _LINE_END_MARK.search(raw, max(block_start, block_end - 16), block_end)
        )
        blank_gap = page_break = False
        if block_start >= 0 and not continues:
            yield block_start, block_end, False
            block_start = -1
        if _FENCE.match(line):
            in_fence = not in_fence
        elif in_fence:
            if stripped:
                yield line_start, content_end, True
        elif continues:
            block_end = content_end
        elif stripped:
            block_start, block_end = line_start, content_end
    if block_start >= 0:
        yield block_start, block_end, False


def _is_navigation(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) > _MAX_NAV_LINE_CHARS or not _NAV_SEPARATOR.search(stripped):
        return False
    if stripped.startswith("|") and stripped.endswith("|"):
        return False  # a Markdown table row
    items = [item for item in _NAV_SEPARATOR.split(stripped) if item.strip()]
    if len(items) < _MIN_NAV_ITEMS:
        return False
    return all(
        len(item) <= _MAX_NAV_ITEM_CHARS and len(item.split()) <= _MAX_NAV_ITEM_WORDS
        for item in items
    )


def _table_rows(raw: str, blocks: list[tuple[int, int, bool]]) -> dict[int, bool]:
    """For the blocks that are rows of `|`-separated cells, whether they are chrome: True for
    a navigation box or a menu, whose cells are all short fragments without figures or marks;
    False for the rows of any other table; no verdict for other lines of `|` (_is_navigation).

    Extraction keeps a navigation box's headings but loses its links, leaving rows like
    "| Machine-learning venues | |"; a data table has figures, or is filled, or has prose in
    its cells. A table row of many such fragments, or a line of them without the table's
    outer `|`, is a menu.
    """
    verdicts: dict[int, bool] = {}
    table: list[int] = []  # the blocks of the table being read
    for number, (start, end, is_code) in [*enumerate(blocks), (len(blocks), (0, 0, True))]:
        lines = [] if is_code else raw[start:end].strip().splitlines()
        is_row = bool(lines) and all(line.count("|") >= 2 for line in lines)
        # The |---| rule under a header row starts a new table, even right after another.
        if is_row and len(table) > 1 and all(_is_rule(line) for line in lines):
            table, header = table[:-1], table[-1:]
        else:
            header = []
        if not is_row or header:
            rows = [line for n in table for line in raw[slice(*blocks[n][:2])].split("\n")]
            if table and _is_navigation_table(rows):
                verdicts.update(dict.fromkeys(table, True))
            elif table and _is_framed(rows):
                # A real table: its rows are kept, even those _is_navigation would take
                # for a menu (a Markdown table without outer `|`).
                verdicts.update(dict.fromkeys(table, False))
            table = header
        if is_row:
            table.append(number)
    return verdicts


def _is_rule(line: str) -> bool:
    return all(_TABLE_RULE.fullmatch(cell) for cell in _row_cells(line))


def _row_cells(line: str) -> list[str]:
    line = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in line.split("|")]


def _is_framed(rows: list[str]) -> bool:
    """True for a table: rows with their outer `|` or, in Markdown without them, a |---| rule."""
    return any(row.strip().startswith("|") or _is_rule(row) for row in rows if row.strip())


def _is_navigation_table(rows: list[str]) -> bool:
    cells, widest = [], 0
    for row in (row.strip() for row in rows):
        if not row or _is_rule(row):
            continue
        cells.extend(_row_cells(row))
        widest = max(widest, sum(1 for cell in _row_cells(row) if cell))
    filled = [cell for cell in cells if cell]
    if not filled or not all(_is_link_text(cell) for cell in filled):
        return False
    if not _is_framed(rows):
        return widest >= _MIN_NAV_ITEMS  # "Home | News | Places to visit": a menu, not a table
    gaps = len(cells) - len(filled)
    return gaps >= _MIN_NAV_TABLE_GAPS * len(cells) or widest >= _MIN_NAV_TABLE_WIDTH


def _is_link_text(cell: str) -> bool:
    return (
        len(cell) <= _MAX_LINK_CHARS
        and len(cell.split()) <= _MAX_LINK_WORDS
        and not _FIGURE_OR_MARK.search(cell)
    )


def _block_sentences(raw: str, start: int, end: int) -> list[Sentence]:
    block = raw[start:end]
    markup = _LEADING_MARKUP.match(block)
    offset = markup.end() if markup else 0
    # Each cut is (end of one sentence, start of the next, glue): glue is "" for a spaced cut.
    cuts = sorted(_spaced_cuts(block) + _glued_cuts(block))
    pieces: list[tuple[int, int, str, str]] = []  # (start, end, glue_left, glue_right)
    glued_left = ""
    for cut_end, cut_start, glued in cuts:
        if cut_end <= offset:
            continue
        pieces.append((offset, cut_end, glued_left, glued))
        offset, glued_left = cut_start, glued
    pieces.append((offset, len(block), glued_left, ""))

    sentences = []
    for piece_start, piece_end, left, right in pieces:
        piece_start, piece_end = _trim(raw, start + piece_start, start + piece_end)
        text = normalise(raw[piece_start:piece_end])
        if text and not _is_boilerplate(text, left, right):
            sentences.append(Sentence(text, piece_start, piece_end))
    return sentences


def _spaced_cuts(block: str) -> list[tuple[int, int, str]]:
    cuts = []
    for match in _SPACED_END.finditer(block):
        next_start = match.end()
        if match.group().startswith(".") and _period_continues(block, match.start(), next_start):
            continue
        cuts.append((match.end(1), next_start, ""))
    return cuts


def _period_continues(block: str, period: int, next_start: int) -> bool:
    """True when a period followed by a space does not end the sentence."""
    following = block[next_start]
    if following.islower():
        return True
    before = block[max(0, period - 12) : period]
    if _ABBREVIATION.search(before):
        return True
    return following.isdigit() and bool(_NUMBER_LABEL.search(before))


def _glued_cuts(block: str) -> list[tuple[int, int, str]]:
    cuts = [(m.end(), m.end(), PUNCT_GLUE) for m in _GLUED_END.finditer(block)]
    token_end = 0
    backticks = [m.start() for m in _BACKTICK.finditer(block)] if "`" in block else []
    for hit in _CAMEL_HIT.finditer(block):
        if hit.start() < token_end:
            continue  # inside the token handled already
        token_start = _LETTERS_BEFORE.search(block, max(0, hit.start() - 64), hit.start()).start()
        token_end = _LETTERS_AFTER.match(block, hit.end()).end()
        if _CODE_NEIGHBOUR.match(block, token_end) or (
            token_start > 0 and _CODE_NEIGHBOUR.match(block, token_start - 1)
        ):
            continue
        if _in_code_or_address(block, token_start, token_end, backticks):
            continue
        is_long = token_end - token_start > _LONGEST_CAMEL_WORD
        joins = _CAMEL_JOIN if is_long else _SENTENCE_OPENER_JOIN
        for join in joins.finditer(block, token_start, token_end):
            cuts.append((join.start(), join.start(), WORD_GLUE))
    return cuts


def _in_code_or_address(block: str, start: int, end: int, backticks: list[int]) -> bool:
    if bisect_left(backticks, start) % 2:
        return True  # after an odd number of backticks: inside an inline `code` span
    word_start = _NON_SPACE_BEFORE.search(block, max(0, start - 256), start).start()
    word_end = _NON_SPACE_AFTER.match(block, end).end()
    return bool(_ADDRESS.search(block, word_start, word_end))


def _trim(raw: str, start: int, end: int) -> tuple[int, int]:
    """Shrink (start, end) past surrounding whitespace and invisible characters."""
    while start < end and (raw[start].isspace() or _INVISIBLE.match(raw, start)):
        start += 1
    while end > start and (raw[end - 1].isspace() or _INVISIBLE.match(raw, end - 1)):
        end -= 1
    return start, end


def _is_boilerplate(text: str, glue_left: str, glue_right: str) -> bool:
    if not _HAS_WORD.search(text):
        return True  # rules, separators, stray punctuation
    if glue_left and glue_right and WORD_GLUE in (glue_left, glue_right):
        # Squeezed between two page elements: chrome even with a period. Glued to a word on
        # neither side ("end.One-sentence paragraph.Next") it may be a paragraph whose
        # spacing was lost, so it is kept.
        return True
    if (glue_left or glue_right) and not _TERMINAL.search(text):
        return True  # a glued fragment without an ending: a menu item, button or prompt
    return len(text.split()) <= _MAX_PROMPT_WORDS and bool(_PROMPT.search(text))
