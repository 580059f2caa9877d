"""Reading the index: one consistent snapshot, fixed at the moment it was opened.

See schema.py for the layout and why the SQLite commit is the single switch point. Damage (a
truncated or corrupt file, a vectors file gone missing, an index from another version of
askseed) is reported as one StoreError naming the remedy; `askseed index` replaces such an
index with a fresh build, since everything in it can be rebuilt from the documents.
"""

from __future__ import annotations

import os
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import NamedTuple

import numpy as np

from askseed.store import approximate
from askseed.store.chunk_codec import chunk_query, decode_chunk
from askseed.store.keyword import open_keyword_index
from askseed.store.schema import (
    DB_FILE,
    SEARCH_VIEW,
    FileRecord,
    Hit,
    IndexMissingError,
    SkippedFile,
    StoredChunk,
    StoreError,
    check_version,
    connect,
    damaged,
    read_files,
    read_manifest,
    read_skipped,
)
from askseed.store.segments import read_segments, read_tombstones
from askseed.store.vectors import SEARCH_MODES, VectorFileError, VectorSet

# Chunks an IndexReader keeps once read: ~8 KB each with their sentence vectors.
CHUNK_CACHE_SIZE = 10_000
# Stems whose document frequency it keeps.
FREQUENCIES_KEPT = 100_000
READ_AHEAD_WINDOW = 4 * 2**20  # bytes of a file asked for at a time (IndexReader.read_ahead)


class _VectorsGone(Exception):
    """The vectors file a snapshot names is not there (yet: a writer may have replaced it)."""


class IndexReader:
    """A consistent, read-only view of the index, fixed at the moment it was opened.

    `search_mode` is what search(mode="auto") does: "auto" searches the approximate index
    when the index has one (it is built only above approximate.MIN_CHUNKS), "exact" always
    scans every vector (Engine picks it for one-shot questions: BENCHMARKS.md, "Approximate
    search")."""

    def __init__(self, directory: Path, search_mode: str = "auto"):
        if search_mode not in SEARCH_MODES:
            raise ValueError(f"search_mode must be one of {SEARCH_MODES}, not {search_mode!r}")
        self.directory = directory
        self.search_mode = search_mode
        self._keywords = None
        self._chunk_cache: dict[int, StoredChunk] = {}
        self._frequencies: dict[str, int] = {}
        self._worker: ThreadPoolExecutor | None = None
        self._pending: tuple[tuple[str, int], Future] | None = None
        path = directory / DB_FILE
        if not path.exists():
            raise IndexMissingError(f"no index in {directory}: run `askseed index` first")
        missing = None
        for attempt in range(3):
            try:
                self._open(path)
                return
            except _VectorsGone as gone:
                self.close()
                # A committed snapshot only names a file written before the commit, so the
                # same name missing twice means it was deleted, not replaced by a writer.
                if str(gone) == missing:
                    raise damaged(directory, f"its vectors file {gone} is missing") from None
                missing = str(gone)
                time.sleep(0.05 * (attempt + 1))
            except (sqlite3.DatabaseError, VectorFileError, ValueError, KeyError) as error:
                self.close()
                raise damaged(directory, error) from error
            except StoreError:
                self.close()
                raise
        raise StoreError(f"the index in {directory} kept changing while being opened; try again")

    def _open(self, path: Path) -> None:
        self._conn = connect(path)
        self._conn.execute("BEGIN")  # the snapshot: held until close()
        self.manifest = read_manifest(self._conn)
        if not self.manifest:  # the first build was interrupted
            raise IndexMissingError(f"no index in {self.directory}: run `askseed index` first")
        check_version(self.directory, self.manifest)
        # An IVF of another format is not read: exact search until `askseed index` rebuilds it.
        usable = approximate.usable(self.manifest)
        self.vectors = VectorSet(
            self.directory,
            read_segments(self._conn),
            read_tombstones(self._conn),
            int(self.manifest["dim"]),
            rescore=approximate.RESCORE,
            template=self.directory / self.manifest["approximate_template"] if usable else None,
            template_size=int(self.manifest["approximate_template_size"]) if usable else None,
        )
        try:
            # Maps the files (a few pages each) and checks their recorded sizes now, so that a
            # snapshot whose files a writer has since deleted is retried at once.
            self.vectors.open_files(self._mode("auto"))
        except FileNotFoundError as error:
            raise _VectorsGone(Path(str(error.filename)).name) from None
        documents, chunks = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(chunks), 0) FROM files"
        ).fetchone()
        self.documents, self.chunks = int(documents), int(chunks)
        # The files' own chunk counts, not COUNT(*) of the chunks table: that reads every page
        # of it (a fifth of a second at a million chunks). `askseed index` counts the rows.
        if self.vectors.count != self.chunks:
            raise VectorFileError(f"{self.vectors.count} vectors for {self.chunks} chunks")

    def close(self) -> None:
        if getattr(self, "_worker", None) is not None:
            try:
                self._settle(discard=True)
            finally:
                self._worker.shutdown()
                self._worker = None
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def files(self) -> dict[str, FileRecord]:
        """The indexed files this snapshot holds."""
        self._settle()
        return read_files(self._conn)

    @property
    def has_approximate(self) -> bool:
        return self.vectors.has_approximate

    def _mode(self, mode: str) -> str:
        mode = self.search_mode if mode == "auto" else mode
        if mode == "auto":
            return "approximate" if self.vectors.has_approximate else "exact"
        return mode

    def search(self, query_vectors: np.ndarray, k: int, mode: str = "auto") -> list[list[Hit]]:
        """Best `k` (chunk id, cosine) per query row, best first. mode: "auto" (the reader's
        search_mode), "exact", or "approximate" (exact when there is no approximate index).
        Cosines are exact in every mode; only which chunks are found may differ."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        return self.vectors.search(query_vectors, k, self._mode(mode))

    def read_ahead(self) -> None:
        """Ask the kernel to bring the vector files into the page cache, in the background.

        For a process that will ask many questions (the chat): each question scores a
        thousand chunk vectors at random places in the memory-mapped segments (rescoring,
        keyword-only hits), and each one not in the page cache is a disk read, tens of
        milliseconds a question at a million chunks when the cache has let them go. Nothing
        is read into the process itself, and a one-shot question never asks."""
        for path in self.vectors.files():
            try:
                handle = os.open(path, os.O_RDONLY)
            except OSError:  # gone: the snapshot's search reports it
                continue
            try:
                # In windows: Linux reads at most a few MB ahead for one piece of advice.
                for start in range(0, os.fstat(handle).st_size, READ_AHEAD_WINDOW):
                    os.posix_fadvise(handle, start, READ_AHEAD_WINDOW, os.POSIX_FADV_WILLNEED)
            except (OSError, AttributeError):  # a system without the advice: merely slower
                pass
            finally:
                os.close(handle)

    def prefetch(self, query: str, k: int, stems: list[str]) -> None:
        """Start what a question will ask of the keyword index, keyword_search(query, k) and
        document_frequencies(stems), on a worker thread, while the caller embeds the question
        and searches the vectors. Every later use of the database waits for it first, so the
        connection is never used by two threads at once; the answers are the same."""
        self._settle(discard=True)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="askseed-keywords")

        def lookups() -> list[Hit]:
            self._frequencies_of(stems)
            return self._keyword_search(query, k)

        self._pending = ((query, k), self._worker.submit(lookups))

    def _settle(self, discard: bool = False) -> list[Hit] | None:
        """Wait for a prefetch under way; its keyword hits, if there was one. Its error is
        raised here, as the lookup itself would have raised it, unless no one asks for it."""
        if self._pending is None:
            return None
        _, future = self._pending
        self._pending = None
        if discard:
            wait([future])
            return None
        return future.result()

    def keyword_search(self, query: str, k: int) -> list[Hit]:
        """Up to k hits (chunk id, keyword score), best first, from this snapshot."""
        asked = self._pending[0] if self._pending is not None else None
        hits = self._settle()
        if asked == (query, k):
            return list(hits)
        return self._keyword_search(query, k)

    def _keyword_search(self, query: str, k: int) -> list[Hit]:
        if self._keywords is None:
            self._keywords = open_keyword_index(self._conn, content=SEARCH_VIEW)
        return self._keywords.search(query, k)

    def document_frequencies(self, stems: list[str]) -> dict[str, int]:
        """How many chunks of this snapshot hold each stem (query.features weighs words by it)."""
        self._settle()
        return self._frequencies_of(stems)

    def _frequencies_of(self, stems: list[str]) -> dict[str, int]:
        # Kept per stem: the snapshot never changes, and a chat's questions share words.
        new = [stem for stem in dict.fromkeys(stems) if stem not in self._frequencies]
        if new:
            if self._keywords is None:
                self._keywords = open_keyword_index(self._conn, content=SEARCH_VIEW)
            if len(self._frequencies) > FREQUENCIES_KEPT:
                self._frequencies.clear()
            self._frequencies.update(self._keywords.document_frequencies(new))
        return {stem: self._frequencies[stem] for stem in stems}

    def similarities(self, query_vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of the query to each of these chunks, for chunks the dense search left out."""
        return self.vectors.similarities(query_vector, ids)

    def chunks_by_id(self, ids: list[int]) -> dict[int, StoredChunk]:
        # The snapshot never changes, so chunks read once stay right: a chat or an evaluation
        # meets the same chunks question after question.
        self._settle()
        found = {i: self._chunk_cache[i] for i in ids if i in self._chunk_cache}
        missing = [i for i in ids if i not in found]
        if not missing:
            return found
        cursor = self._conn.cursor()
        cursor.row_factory = sqlite3.Row
        rows = cursor.execute(chunk_query(len(missing)), missing)
        try:
            read = {row["id"]: decode_chunk(row, self.vectors.dim) for row in rows}
        except (ValueError, TypeError) as error:  # a damaged row: bad JSON or wrong shape
            raise damaged(self.directory, error) from error
        self._chunk_cache.update(read)
        while len(self._chunk_cache) > CHUNK_CACHE_SIZE:
            del self._chunk_cache[next(iter(self._chunk_cache))]  # the oldest
        return found | read

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Catalogue(NamedTuple):
    """What an index holds, by name, without its vectors: for freshness checks."""

    manifest: dict[str, str]
    files: dict[str, FileRecord]
    skipped: dict[str, SkippedFile]


def read_catalogue(directory: Path) -> Catalogue:
    """Manifest, files and skipped files, without touching the vectors: for freshness checks."""
    path = directory / DB_FILE
    if not path.exists():
        return Catalogue({}, {}, {})
    try:
        conn = connect(path)
        try:
            conn.execute("BEGIN")
            manifest = read_manifest(conn)
            if not manifest:
                return Catalogue({}, {}, {})
            check_version(directory, manifest)
            return Catalogue(manifest, read_files(conn), read_skipped(conn))
        finally:
            conn.close()
    except (sqlite3.DatabaseError, ValueError) as error:
        raise damaged(directory, error) from error
