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

from askseed.errors import AskseedError, is_damage

# Bump when the tables or the way a row is encoded change; an index of another version is
# rebuilt by `askseed index`, and refused with the remedy by a question.
# 2: chunks are also indexed for keyword search (keyword.py), in the same transaction.
# 3: each chunk stores its sentences' vectors, so that a question embeds only itself.
# 4: 16 KB pages; chunk vectors as float16 in FAISS; the LSH band table is
#    clustered on its key instead of carrying a second index; FTS5 keeps no copy of the texts
#    but reads them from the chunk_search view (BENCHMARKS.md, "Bytes per chunk").
# 5: the vectors are append-only segments listed in `vector_segments`, with removed chunks
#    as `vector_tombstones` (store/segments.py), instead of one file named by the manifest.
SCHEMA_VERSION = "5"
# Chunk rows (text, spans, sentence vectors) run to a few KB: with SQLite's default 4 KB pages
# most pages held one row and a quarter of the file was slack. Applies to new databases only.
PAGE_SIZE = 16384
DB_FILE = "meta.sqlite"
SEARCH_VIEW = "chunk_search"
LOCK_FILE = "write.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, chunks INTEGER NOT NULL,
    page_starts TEXT, warnings TEXT, heading TEXT);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, sentences TEXT NOT NULL, sentence_vectors BLOB NOT NULL,
    headed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
-- What the keyword index holds for each chunk (the indexer's search text): the chunk after
-- its file's heading when `headed`. FTS5 reads it from here instead of keeping a copy.
CREATE VIEW IF NOT EXISTS chunk_search AS
    SELECT c.id AS id,
        CASE WHEN c.headed THEN f.heading || char(10) || c.text ELSE c.text END AS text
    FROM chunks c JOIN files f ON f.id = c.file_id;
CREATE TABLE IF NOT EXISTS sentence_keys (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, file_id INTEGER NOT NULL, signature BLOB);
CREATE INDEX IF NOT EXISTS sentence_keys_by_key ON sentence_keys(key);
CREATE INDEX IF NOT EXISTS sentence_keys_by_file ON sentence_keys(file_id);
CREATE TABLE IF NOT EXISTS sentence_bands (
    band INTEGER NOT NULL, sentence_id INTEGER NOT NULL, PRIMARY KEY (band, sentence_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dropped_keys (file_id INTEGER NOT NULL, key TEXT NOT NULL);
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
    # One unit vector per sentence: float32 in memory, float16 on disk (see
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
)


def encode_chunk(row: ChunkRow) -> tuple:
    """The `chunks` columns after file_id, in CHUNK_COLUMNS order."""
    spans = json.dumps([list(span) for span in row.sentences], separators=(",", ":"))
    blob = encode_sentence_vectors(row.sentence_vectors)
    return (row.text, row.start, row.end, row.start_line, row.end_line, spans, blob)


def encode_sentence_vectors(vectors: np.ndarray) -> bytes:
    """n x dim float16: 768 bytes a sentence, and the cosines move by about 0.000001.

    int8 with a scale per vector takes 388 bytes, but moves cosines by up to 0.0023 and
    changed one quote in 5,696 on SQuAD-A (BENCHMARKS.md, "Bytes per chunk"); the confidence
    is calibrated on these cosines, so the exact ones are kept."""
    return np.ascontiguousarray(vectors, dtype=np.float16).tobytes()


def decode_sentence_vectors(blob: bytes, count: int, dim: int) -> np.ndarray:
    """The rows encode_sentence_vectors stored, as float32. A blob of the wrong size raises
    ValueError: a damaged row."""
    return np.frombuffer(blob, dtype=np.float16).reshape(count, dim).astype(np.float32)


def decode_chunk(row: sqlite3.Row, dim: int) -> StoredChunk:
    """A row of `SELECT c.id, f.path, f.page_starts, <CHUNK_COLUMNS of c>`.

    Raises ValueError or TypeError for a damaged row (bad JSON, vectors of the wrong shape).
    """
    spans = tuple(SentenceSpan(*values) for values in json.loads(row["sentences"]))
    vectors = decode_sentence_vectors(row["sentence_vectors"], len(spans), dim)
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


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL, or it never takes effect
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
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return StoreError(
        f"the index in {directory} is damaged ({lines[0][:120]}); "
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


def read_files(conn: sqlite3.Connection) -> dict[str, FileRecord]:
    """The indexed files by path, as the connection's snapshot sees them."""
    rows = conn.execute("SELECT path, size, mtime_ns, sha256, chunks, page_starts FROM files")
    return {
        path: FileRecord(path, size, mtime_ns, sha256, chunks, decode_pages(pages))
        for path, size, mtime_ns, sha256, chunks, pages in rows
    }


def read_skipped(conn: sqlite3.Connection) -> dict[str, SkippedFile]:
    """Files that could not be read, by path."""
    rows = conn.execute("SELECT path, size, mtime_ns, reason FROM skipped")
    return {path: SkippedFile(size, mtime, reason) for path, size, mtime, reason in rows}
