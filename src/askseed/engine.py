"""The one object the CLI and the chat UI talk to: index status, refresh, and asking.

engine = Engine(settings)
engine.status() -> IndexStatus        # cheap: stat calls only, no model loaded
engine.load()                         # slow: the model and the index, ready for questions
engine.refresh(on_progress=None, rebuild=False) -> IndexReport
engine.ask(question, k=3, query=None) -> Answer   # `query` overrides what is searched
engine.context(source, start_line, end_line, margin=8) -> list[tuple[int, str]]
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from askseed.answer import ANSWER_THRESHOLD, Answer, IndexInfo
from askseed.config import Settings

# Whether the documents answer is judged on this many top passages (search.answer_support),
# whose sentences also set how much each question word weighs (search.score_sentences).
SUPPORT_PASSAGES = 5
# Query vectors kept: an evaluation asks each query once per system compared.
QUERY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class IndexStatus:
    documents: int
    chunks: int
    fresh: bool  # False when files were added, changed or removed since the last build
    exists: bool
    built_at: float | None  # unix time of the last build
    changed_files: int = 0


@dataclass(frozen=True)
class IndexReport:
    files: int
    chunks: int
    embedded_files: int  # files (re-)embedded in this run: 0 when nothing changed
    embedded_chunks: int
    removed_files: int
    duplicates_dropped: int
    skipped_files: int
    seconds: float
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.embedded_files == 0 and self.removed_files == 0:
            return (
                f"index up to date: {_count(self.files, 'file')}, {_count(self.chunks, 'chunk')}, "
                f"nothing re-embedded ({self.skipped_files} skipped, {self.seconds:.1f}s)"
            )
        return (
            f"indexed {_count(self.files, 'file')}, {_count(self.chunks, 'chunk')} "
            f"({_count(self.embedded_files, 'file')} re-embedded, {self.removed_files} removed), "
            f"{_count(self.duplicates_dropped, 'duplicate')} dropped, "
            f"{self.skipped_files} skipped, {self.seconds:.1f}s"
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class Engine:
    """Holds the model and a snapshot of the index; safe to call from worker threads."""

    def __init__(self, settings: Settings, embedder=None, query_encoder=None):
        self.settings = settings
        self._embedder = embedder
        self._query_encoder = query_encoder or embedder
        self._reader = None
        self._lock = threading.RLock()
        self._query_vectors: dict = {}  # query text -> vector, for questions asked again

    # -- status ---------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        from askseed.freshness import plan_update
        from askseed.store import read_catalogue

        manifest, files, skipped = read_catalogue(self.settings.index)
        if not manifest:
            return IndexStatus(0, 0, fresh=False, exists=False, built_at=None)
        plan = plan_update(self.settings.seeds, files, skipped, self.settings.follow_links)
        return IndexStatus(
            documents=len(files),
            chunks=sum(record.chunks for record in files.values()),
            fresh=not plan.stale,
            exists=True,
            built_at=float(manifest["built_at"]),
            changed_files=plan.changed_files,
        )

    # -- loading --------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from askseed.embed import OnnxEmbedder

            self._embedder = OnnxEmbedder(self.settings.index)
        return self._embedder

    @property
    def query_encoder(self):
        if self._query_encoder is None:
            self._query_encoder = self.embedder
        return self._query_encoder

    def load(self) -> None:
        with self._lock:
            self._open_reader()
            self.query_encoder.encode(["warm up"])

    def _open_reader(self):
        from askseed.store import IndexReader

        if self._reader is None:
            self._reader = IndexReader(self.settings.index)
        return self._reader

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    # -- indexing -------------------------------------------------------------------------
    def refresh(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        rebuild: bool = False,
        on_warning: Callable[[str], None] | None = None,
    ) -> IndexReport:
        from askseed.indexer import update_index

        report = update_index(self.settings, self.embedder, rebuild, on_progress, on_warning)
        with self._lock:
            self.close()  # the next question opens the new snapshot
        return report

    # -- asking ---------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        k: int | None = None,
        query: str | None = None,
        refreshed: bool = False,
        retrieval=None,
    ) -> Answer:
        """The best `k` passages for the question, or an abstention with the nearest miss.

        `retrieval` (a search.Retrieval) picks the ranking; evaluations pass the baselines.
        """
        from askseed.answer import pick_passages, promote_answer
        from askseed.search import (
            ASKSEED,
            answer_support,
            load_candidates,
            rank_chunks,
            score_sentences,
        )

        k = k or self.settings.top_k
        retrieval = retrieval or ASKSEED
        query = query or question
        with self._lock:
            reader = self._open_reader()
            query_vector = self._query_vector(query)
            ranked, cosines = rank_chunks(reader, query, query_vector, retrieval)
            # Neighbouring chunks share a sentence, so a few more than k make k passages.
            candidates = load_candidates(reader, ranked[: 2 * k + 8], cosines)
            # The answer and the abstention depend on a fixed number of top passages, so that
            # -k changes how much is shown, never what is answered.
            pool = max(retrieval.answer_pool, SUPPORT_PASSAGES)
            sentence_scores = score_sentences(
                query,
                query_vector,
                candidates,
                pool,
                weighted=retrieval.sentence_rule == "weighted",
            )
            info = IndexInfo(reader.documents, reader.chunks, refreshed)
        support = answer_support(query, candidates[:SUPPORT_PASSAGES], sentence_scores)
        candidates = promote_answer(
            candidates, sentence_scores, retrieval.answer_pool, retrieval.answer_prior
        )
        passages = pick_passages(candidates, sentence_scores, k)
        answered = bool(passages) and support >= ANSWER_THRESHOLD
        if not answered:
            passages = passages[:1]
        return Answer(question, query, answered, passages, info, support)

    def _query_vector(self, query: str):
        vector = self._query_vectors.get(query)
        if vector is None:
            vector = self._query_vectors[query] = self.query_encoder.encode([query])[0]
            if len(self._query_vectors) > QUERY_CACHE_SIZE:
                del self._query_vectors[next(iter(self._query_vectors))]  # the oldest
        return vector

    def context(
        self, source: str, start_line: int, end_line: int, margin: int = 8, page: int | None = None
    ) -> list[tuple[int, str]]:
        """The passage's lines with `margin` lines around them, numbered from 1.

        For a PDF, lines are counted from the top of `page`, as passages show them.
        """
        from askseed.sources import SourceFile, read_document

        path = Path(self.settings.seeds) / source
        stat = path.stat()
        document = read_document(SourceFile(str(path), source, stat.st_size, stat.st_mtime_ns))
        text = document.text
        if page is not None and document.page_starts:
            starts = (*document.page_starts, len(text))
            text = text[starts[page - 1] : starts[page]]
        lines = text.splitlines()
        first = max(1, start_line - margin)
        last = min(len(lines), end_line + margin)
        return [(number, lines[number - 1]) for number in range(first, last + 1)]
