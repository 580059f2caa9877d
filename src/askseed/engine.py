"""The one object the CLI, the chat and the evaluation talk to.

engine = Engine(settings)
engine.status() -> IndexStatus        # cheap: stat calls only, no model loaded
engine.ensure_fresh() -> Freshness    # bring a stale or missing index up to date first
engine.refresh(on_progress=None, rebuild=False) -> IndexReport
engine.load()                         # slow: the model and the index, ready for questions
engine.ask(question, k=None, query=None) -> Answer   # k: settings.top_k; `query` is searched
engine.search(query, k=10) -> list[Passage]          # ranked passages, never an abstention
engine.context(source, start_line, end_line, margin=8, page=None) -> list[tuple[int, str]]

The engine holds the model and one snapshot of the index; the query path itself is in
query/answer.py, and indexing in ingest/indexer.py.

A question to a fresh index reads the store and never loads the ingestion pipeline (its
readers for every format, the chunker, dedup, the store writer): those are imported where an
index is updated or a document read, like the heavy libraries, because their ~12 ms of
imports are a twentieth of a one-shot question (tests/test_lean.py holds this).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from askseed.config import Settings
from askseed.errors import IndexPathError, UnknownSourceError
from askseed.ingest.freshness import UpdatePlan, plan_update
from askseed.ingest.listing import FORMATS, SourceFile, check_documents_folder, source_file
from askseed.model.embedder import Embedder, MiniLMEmbedder
from askseed.model.pieces import EncodedTexts
from askseed.query.alignment import Aligner
from askseed.query.answer import (
    Answer,
    Passage,
    find_answer,
)
from askseed.query.features import question_stems
from askseed.query.retrieve import ASKSEED, Retrieval
from askseed.reports import (
    Freshness,
    IndexReport,
    IndexStatus,
    hashing_notices,
)
from askseed.store.folder import check_index_folder
from askseed.store.reader import IndexReader, read_catalogue
from askseed.store.schema import IndexBusyError, StoreError

# How every question searches the dense vectors, in the chat as in a one-shot process: "auto"
# uses the approximate index where the index has one, since opening its memory map and
# probing a few lists beats scanning every vector even in a fresh process (BENCHMARKS.md,
# "Vector segments and approximate search").
SEARCH_MODE = "auto"
# Query vectors kept: an evaluation asks each query once per system compared.
QUERY_CACHE_SIZE = 1024

Progress = Callable[[int, int], None]
Notice = Callable[[str], None]


class AskEngine(Protocol):
    """What the CLI and the chat need of an engine; the chat's tests fake exactly this."""

    settings: Settings

    def status(self) -> IndexStatus: ...

    def ensure_fresh(
        self,
        on_notice: Notice | None = None,
        on_progress: Progress | None = None,
        on_warning: Notice | None = None,
    ) -> Freshness: ...

    def refresh(
        self,
        on_progress: Progress | None = None,
        rebuild: bool = False,
        on_warning: Notice | None = None,
    ) -> IndexReport: ...

    def load(self) -> None: ...

    def ask(
        self,
        question: str,
        k: int | None = None,
        query: str | None = None,
        refreshed: bool = False,
        retrieval: Retrieval | None = None,
    ) -> Answer: ...

    def search(self, query: str, k: int = 10) -> list[Passage]: ...

    def context(
        self, source: str, start_line: int, end_line: int, margin: int = 8, page: int | None = None
    ) -> list[tuple[int, str]]: ...


class Engine:
    """Holds the model and a snapshot of the index; safe to call from worker threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._reader: IndexReader | None = None
        self._lock = threading.RLock()
        self._queries: dict[str, EncodedTexts] = {}  # for questions asked again

    # -- status ---------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        return self._status()[0]

    def _status(self, on_notice: Notice | None = None) -> tuple[IndexStatus, UpdatePlan | None]:
        """The status, and the plan it was read from (None without an index). `on_notice` is
        told first when the check must read many files to compare them (hashing_notice)."""
        self._check_index_path()
        manifest, files, skipped = read_catalogue(self.settings.index)
        if not manifest:
            return IndexStatus(0, 0, fresh=False, exists=False, built_at=None), None

        plan = plan_update(
            self.settings.seeds,
            files,
            skipped,
            self.settings.follow_links,
            on_hashing=hashing_notices(on_notice),
        )
        status = IndexStatus(
            documents=len(files),
            chunks=sum(record.chunks for record in files.values()),
            fresh=not plan.stale,
            exists=True,
            built_at=float(manifest["built_at"]),
            changed_files=plan.changed_files,
            touched_files=len(plan.touched),
        )
        return status, plan

    def _check_index_path(self) -> None:
        """The index is a folder: a file there would first read as "no index yet", then
        fail to be built with a bare "File exists"."""
        index = Path(self.settings.index)
        if index.exists() and not index.is_dir():
            raise IndexPathError(
                f"the index path {index} is a file, not a folder: pass --index with a folder "
                "(askseed creates it if it is missing)"
            )
        check_index_folder(index)

    # -- loading --------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = MiniLMEmbedder()
        return self._embedder

    def load(self) -> None:
        with self._lock:
            # Only a process that loads ahead asks many questions: worth the disk reads.
            self._open_reader().read_ahead()
            self.embedder.load()
            self.embedder.encode(["warm up"])

    def _open_reader(self) -> IndexReader:
        if self._reader is None:
            self._reader = IndexReader(self.settings.index, search_mode=SEARCH_MODE)
        return self._reader

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    # -- indexing -------------------------------------------------------------------------
    def refresh(
        self,
        on_progress: Progress | None = None,
        rebuild: bool = False,
        on_warning: Notice | None = None,
        hashed: Mapping[SourceFile, str] | None = None,
        on_notice: Notice | None = None,
    ) -> IndexReport:
        """`hashed`: digests a freshness check just took (plan_update), not to be taken again.
        `on_notice` is told first when the update must read many files to compare them."""
        from askseed.ingest.indexer import update_index  # see the module's docstring

        self._check_index_path()
        report = update_index(
            self.settings, self.embedder, rebuild, on_progress, on_warning, hashed, on_notice
        )
        self.close()  # the next question opens the new snapshot
        return report

    def ensure_fresh(
        self,
        on_notice: Notice | None = None,
        on_progress: Progress | None = None,
        on_warning: Notice | None = None,
    ) -> Freshness:
        """Bring a stale or missing index up to date before a question, saying why first.

        A fresh index is only read, never locked, so that several processes can share it.
        When another process is already updating a stale index, the current snapshot answers
        (a missing one cannot: IndexBusyError).
        """
        status, plan = self._status(on_notice)
        hashed = dict(plan.touched) if plan is not None else None
        if status.exists and status.fresh:
            if hashed:
                self._record_touched(hashed)
            return Freshness(refreshed=False)
        # A folder that cannot be indexed is said before "building it", not after (status()
        # has already listed it when there is an index).
        if not status.exists:
            check_documents_folder(self.settings.seeds)
        if on_notice:
            on_notice(status.update_notice(self.settings.index))
        try:
            report = self.refresh(on_progress=on_progress, on_warning=on_warning, hashed=hashed)
        except IndexBusyError:
            if not status.exists:
                raise
            return Freshness(refreshed=False, busy=True)
        return Freshness(refreshed=True, report=report)

    def _record_touched(self, hashed: dict[SourceFile, str]) -> None:
        """Note the new stat data of files found touched (`hashed`: their digests, so that
        they are not read twice), so that the next check needs no hashing: nothing is
        embedded, and nothing is said. Left for later when another process holds the index,
        or it cannot be written here."""
        with contextlib.suppress(StoreError, OSError):
            self.refresh(hashed=hashed)

    # -- asking ---------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        k: int | None = None,
        query: str | None = None,
        refreshed: bool = False,
        retrieval: Retrieval | None = None,
    ) -> Answer:
        """The best `k` passages for the question, or an abstention with the nearest miss.

        `retrieval` picks the ranking; evaluations pass the baselines. `refreshed` says
        whether the caller's ensure_fresh updated the index, for the answer's report.
        """
        with self._lock:
            query = query or question
            retrieval = retrieval or ASKSEED
            reader, vector, aligner = self._read(query, retrieval)
            return find_answer(
                reader,
                question,
                query,
                vector,
                k or self.settings.top_k,
                retrieval,
                refreshed,
                aligner=aligner,
            )

    def _read(self, query: str, retrieval: Retrieval) -> tuple[IndexReader, np.ndarray, Aligner]:
        """The snapshot, and the query read by the model (_read_query). The keyword index is
        read on a worker thread meanwhile (both release the GIL): at a million chunks they
        take about as long."""
        reader = self._open_reader()
        if retrieval.lexical:
            reader.prefetch(query, retrieval.depth, question_stems(query))
        vector, aligner = self._read_query(query)
        return reader, vector, aligner

    def _read_query(self, query: str) -> tuple[np.ndarray, Aligner]:
        """The query's vector, and its word pieces from the same pass, for the alignment."""
        encoded = self._queries.get(query)
        if encoded is None:
            encoded = self._queries[query] = self.embedder.encode_with_pieces([query])
            if len(self._queries) > QUERY_CACHE_SIZE:
                del self._queries[next(iter(self._queries))]  # the oldest
        return encoded.vectors[0], Aligner(query, encoded.pieces[0], self.embedder.token_vectors)

    def search(self, query: str, k: int = 10) -> list[Passage]:
        """The best `k` passages for `query`, ranked and quoted as `ask` ranks and quotes them,
        with no decision whether they answer: for a reader who wants more than the answer."""
        with self._lock:
            reader, vector, aligner = self._read(query, ASKSEED)
            answer = find_answer(reader, query, query, vector, k, abstain=False, aligner=aligner)
            return answer.passages

    def context(
        self, source: str, start_line: int, end_line: int, margin: int = 8, page: int | None = None
    ) -> list[tuple[int, str]]:
        """The passage's lines with `margin` lines around them, numbered from 1.

        For a PDF, lines are counted from the top of `page`, as passages show them. `source`
        comes from passages, but an agent (the MCP server) passes it on: only a file indexing
        would read is read, never a path out of the documents folder.
        """
        from askseed.ingest.readers import read_document  # see the module's docstring

        path = self._document_path(source)
        document = read_document(source_file(str(path), source, path.stat()))
        text = document.text
        if page is not None and document.page_starts:
            pages = len(document.page_starts)
            if not 1 <= page <= pages:
                raise UnknownSourceError(f"{source} has pages 1 to {pages}, not page {page}")
            starts = (*document.page_starts, len(text))
            text = text[starts[page - 1] : starts[page]]
            if end_line < start_line:  # the passage runs on over the page break
                end_line = text.count("\n") + 1
        # Lines end at "\n" only, as chunk.line_finder counts them (a PDF's page break is a
        # form feed, which splitlines() would count as a line of its own).
        lines = text.split("\n")
        while lines and not lines[-1].strip():  # the page break and blank lines after the text
            lines.pop()
        first = max(1, start_line - margin)
        last = min(len(lines), end_line + margin)
        return [(number, lines[number - 1]) for number in range(first, last + 1)]

    def _document_path(self, source: str) -> Path:
        """The file of `source`, if it is one indexing would read: inside the documents
        folder, not hidden, of a readable format. A link out of the folder is read only if the
        index holds it (--follow-links)."""
        seeds = Path(self.settings.seeds)
        relative = Path(source)
        path = seeds / relative
        if relative.is_absolute() or any(part.startswith(".") for part in relative.parts):
            raise UnknownSourceError(
                f"{source} is outside the documents folder {seeds}: "
                "pass a source as passages give it, relative to that folder"
            )
        if not path.is_file() or relative.suffix.lower() not in FORMATS:
            raise UnknownSourceError(
                f"{source} is not a document of {seeds}: pass a source as passages give it"
            )
        if not path.resolve().is_relative_to(seeds.resolve()):
            files = read_catalogue(self.settings.index).files
            if source not in files:
                raise UnknownSourceError(
                    f"{source} links outside the documents folder {seeds}, and the index "
                    "does not hold it"
                )
        return path
