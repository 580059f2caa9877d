"""Packing sentences into chunks, with a whitespace token counter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askseed.ingest.chunk import Chunk, make_chunks
from askseed.ingest.sentences import Sentence, normalise, split_sentences

FIXTURES = Path(__file__).parent / "fixtures" / "text"
SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f4df355921fbd67a.txt"


def count_words(text: str) -> int:
    return len(text.split())


def sentences_of(raw: str) -> list[Sentence]:
    """One sentence per line: keeps these tests independent of the splitter's rules."""
    result, offset = [], 0
    for line in raw.split("\n"):
        if line.strip():
            start = offset + len(line) - len(line.lstrip())
            end = offset + len(line.rstrip())
            result.append(Sentence(normalise(line), start, end))
        offset += len(line) + 1
    return result


def assert_consistent(chunk: Chunk, raw: str) -> None:
    assert chunk.start == chunk.sentence_spans[0][0]
    assert chunk.end == chunk.sentence_spans[-1][1]
    for (start, end), (raw_start, raw_end) in zip(
        chunk.sentences, chunk.sentence_spans, strict=True
    ):
        assert chunk.text[start:end] == normalise(raw[raw_start:raw_end])
    assert " ".join(chunk.text[start:end] for start, end in chunk.sentences) == chunk.text


def words(count: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(count))


@pytest.mark.parametrize(
    ("lines", "max_tokens", "overlap", "expected"),
    [
        # Everything fits in one chunk.
        (["a b", "c d", "e f"], 10, 1, [["a b", "c d", "e f"]]),
        # Greedy packing without overlap.
        (["a b", "c d", "e f"], 4, 0, [["a b", "c d"], ["e f"]]),
        # Each chunk starts with the previous chunk's last sentence.
        (["a b", "c d", "e f", "g h"], 4, 1, [["a b", "c d"], ["c d", "e f"], ["e f", "g h"]]),
        # Overlap of two sentences.
        (["a", "b", "c", "d", "e"], 3, 2, [["a", "b", "c"], ["b", "c", "d"], ["c", "d", "e"]]),
        # Overlap is dropped when it leaves no room for the next sentence.
        (["a b", "c d e f"], 4, 1, [["a b"], ["c d e f"]]),
        # Sentences exactly at the limit, one per chunk.
        (["a b c", "d e f"], 3, 1, [["a b c"], ["d e f"]]),
        # No trailing chunk made of overlap only.
        (["a b", "c d"], 4, 1, [["a b", "c d"]]),
        ([], 4, 1, []),
    ],
)
def test_packing_and_overlap(
    lines: list[str], max_tokens: int, overlap: int, expected: list[list[str]]
) -> None:
    raw = "\n".join(lines)
    chunks = make_chunks(
        sentences_of(raw), raw, count_words, max_tokens=max_tokens, overlap=overlap
    )
    assert [[chunk.text[s:e] for s, e in chunk.sentences] for chunk in chunks] == expected
    for chunk in chunks:
        assert count_words(chunk.text) <= max_tokens
        assert_consistent(chunk, raw)


@pytest.mark.parametrize(
    ("word_count", "max_tokens", "piece_sizes"),
    [
        (10, 4, [4, 4, 2]),
        (8, 4, [4, 4]),
        (5, 5, [5]),
        (7, 1, [1] * 7),
    ],
)
def test_long_sentence_is_split_at_words(
    word_count: int, max_tokens: int, piece_sizes: list[int]
) -> None:
    raw = "Intro.\n" + words(word_count) + "."
    sentences = sentences_of(raw)
    chunks = make_chunks(sentences[1:], raw, count_words, max_tokens=max_tokens, overlap=0)
    assert [count_words(chunk.text) for chunk in chunks] == piece_sizes
    assert " ".join(chunk.text for chunk in chunks) == sentences[1].text
    for chunk in chunks:
        assert_consistent(chunk, raw)


def test_split_pieces_are_packed_like_sentences() -> None:
    raw = "a b\n" + words(7) + "\nc d"
    chunks = make_chunks(sentences_of(raw), raw, count_words, max_tokens=4, overlap=1)
    texts = [chunk.text for chunk in chunks]
    assert texts == ["a b", "w0 w1 w2 w3", "w4 w5 w6", "c d"]
    for chunk in chunks:
        assert_consistent(chunk, raw)


def test_a_single_enormous_word_is_cut_by_characters() -> None:
    raw = "x" * 50

    def count_tens(text: str) -> int:  # one token per 10 characters, rounded up
        return -(-len(text) // 10)

    chunks = make_chunks(sentences_of(raw), raw, count_tens, max_tokens=2, hard_limit=2)
    assert [chunk.text for chunk in chunks] == ["x" * 20, "x" * 20, "x" * 10]
    assert [(chunk.start, chunk.end) for chunk in chunks] == [(0, 20), (20, 40), (40, 50)]


def test_hard_limit_holds_for_a_superadditive_counter() -> None:
    # Counts one extra token per space: joined text costs more than its parts.
    def count_with_joins(text: str) -> int:
        return len(text.split()) + text.count(" ")

    raw = "\n".join(["a", "b", "c", "d", "e", "f"])
    chunks = make_chunks(
        sentences_of(raw), raw, count_with_joins, max_tokens=6, overlap=0, hard_limit=6
    )
    assert all(count_with_joins(chunk.text) <= 6 for chunk in chunks)
    assert " ".join(chunk.text for chunk in chunks) == "a b c d e f"


@pytest.mark.parametrize(
    ("raw", "lines"),
    [
        ("one.\ntwo.\nthree.", [(1, 1), (2, 2), (3, 3)]),
        ("\n\n  one.\n\ntwo.", [(3, 3), (5, 5)]),
        ("one.\r\ntwo.", [(1, 1), (2, 2)]),
    ],
)
def test_line_numbers(raw: str, lines: list[tuple[int, int]]) -> None:
    chunks = make_chunks(sentences_of(raw), raw, count_words, max_tokens=1, overlap=0)
    assert [(chunk.start_line, chunk.end_line) for chunk in chunks] == lines


def test_multi_line_chunk_and_wrapped_sentence_lines() -> None:
    raw = "Title\nA wrapped sentence\ncontinues here. Next one.\n\nLast."
    chunks = make_chunks(split_sentences(raw), raw, count_words, max_tokens=100)
    assert len(chunks) == 1
    chunk = chunks[0]
    assert (chunk.start_line, chunk.end_line) == (1, 5)
    assert chunk.text == "Title A wrapped sentence continues here. Next one. Last."
    assert_consistent(chunk, raw)


def test_seed_chunks_are_consistent() -> None:
    raw = SEED.read_text(encoding="utf-8")
    chunks = make_chunks(split_sentences(raw), raw, count_words, max_tokens=60, hard_limit=60)
    assert len(chunks) > 1
    for chunk in chunks:
        assert count_words(chunk.text) <= 60
        assert_consistent(chunk, raw)
        assert raw.count("\n", 0, chunk.start) + 1 == chunk.start_line


@pytest.mark.parametrize(
    ("max_tokens", "overlap", "hard_limit"), [(0, 1, 10), (10, -1, 10), (20, 1, 10)]
)
def test_bad_sizes_are_rejected(max_tokens: int, overlap: int, hard_limit: int) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        make_chunks(
            [], "", count_words, max_tokens=max_tokens, overlap=overlap, hard_limit=hard_limit
        )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=12), max_size=30),
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=3),
)
def test_any_packing_covers_every_sentence_within_the_limit(
    lengths: list[int], max_tokens: int, overlap: int
) -> None:
    raw = "\n".join(words(length, prefix=f"s{index}_") for index, length in enumerate(lengths))
    chunks = make_chunks(
        sentences_of(raw), raw, count_words, max_tokens=max_tokens, overlap=overlap
    )
    covered = []
    for chunk in chunks:
        assert count_words(chunk.text) <= max_tokens
        assert_consistent(chunk, raw)
        covered.extend(word for word in chunk.text.split() if word not in covered)
    assert covered == raw.split()
