"""What the reader and the writer agree on: the tables, the connection, the version, the rows.

Layout of the index directory:

    meta.sqlite            chunks, files and the manifest, in WAL mode
    vectors-<g>.<n>.faiss  the flat vector segments named by the table `vector_segments`
    vectors-<g>.<n>.ivf    their approximate companions, and the trained IVF template
    write.lock             held by the one process allowed to update the index

The SQLite commit is the single switch point. A writer first writes its new vector segments
(and merged ones) under new names, then commits the metadata that names them, then deletes
the files no longer named. A reader takes a SQLite snapshot and opens the segments that
snapshot names, so it sees the old index or the new one, never a mix; a writer killed at any
moment leaves the last committed one intact (segments.py). A long build commits in batches
(writer.checkpoint), each such commit a whole snapshot of the files it holds, so a killed
build keeps what it had committed.
The manifest lives in the same database for the same reason: it must change in that one commit.

Nothing here can run code: the files are FAISS's own format, SQLite and JSON (no pickle), and
SQLite is told not to trust functions named in the database's schema.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from askseed.errors import AskseedError, first_line, is_damage

# Bump when the tables or the way a row is encoded change; an index of another version is
# rebuilt by `askseed index`, and refused with the remedy by a question.
# 2: chunks are also indexed for keyword search (keyword.py), in the same transaction.
# 3: each chunk stores its sentences' vectors, so that a question embeds only itself.
# 4: 16 KB pages; chunk vectors as float16 in FAISS; the LSH band table is
#    clustered on its key instead of carrying a second index; FTS5 keeps no copy of the texts
#    but reads them from the chunk_search view (BENCHMARKS.md, "Bytes per chunk").
# 5: the vectors are append-only segments listed in `vector_segments`, with removed chunks
#    as `vector_tombstones` (store/segments.py), instead of one file named by the manifest.
#    Sentence vectors as int8, a vector shared with the chunk before stored once; spans as
#    deltas; dedup keys as 64-bit integers, 8-bit MinHash signatures, 32-bit band keys in 6
#    bands; files keep their id ranges instead of indexes on file_id; sha256 as bytes
#    (BENCHMARKS.md, "Bytes per chunk, third pass").
SCHEMA_VERSION = "5"
# Chunk rows (text, spans, sentence vectors) run to a few KB: with SQLite's default 4 KB pages
# most pages held one row and a quarter of the file was slack. Applies to new databases only.
PAGE_SIZE = 16384
DB_FILE = "meta.sqlite"
SEARCH_VIEW = "chunk_search"
LOCK_FILE = "write.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- A file's chunks take the ids first_chunk.. (chunks of them), its dedup keys the ids
-- first_key..last_key: removing it deletes those ranges, with no index on file_id.
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 BLOB NOT NULL, chunks INTEGER NOT NULL,
    page_starts TEXT, warnings TEXT, heading TEXT, first_chunk INTEGER, first_key INTEGER,
    last_key INTEGER);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, sentences TEXT NOT NULL, sentence_vectors BLOB NOT NULL,
    borrows_first INTEGER NOT NULL DEFAULT 0, headed INTEGER NOT NULL DEFAULT 0);
-- What the keyword index holds for each chunk (the indexer's search text): the chunk after
-- its file's heading when `headed`. FTS5 reads it from here instead of keeping a copy.
CREATE VIEW IF NOT EXISTS chunk_search AS
    SELECT c.id AS id,
        CASE WHEN c.headed THEN f.heading || char(10) || c.text ELSE c.text END AS text
    FROM chunks c JOIN files f ON f.id = c.file_id;
CREATE TABLE IF NOT EXISTS sentence_keys (
    id INTEGER PRIMARY KEY, key INTEGER NOT NULL, file_id INTEGER NOT NULL, signature BLOB);
CREATE INDEX IF NOT EXISTS sentence_keys_by_key ON sentence_keys(key);
CREATE TABLE IF NOT EXISTS sentence_bands (
    band INTEGER NOT NULL, sentence_id INTEGER NOT NULL, PRIMARY KEY (band, sentence_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dropped_keys (file_id INTEGER NOT NULL, key INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dropped_keys_by_key ON dropped_keys(key);
CREATE TABLE IF NOT EXISTS vector_segments (
    name TEXT PRIMARY KEY, vectors INTEGER NOT NULL, first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    approximate TEXT, approximate_size INTEGER, approximate_sha256 TEXT);
CREATE TABLE IF NOT EXISTS vector_tombstones (
    chunk_id INTEGER PRIMARY KEY, segment TEXT NOT NULL);
"""


class StoreError(AskseedError):
    """The index cannot be used as it is; the message names the remedy."""


class IndexMissingError(StoreError):
    pass


class IndexBusyError(StoreError):
    pass


# --- rows -------------------------------------------------------------------------------------


class FileRecord(NamedTuple):
    """An indexed file, as the manifest knows it (a named tuple: one per file is read before
    every question, for the freshness check)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    chunks: int = 0
    page_starts: tuple[int, ...] | None = None


class FileRanges(NamedTuple):
    """Where a file's rows are: its chunks' ids and its dedup keys' ids (inclusive; None when
    it kept no sentence). A file's chunks are inserted one after another, so their ids
    (AUTOINCREMENT) are consecutive, and a chunk may borrow from the one before it."""

    file_id: int
    first_chunk: int | None
    chunks: int
    first_key: int | None
    last_key: int | None

    @property
    def chunk_ids(self) -> range:
        return range(self.first_chunk, self.first_chunk + self.chunks) if self.chunks else range(0)


class SkippedFile(NamedTuple):
    """A file that could not be read, remembered so that it is retried only once it changes."""

    size: int
    mtime_ns: int
    reason: str


class SentenceSpan(NamedTuple):
    """One sentence of a chunk, where it sits in the chunk and in its source file."""

    start: int  # in the chunk text
    end: int
    raw_start: int  # in the source file's decoded text
    raw_end: int
    line: int  # first line of the sentence in the source (counted from its page, for a PDF)
    end_line: int


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as the indexer writes it and the reader reads it back."""

    text: str
    start: int  # offsets of the chunk in the source file's decoded text
    end: int
    start_line: int
    end_line: int
    sentences: tuple[SentenceSpan, ...]
    # One unit vector per sentence: float32 in memory, int8 on disk (see
    # encode_sentence_vectors).
    sentence_vectors: np.ndarray = field(compare=False, repr=False)

    def sentence_text(self, span: SentenceSpan) -> str:
        return self.text[span.start : span.end]


@dataclass(frozen=True)
class StoredChunk(ChunkRow):
    """A chunk read back from the index, with what its file adds."""

    id: int = 0
    source: str = ""  # the file's path relative to the documents folder
    page_starts: tuple[int, ...] | None = None


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


def encode_spans(row: ChunkRow) -> str:
    """The sentences' spans as a flat JSON list of six small numbers each, relative to the
    sentence before (or to the chunk): the gap to its start and its length in the chunk, how
    far its source offsets drift from the chunk's and its length there differs, its first
    line and how many more it runs on. About 16 characters a sentence instead of 25."""
    values: list[int] = []
    end, line = 0, row.start_line
    for span in row.sentences:
        length = span.end - span.start
        values += (span.start - end, length, span.raw_start - row.start - span.start)
        values += (span.raw_end - span.raw_start - length, span.line - line)
        values.append(span.end_line - span.line)
        end, line = span.end, span.line
    return json.dumps(values, separators=(",", ":"))


def decode_spans(value: str, start: int, start_line: int) -> tuple[SentenceSpan, ...]:
    """The spans encode_spans wrote for a chunk starting at `start`, on `start_line`.

    Raises ValueError or TypeError for damaged JSON."""
    values = json.loads(value)
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

    Raises ValueError or TypeError for a damaged row (bad JSON, vectors of the wrong shape).
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


def encode_pages(page_starts: tuple[int, ...] | None) -> str | None:
    return json.dumps(list(page_starts)) if page_starts else None


def decode_pages(value: str | None) -> tuple[int, ...] | None:
    return tuple(json.loads(value)) if value else None


# --- the connection ----------------------------------------------------------------------------


def connect(path: Path, new: bool = False) -> sqlite3.Connection:
    """`new`: the writer creating the database, which then gives its free pages back to the
    file system when asked (PRAGMA incremental_vacuum). Only a database without a page yet
    takes it, and asking an existing one would take a lock a reader must not wait for."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL, or it never takes effect
    if new:  # after the page size: this one writes the database's first page
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # A damaged or planted database could name functions with side effects in its schema.
    conn.execute("PRAGMA trusted_schema=OFF")
    return conn


def damaged(directory: Path, error: Exception | str) -> StoreError:
    """The one-line message for an index that cannot be used, with its remedy."""
    if isinstance(error, sqlite3.DatabaseError) and not is_damage(error):
        # Locked, read-only, out of space, no permission: rebuilding would not help.
        return StoreError(f"cannot use the index in {directory}: {error}")
    return StoreError(
        f"the index in {directory} is damaged ({first_line(error)[:120]}); "
        f"run `askseed index --rebuild --index {directory}`"
    )


def check_version(directory: Path, manifest: dict[str, str]) -> None:
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"the index in {directory} was made by another version of askseed (format "
            f"{version!r}, this one reads {SCHEMA_VERSION!r}); "
            f"run `askseed index --rebuild --index {directory}`"
        )


def read_manifest(conn: sqlite3.Connection) -> dict[str, str]:
    """The manifest; empty for a database whose first build never finished."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'manifest'").fetchone()
    return dict(conn.execute("SELECT key, value FROM manifest")) if exists else {}


def encode_sha256(digest: str) -> bytes:
    """A hex digest as its 32 bytes (half the 64 characters)."""
    return bytes.fromhex(digest)


def read_files(conn: sqlite3.Connection) -> dict[str, FileRecord]:
    """The indexed files by path, as the connection's snapshot sees them."""
    rows = conn.execute("SELECT path, size, mtime_ns, sha256, chunks, page_starts FROM files")
    return {
        path: FileRecord(path, size, mtime_ns, bytes(sha256).hex(), chunks, decode_pages(pages))
        for path, size, mtime_ns, sha256, chunks, pages in rows
    }


def read_skipped(conn: sqlite3.Connection) -> dict[str, SkippedFile]:
    """Files that could not be read, by path."""
    rows = conn.execute("SELECT path, size, mtime_ns, reason FROM skipped")
    return {path: SkippedFile(size, mtime, reason) for path, size, mtime, reason in rows}
