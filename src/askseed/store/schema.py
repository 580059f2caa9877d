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
# 6: sentence spans as varints instead of JSON (chunk_codec.py); the tables keyed by text
#    (manifest, skipped, vector_segments) and dropped_keys as WITHOUT ROWID, with no second
#    b-tree for their keys; a file's heading kept as its length in its first chunk
#    (heading_chars) instead of a copy; skipped and vector_tombstones made by their first row
#    (BENCHMARKS.md, "Fifteenth round: store format 6"). Version 5's rows are still read, so
#    such an index is read and updated in place (bring_up_to_date); its first writer marks it
#    6, after which an older askseed asks for a rebuild instead of misreading the new rows.
SCHEMA_VERSION = "6"
READABLE_VERSIONS = ("5", SCHEMA_VERSION)
# Chunk rows (text, spans, sentence vectors) run to a few KB: with SQLite's default 4 KB pages
# most pages held one row and a quarter of the file was slack. Applies to new databases only.
PAGE_SIZE = 16384
DB_FILE = "meta.sqlite"
SEARCH_VIEW = "chunk_search"
LOCK_FILE = "write.lock"

# What the keyword index holds for each chunk (the indexer's search text): the chunk after its
# file's heading when `headed`. FTS5 reads it from here instead of keeping a copy, so this must
# give back the very text that was indexed until the chunk is removed from the keyword index.
# The heading is the first `heading_chars` characters of the file's first chunk, or, where it
# is not (and in every file indexed by version 5), a copy in `heading`.
SEARCH_VIEW_SQL = f"""CREATE VIEW IF NOT EXISTS {SEARCH_VIEW} AS
    SELECT c.id AS id,
        CASE WHEN c.headed THEN coalesce(f.heading,
            (SELECT substr(h.text, 1, f.heading_chars) FROM chunks h WHERE h.id = f.first_chunk))
            || char(10) || c.text
        ELSE c.text END AS text
    FROM chunks c JOIN files f ON f.id = c.file_id;"""

# Tables that most indexes never fill, each created by its first row: an empty table still takes
# a page of 16 KB, 16 bytes a chunk in an index of a thousand. A missing one reads as empty.
ON_DEMAND_TABLES = {
    "skipped": """CREATE TABLE IF NOT EXISTS skipped (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        reason TEXT NOT NULL, ctime_ns INTEGER) WITHOUT ROWID""",
    "vector_tombstones": """CREATE TABLE IF NOT EXISTS vector_tombstones (
        chunk_id INTEGER PRIMARY KEY, segment TEXT NOT NULL)""",
}

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- A file's chunks take the ids first_chunk.. (chunks of them), its dedup keys the ids
-- first_key..last_key: removing it deletes those ranges, with no index on file_id.
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 BLOB NOT NULL, chunks INTEGER NOT NULL,
    page_starts TEXT, warnings TEXT, heading TEXT, first_chunk INTEGER, first_key INTEGER,
    last_key INTEGER, ctime_ns INTEGER, heading_chars INTEGER);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, sentences BLOB NOT NULL, sentence_vectors BLOB NOT NULL,
    borrows_first INTEGER NOT NULL DEFAULT 0, headed INTEGER NOT NULL DEFAULT 0);
{SEARCH_VIEW_SQL}
CREATE TABLE IF NOT EXISTS sentence_keys (
    id INTEGER PRIMARY KEY, key INTEGER NOT NULL, file_id INTEGER NOT NULL, signature BLOB);
CREATE INDEX IF NOT EXISTS sentence_keys_by_key ON sentence_keys(key);
CREATE TABLE IF NOT EXISTS sentence_bands (
    band INTEGER NOT NULL, sentence_id INTEGER NOT NULL, PRIMARY KEY (band, sentence_id))
    WITHOUT ROWID;
-- Looked up by key; an index of version 5 has a rowid table and the index dropped_keys_by_key.
-- The key's columns come first: SQLite 3.40's quick_check, which the writer runs, reports NULLs
-- in the NOT NULL columns of a WITHOUT ROWID table whose key does not begin it.
CREATE TABLE IF NOT EXISTS dropped_keys (
    key INTEGER NOT NULL, file_id INTEGER NOT NULL, PRIMARY KEY (key, file_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vector_segments (
    name TEXT PRIMARY KEY, vectors INTEGER NOT NULL, first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    approximate TEXT, approximate_size INTEGER, approximate_sha256 TEXT) WITHOUT ROWID;
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
    # The inode's change time (listing.SourceFile); None in an index made before it was kept,
    # until the file is next read or found touched.
    ctime_ns: int | None = None


class Hit(NamedTuple):
    """A chunk a search found, and how well it matched: a cosine, a keyword score or a fused
    score, higher is better. Searches return them best first."""

    chunk_id: int
    score: float


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
    ctime_ns: int | None = None  # as FileRecord's


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
    if version not in READABLE_VERSIONS:
        raise StoreError(
            f"the index in {directory} was made by another version of askseed (format "
            f"{version!r}, this one reads {' and '.join(map(repr, READABLE_VERSIONS))}); "
            f"run `askseed index --rebuild --index {directory}`"
        )


def read_manifest(conn: sqlite3.Connection) -> dict[str, str]:
    """The manifest; empty for a database whose first build never finished."""
    return (
        dict(conn.execute("SELECT key, value FROM manifest")) if has_table(conn, "manifest") else {}
    )


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_schema WHERE name = ?", (name,)).fetchone() is not None
    )


def create_on_demand(conn: sqlite3.Connection, table: str) -> None:
    """Make sure one of ON_DEMAND_TABLES exists, before its first row goes in."""
    conn.execute(ON_DEMAND_TABLES[table])


def encode_sha256(digest: str) -> bytes:
    """A hex digest as its 32 bytes (half the 64 characters)."""
    return bytes.fromhex(digest)


def read_files(conn: sqlite3.Connection) -> dict[str, FileRecord]:
    """The indexed files by path, as the connection's snapshot sees them."""
    ctime = "ctime_ns" if _has_column(conn, "files", "ctime_ns") else "NULL"
    rows = conn.execute(
        f"SELECT path, size, mtime_ns, sha256, chunks, page_starts, {ctime} FROM files"
    )
    return {
        path: FileRecord(
            path, size, mtime_ns, bytes(sha256).hex(), chunks, decode_pages(pages), ctime_ns
        )
        for path, size, mtime_ns, sha256, chunks, pages, ctime_ns in rows
    }


# Columns added to a table after SCHEMA_VERSION 5 was released, with their type: an index made
# before has them added by its next writer (nullable, so its rows need no rewrite), and is read
# without them until then.
ADDED_COLUMNS = {
    ("files", "ctime_ns"): "INTEGER",
    ("skipped", "ctime_ns"): "INTEGER",
    ("files", "heading_chars"): "INTEGER",
}


def bring_up_to_date(conn: sqlite3.Connection) -> None:
    """What a writer does to an index made by an earlier version it can read: add the columns
    added since, and replace version 5's search view, which knew only copied headings, by
    SEARCH_VIEW_SQL (which gives the same text for every row that version wrote). The view is
    replaced in one transaction, so that no reader ever finds it missing."""
    for (table, column), kind in ADDED_COLUMNS.items():
        if has_table(conn, table) and not _has_column(conn, table, column):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    (view,) = conn.execute(
        "SELECT sql FROM sqlite_schema WHERE type = 'view' AND name = ?", (SEARCH_VIEW,)
    ).fetchone()
    if "heading_chars" not in view:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"DROP VIEW {SEARCH_VIEW}")
        conn.execute(SEARCH_VIEW_SQL)
        conn.execute("COMMIT")


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def read_skipped(conn: sqlite3.Connection) -> dict[str, SkippedFile]:
    """Files that could not be read, by path."""
    if not has_table(conn, "skipped"):
        return {}
    ctime = "ctime_ns" if _has_column(conn, "skipped", "ctime_ns") else "NULL"
    rows = conn.execute(f"SELECT path, size, mtime_ns, reason, {ctime} FROM skipped")
    return {
        path: SkippedFile(size, mtime_ns, reason, ctime_ns)
        for path, size, mtime_ns, reason, ctime_ns in rows
    }
