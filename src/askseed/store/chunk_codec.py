"""How a chunk is laid out in its `chunks` row, and read back: the sentence spans as small
deltas in varints, the sentence vectors as int8 (direction only), and a vector shared with the
chunk before stored once (schema.py's versions 5 and 6). The writer encodes, the reader decodes;
schema.py holds the tables and the rows both sides share.
"""

from __future__ import annotations

import json
import sqlite3
from typing import NamedTuple

import numpy as np

from askseed.store.schema import ChunkRow, SentenceSpan, StoredChunk, decode_pages

# The `chunks` columns a ChunkRow fills, after file_id.
CHUNK_COLUMNS = (
    "text",
    "start",
    '"end"',
    "start_line",
    "end_line",
    "sentences",
    "sentence_vectors",
    "borrows_first",
)


def encode_chunk(row: ChunkRow, previous: ChunkRow | None = None) -> tuple:
    """The `chunks` columns after file_id, in CHUNK_COLUMNS order.

    `previous` is the chunk stored just before this one (row id - 1) in the same file.
    Neighbouring chunks share a sentence (chunk_overlap), and when it was embedded alone its
    vector is the same in both: the row then leaves out its first vector and `borrows_first`
    the previous row's last (a quarter of SciFact's sentence vectors; BENCHMARKS.md, "Bytes
    per chunk, third pass"). Vectors pooled in each chunk's context differ, and are kept."""
    spans = encode_spans(row)
    blob = encode_sentence_vectors(row.sentence_vectors)
    borrows = False
    if previous is not None and len(row.sentences) > 1:
        width = len(blob) // len(row.sentences)
        shared = encode_sentence_vectors(previous.sentence_vectors)[-width:]
        borrows = blob[:width] == shared
    if borrows:
        blob = blob[width:]
    return (row.text, row.start, row.end, row.start_line, row.end_line, spans, blob, borrows)


def chunk_query(count: int) -> str:
    """SELECT the `count` chunks whose ids are bound, with what decode_chunk needs: their
    file's path and pages, and the vector a row borrows from the row before it."""
    columns = ", ".join(f"c.{column}" for column in CHUNK_COLUMNS)
    return (
        f"SELECT c.id, f.path, f.page_starts, {columns}, "
        "CASE WHEN c.borrows_first THEN (SELECT p.sentence_vectors FROM chunks p "
        "WHERE p.id = c.id - 1 AND p.file_id = c.file_id) END AS borrowed "
        f"FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({','.join('?' * count)})"
    )


def encode_spans(row: ChunkRow) -> bytes:
    """The sentences' spans as six small numbers each, relative to the sentence before (or to
    the chunk): the gap to its start and its length in the chunk, how far its source offsets
    drift from the chunk's and its length there differs, its first line and how many more it
    runs on. Stored as zigzag varints, mostly one byte a number: about 8 bytes a sentence
    (version 5 wrote the same numbers as a JSON list, about 16; decode_spans reads both)."""
    values: list[int] = []
    end, line = 0, row.start_line
    for span in row.sentences:
        length = span.end - span.start
        values += (span.start - end, length, span.raw_start - row.start - span.start)
        values += (span.raw_end - span.raw_start - length, span.line - line)
        values.append(span.end_line - span.line)
        end, line = span.end, span.line
    return to_varints(values)


def decode_spans(value: bytes | str, start: int, start_line: int) -> tuple[SentenceSpan, ...]:
    """The spans encode_spans wrote for a chunk starting at `start`, on `start_line`; a str is
    a row written by version 5, as JSON.

    Raises ValueError or TypeError for a damaged value."""
    values = json.loads(value) if isinstance(value, str) else from_varints(value)
    if not isinstance(values, list) or len(values) % 6:
        raise ValueError(f"sentence spans hold {len(values)} numbers, not six a sentence")
    spans = []
    end, line = 0, start_line
    for at in range(0, len(values), 6):
        gap, length, drift, raw_extra, line_step, lines = values[at : at + 6]
        first = end + gap
        raw_start = start + first + drift
        line += line_step
        spans.append(
            SentenceSpan(
                first, first + length, raw_start, raw_start + length + raw_extra, line, line + lines
            )
        )
        end = first + length
    return tuple(spans)


def to_varints(values: list[int]) -> bytes:
    """Each value zigzag-mapped (0, -1, 1, -2 ... to 0, 1, 2, 3 ...) and written 7 bits a
    byte, low bits first, the high bit set on every byte but a number's last."""
    out = bytearray()
    for value in values:
        number = value << 1 if value >= 0 else (-value << 1) - 1
        while number > 0x7F:
            out.append(number & 0x7F | 0x80)
            number >>= 7
        out.append(number)
    return bytes(out)


def from_varints(data: bytes) -> list[int]:
    values, number, shift = [], 0, 0
    for byte in data:
        number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(number >> 1 if not number & 1 else -((number + 1) >> 1))
            number, shift = 0, 0
    if shift:
        raise ValueError("sentence spans end inside a number")
    return values


class Heading(NamedTuple):
    """What a file's searched texts add before their chunks (indexer._search_text): its
    heading, and the positions of the chunks searched after it. `chars` when the heading is
    the first characters of the file's first chunk, the one place it is then kept; else
    `text`, a copy (version 5 kept a copy of every heading)."""

    chars: int | None
    text: str | None
    headed: tuple[int, ...]


def split_heading(chunks: list[ChunkRow], searched: list[str]) -> Heading:
    """Raises ValueError when a searched text is not its chunk's text, alone or after one
    heading shared by the file's chunks."""
    headed, headings = [], set()
    for at, (chunk, text) in enumerate(zip(chunks, searched, strict=True)):
        if text == chunk.text:
            continue
        heading = text[: len(text) - len(chunk.text) - 1]
        if text != f"{heading}\n{chunk.text}":
            raise ValueError(f"search text of chunk {at} is not heading + chunk")
        headed.append(at)
        headings.add(heading)
    if len(headings) > 1:
        raise ValueError(f"a file's chunks are searched after {len(headings)} headings")
    if not headings:
        return Heading(None, None, ())
    (heading,) = headings
    if chunks[0].text.startswith(heading):
        return Heading(len(heading), None, tuple(headed))
    return Heading(None, heading, tuple(headed))


def encode_sentence_vectors(vectors: np.ndarray) -> bytes:
    """n x dim int8, each row scaled so that its largest component is 127: 384 bytes a
    sentence (float16 took 768).

    Only directions matter (every use is a cosine), so no scale is stored: decoding
    renormalises. Cosines move by 0.0003 on average and 0.0023 at most; the calibrated
    confidence and the decisions it makes were checked against float16 (BENCHMARKS.md,
    "Bytes per chunk, third pass")."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not vectors.size:
        return b""
    peaks = np.maximum(np.abs(vectors).max(axis=1, keepdims=True), 1e-12)
    return np.rint(vectors * (127.0 / peaks)).clip(-127, 127).astype(np.int8).tobytes()


def decode_sentence_vectors(blob: bytes, count: int, dim: int) -> np.ndarray:
    """The unit rows encode_sentence_vectors stored, as float32 (a zero row stays zero). A
    blob of the wrong size raises ValueError: a damaged row."""
    rows = np.frombuffer(blob, dtype=np.int8).reshape(count, dim).astype(np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def decode_chunk(row: sqlite3.Row, dim: int) -> StoredChunk:
    """A row of chunk_query.

    Raises ValueError or TypeError for a damaged row (bad spans, vectors of the wrong shape).
    """
    spans = decode_spans(row["sentences"], row["start"], row["start_line"])
    blob = row["sentence_vectors"]
    if row["borrows_first"]:
        borrowed = row["borrowed"]
        if borrowed is None or len(borrowed) < dim:
            raise ValueError(f"chunk {row['id']} borrows a vector from a missing chunk")
        blob = borrowed[-dim:] + blob
    vectors = decode_sentence_vectors(blob, len(spans), dim)
    return StoredChunk(
        text=row["text"],
        start=row["start"],
        end=row["end"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        sentences=spans,
        sentence_vectors=vectors,
        id=row["id"],
        source=row["path"],
        page_starts=decode_pages(row["page_starts"]),
    )
