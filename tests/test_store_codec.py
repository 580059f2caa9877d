"""The on-disk codec of a chunk: sentence vectors as int8 (one byte a dimension, cosines
within 0.01), a vector shared with the chunk before borrowed from it, spans as small deltas."""

from __future__ import annotations

import json

import numpy as np
import pytest

from askseed.store.chunk_codec import (
    Heading,
    decode_chunk,
    decode_sentence_vectors,
    decode_spans,
    encode_chunk,
    encode_sentence_vectors,
    encode_spans,
    from_varints,
    split_heading,
    to_varints,
)
from askseed.store.schema import ChunkRow, SentenceSpan


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(("count", "dim"), [(0, 384), (1, 384), (7, 384), (3, 64)])
def test_round_trip_keeps_cosines_and_takes_one_byte_a_dimension(count, dim):
    vectors = unit_rows(count, dim)
    blob = encode_sentence_vectors(vectors)
    assert len(blob) == count * dim
    decoded = decode_sentence_vectors(blob, count, dim)
    assert decoded.shape == (count, dim) and decoded.dtype == np.float32
    if count:
        queries = unit_rows(50, dim, seed=1)
        moved = np.abs(queries @ vectors.T - queries @ decoded.T)
        assert moved.max() < 0.01 and moved.mean() < 0.002
        assert np.allclose(np.linalg.norm(decoded, axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("row", "stored"),
    [
        # The largest component becomes +-127 whatever the vector's length: only directions
        # are kept, and decoding renormalises.
        ([0.6, -0.8], [95, -127]),
        ([3.0, 4.0], [95, 127]),
        ([1.0, 0.0], [127, 0]),
        ([0.001, -0.5], [0, -127]),
    ],
)
def test_each_row_is_scaled_to_its_largest_component(row, stored):
    blob = encode_sentence_vectors(np.array([row], dtype=np.float32))
    assert np.frombuffer(blob, dtype=np.int8).tolist() == stored
    decoded = decode_sentence_vectors(blob, 1, 2)[0]
    assert np.allclose(decoded, np.array(stored) / np.linalg.norm(stored))


def test_a_zero_vector_stays_zero():
    decoded = decode_sentence_vectors(encode_sentence_vectors(np.zeros((1, 8))), 1, 8)
    assert not decoded.any() and not np.isnan(decoded).any()


@pytest.mark.parametrize("cut", [1, 4, 100])
def test_a_short_blob_is_refused(cut):
    blob = encode_sentence_vectors(unit_rows(2, 16))
    with pytest.raises(ValueError):
        decode_sentence_vectors(blob[:-cut], 2, 16)


def chunk(spans, vectors, start=100, start_line=7) -> ChunkRow:
    return ChunkRow(
        text="x" * 400,
        start=start,
        end=start + 400,
        start_line=start_line,
        end_line=start_line + 9,
        sentences=tuple(SentenceSpan(*span) for span in spans),
        sentence_vectors=vectors,
    )


@pytest.mark.parametrize(
    "spans",
    [
        [],
        [(0, 120, 100, 220, 7, 7)],
        # Joined with one space where the source had a blank line: offsets drift by one.
        [(0, 120, 100, 220, 7, 7), (121, 244, 222, 345, 9, 9), (245, 334, 346, 435, 9, 11)],
        # A sentence whose source was longer (spaces collapsed), and a PDF page turn that
        # restarts the line count.
        [(0, 50, 100, 160, 40, 41), (51, 90, 161, 200, 1, 2)],
        # Large offsets deep in a long file.
        [(0, 9, 9_000_000, 9_000_009, 123_456, 123_456)],
    ],
)
def test_spans_round_trip(spans):
    row = chunk(spans, unit_rows(len(spans), 8), start=spans[0][2] if spans else 100)
    encoded = encode_spans(row)
    assert decode_spans(encoded, row.start, row.start_line) == row.sentences
    assert len(encoded) <= 13 * len(spans)
    # Version 5 stored the same six numbers a sentence as JSON.
    as_json = json.dumps(from_varints(encoded))
    assert decode_spans(as_json, row.start, row.start_line) == row.sentences


@pytest.mark.parametrize(
    ("values", "encoded"),
    [
        ([0], b"\x00"),
        ([-1, 1, -2, 2], b"\x01\x02\x03\x04"),
        ([63, -64, 64], b"\x7e\x7f\x80\x01"),
        ([9_000_000], b"\x80\xd1\xca\x08"),
    ],
)
def test_span_numbers_are_zigzag_varints(values, encoded):
    assert to_varints(values) == encoded
    assert from_varints(encoded) == values


@pytest.mark.parametrize(
    "value",
    ["[1,2,3]", '{"a": 1}', "[[0,1,2,3,4,5]]", "not json", b"\x00\x00\x00", b"\x00" * 5 + b"\x80"],
)
def test_damaged_spans_are_refused(value):
    with pytest.raises((ValueError, TypeError)):
        decode_spans(value, 0, 1)


SPANS = [(0, 10, 0, 10, 1, 1), (11, 20, 11, 20, 1, 1), (21, 30, 21, 30, 2, 2)]


@pytest.mark.parametrize(
    ("first_vector", "count", "borrows"),
    [
        ("shared", 3, True),  # embedded alone: the shared sentence's vector is the same
        ("pooled", 3, False),  # pooled in its own chunk: a vector of its own
        ("shared", 1, False),  # a one-sentence chunk keeps its vector: the next may borrow it
    ],
)
def test_a_chunk_borrows_the_shared_sentence_vector_only_when_equal(first_vector, count, borrows):
    previous = chunk(SPANS, unit_rows(3, 384, seed=1))
    vectors = unit_rows(count, 384, seed=2)
    if first_vector == "shared":
        vectors[0] = previous.sentence_vectors[-1]
    row = chunk(SPANS[:count], vectors)
    *_, blob, borrowed = encode_chunk(row, previous)
    assert borrowed is borrows
    assert len(blob) == 384 * (count - borrows)
    stored = {
        "sentences": encode_spans(row),
        "sentence_vectors": blob,
        "borrows_first": borrowed,
        "borrowed": encode_chunk(previous)[-2] if borrowed else None,
        "text": row.text,
        "start": row.start,
        "end": row.end,
        "start_line": row.start_line,
        "end_line": row.end_line,
        "id": 2,
        "path": "a.txt",
        "page_starts": None,
    }
    decoded = decode_chunk(stored, 384)
    assert decoded.sentences == row.sentences
    assert np.abs(decoded.sentence_vectors - vectors).max() < 0.01


def test_a_borrowed_vector_that_is_missing_is_damage():
    previous = chunk(SPANS, unit_rows(3, 384, seed=1))
    vectors = unit_rows(3, 384, seed=2)
    vectors[0] = previous.sentence_vectors[-1]
    row = chunk(SPANS, vectors)
    *_, blob, borrowed = encode_chunk(row, previous)
    stored = {"sentences": encode_spans(row), "sentence_vectors": blob, "borrows_first": borrowed}
    stored |= {"borrowed": None, "id": 2, "start": row.start, "start_line": row.start_line}
    with pytest.raises(ValueError, match="missing chunk"):
        decode_chunk(stored, 384)


def texts(*values: str) -> list[ChunkRow]:
    return [ChunkRow(value, 0, len(value), 1, 1, (), np.zeros((0, 4))) for value in values]


@pytest.mark.parametrize(
    ("chunks", "searched", "expected"),
    [
        # No heading: every chunk searched as it is.
        (["Alpha. Beta.", "Beta. Gamma."], ["Alpha. Beta.", "Beta. Gamma."], (None, None, ())),
        # The heading begins the first chunk: kept as its length there.
        (["Title. Beta.", "Gamma."], ["Title. Beta.", "Title.\nGamma."], (6, None, (1,))),
        (
            ["Tête. Beta.", "Gamma.", "Delta."],
            ["Tête. Beta.", "Tête.\nGamma.", "Tête.\nDelta."],
            (5, None, (1, 2)),
        ),
        # A heading the first chunk does not begin with: a copy.
        (["Beta.", "Gamma."], ["Beta.", "Title.\nGamma."], (None, "Title.", (1,))),
    ],
)
def test_a_files_heading_is_kept_once(chunks, searched, expected):
    assert split_heading(texts(*chunks), searched) == Heading(*expected)


@pytest.mark.parametrize(
    ("chunks", "searched"),
    [
        (["A.", "B."], ["A.", "B. C."]),  # neither the chunk's text nor it after a heading
        (["A.", "B.", "C."], ["A.", "X.\nB.", "Y.\nC."]),  # two headings in one file
    ],
)
def test_search_texts_not_made_of_chunk_and_heading_are_refused(chunks, searched):
    with pytest.raises(ValueError):
        split_heading(texts(*chunks), searched)
