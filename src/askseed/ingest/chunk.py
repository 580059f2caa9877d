"""Pack sentences into overlapping chunks sized for the embedding model.

A chunk is a run of whole sentences, so a quoted answer never starts mid-sentence. Each
chunk begins with the last sentence(s) of the one before: an answer spanning a chunk
boundary is then still found whole in one of them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from askseed.ingest.sentences import Sentence, normalise


@dataclass(frozen=True)
class Chunk:
    text: str  # sentence texts joined with single spaces
    start: int  # raw offset of the first sentence's start
    end: int  # raw offset of the last sentence's end
    start_line: int  # line of `start` (line_finder: counted from its page, for a PDF)
    end_line: int  # line of the last character
    sentences: tuple[tuple[int, int], ...]  # each sentence's (start, end) inside `text`
    sentence_spans: tuple[tuple[int, int], ...]  # each sentence's (start, end) in raw


class _Unit(NamedTuple):
    """A sentence, or a piece of one too long for a chunk."""

    text: str
    start: int
    end: int
    tokens: int


_WORD = re.compile(r"\S+")


def make_chunks(
    sentences: list[Sentence],
    raw: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 128,
    overlap: int = 1,
    hard_limit: int = 256,
    line_of: Callable[[int], int] | None = None,
) -> list[Chunk]:
    """Greedy packing of whole sentences up to `max_tokens`, each chunk repeating the last
    `overlap` sentences of the one before. No chunk exceeds `hard_limit` tokens.

    `line_of` maps a raw offset to the line shown to users (default: line_finder(raw)).
    """
    if max_tokens < 1 or overlap < 0 or hard_limit < max_tokens:
        raise ValueError(
            f"chunk sizes must satisfy 1 <= max_tokens <= hard_limit and overlap >= 0, got "
            f"max_tokens={max_tokens}, hard_limit={hard_limit}, overlap={overlap}"
        )
    units: list[_Unit] = []
    for sentence in sentences:
        tokens = count_tokens(sentence.text)
        if tokens <= max_tokens:
            units.append(_Unit(sentence.text, sentence.start, sentence.end, tokens))
        else:
            units.extend(_split_long(raw, sentence.start, sentence.end, count_tokens, max_tokens))

    line_of = line_of or line_finder(raw)
    chunks: list[Chunk] = []

    def emit(group: list[_Unit]) -> None:
        chunk = _build(group, line_of)
        if len(group) > 1 and count_tokens(chunk.text) > hard_limit:
            # Only reachable with a counter where joined text costs more than its parts.
            middle = len(group) // 2
            emit(group[:middle])
            emit(group[middle:])
        else:
            chunks.append(chunk)

    current: list[_Unit] = []
    current_tokens = 0
    for unit in units:
        if current and current_tokens + unit.tokens > max_tokens:
            emit(current)
            # Carry the overlap, shortened if it would leave no room for the next unit. The
            # unit is appended below, so a chunk is never made of overlap alone.
            current = current[-overlap:] if overlap else []
            current_tokens = sum(kept.tokens for kept in current)
            while current and current_tokens + unit.tokens > max_tokens:
                current_tokens -= current.pop(0).tokens
        current.append(unit)
        current_tokens += unit.tokens
    if current:
        emit(current)
    return chunks


def line_finder(text: str, page_starts: tuple[int, ...] | None = None) -> Callable[[int], int]:
    """Offset in `text` -> 1-based line; for a PDF, counted from the top of its page."""
    line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
    if not page_starts:
        return lambda offset: bisect_right(line_starts, offset)
    first_lines = [bisect_right(line_starts, start) for start in page_starts]

    def line_in_page(offset: int) -> int:
        page = max(bisect_right(page_starts, offset) - 1, 0)
        return bisect_right(line_starts, offset) - first_lines[page] + 1

    return line_in_page


def _build(group: list[_Unit], line_of: Callable[[int], int]) -> Chunk:
    offsets = []
    position = 0
    for unit in group:
        offsets.append((position, position + len(unit.text)))
        position += len(unit.text) + 1
    start, end = group[0].start, group[-1].end
    return Chunk(
        text=" ".join(unit.text for unit in group),
        start=start,
        end=end,
        start_line=line_of(start),
        end_line=line_of(max(start, end - 1)),
        sentences=tuple(offsets),
        sentence_spans=tuple((unit.start, unit.end) for unit in group),
    )


def _split_long(
    raw: str, start: int, end: int, count_tokens: Callable[[str], int], max_tokens: int
) -> list[_Unit]:
    """Cut raw[start:end] at word boundaries into pieces of at most max_tokens; a single word
    longer than that (a URL, an encoded blob) is cut between characters."""
    words = [m.span() for m in _WORD.finditer(raw, start, end)]
    pieces: list[_Unit] = []
    first = 0
    while first < len(words):
        piece_start = words[first][0]

        def words_fit(count: int, first: int = first, piece_start: int = piece_start) -> _Unit:
            piece_end = words[first + count - 1][1]
            text = normalise(raw[piece_start:piece_end])
            return _Unit(text, piece_start, piece_end, count_tokens(text))

        taken, unit = _largest_fit(len(words) - first, words_fit, max_tokens)
        if taken:
            if unit.text:
                pieces.append(unit)
            first += taken
            continue
        # The next word alone is too long: cut it by characters.
        word_start, word_end = words[first]
        while word_start < word_end:

            def chars_fit(count: int, word_start: int = word_start) -> _Unit:
                text = normalise(raw[word_start : word_start + count])
                return _Unit(text, word_start, word_start + count, count_tokens(text))

            taken, unit = _largest_fit(word_end - word_start, chars_fit, max_tokens)
            if not taken:  # not even one character fits: take it anyway rather than loop
                taken, unit = 1, chars_fit(1)
            if unit.text:
                pieces.append(unit)
            word_start += taken
        first += 1
    return pieces


def _largest_fit(
    available: int, measure: Callable[[int], _Unit], max_tokens: int
) -> tuple[int, _Unit | None]:
    """The largest n <= available whose measure(n) fits max_tokens, with that measure;
    (0, None) when even n=1 does not fit. Gallops then bisects: O(log n) token counts."""
    best, best_unit = 0, None
    low, high = 1, 1
    while high <= available:
        unit = measure(high)
        if unit.tokens > max_tokens:
            break
        best, best_unit = high, unit
        low, high = high + 1, high * 2
    high = min(high - 1, available)
    while low <= high:
        middle = (low + high) // 2
        unit = measure(middle)
        if unit.tokens <= max_tokens:
            best, best_unit, low = middle, unit, middle + 1
        else:
            high = middle - 1
    return best, best_unit
