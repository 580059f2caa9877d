"""Building the index, or bringing it up to date by re-embedding only what changed."""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from askseed.chunk import Chunk, make_chunks
from askseed.clean import Sentence, split_sentences
from askseed.config import Settings
from askseed.dedup import drop_duplicates, sentence_key
from askseed.engine import IndexReport
from askseed.errors import NoDocumentsError
from askseed.freshness import file_sha256, plan_update
from askseed.sources import SkipFile, SourceFile, read_document
from askseed.store import FileRecord, sentence_vectors_blob
from askseed.store_writer import IndexWriter

# Bump when cleaning, dedup or chunking rules change: stored chunks would no longer match.
# 2: chunks are embedded and keyword-indexed after their document's heading.
# 3: each sentence is embedded too, so that a question embeds nothing but itself.
PIPELINE_VERSION = "3"
# A chunk is searched (embedded and keyword-indexed) after its document's heading, so that a
# passage deep in a document still says what the document is about: on SciFact this lifts
# nDCG@10 by about 0.01 (BENCHMARKS.md). The stored text, which is what gets quoted, stays
# verbatim. The heading is the document's first sentence, when it is short enough to be one.
HEADING_MAX_CHARS = 200
# Chunks are embedded in batches across files, so many small files still fill a batch.
EMBED_BATCH = 256

Progress = Callable[[int, int], None]


def index_fingerprint(model_fingerprint: str, settings: Settings) -> str:
    """Anything that changes what a stored vector means forces a full rebuild."""
    parts = {
        "model": model_fingerprint,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "pipeline": PIPELINE_VERSION,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class _PendingFile:
    file_id: int
    rows: list[tuple]
    texts: list[str]  # what is embedded and keyword-indexed (see _search_text)
    dropped_keys: list[str]
    sentences: list[list[str]]  # each chunk's sentences, embedded one by one


@dataclass
class _Run:
    """Counters for the one-line summary, and the warnings, shown as they happen."""

    on_warning: Callable[[str], None] | None = None
    duplicates: int = 0
    embedded_files: int = 0
    embedded_chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        if self.on_warning:
            self.on_warning(message)

    def skip(self, rel: str, reason: str) -> None:
        self.skipped += 1
        self.warn(f"skipped {rel}: {reason}")


def update_index(
    settings: Settings,
    embedder,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> IndexReport:
    started = time.perf_counter()
    run = _Run(on_warning)
    fingerprint = index_fingerprint(embedder.fingerprint, settings)
    manifest = {
        "model": embedder.name,
        "model_fingerprint": embedder.fingerprint,
        "chunk_settings": json.dumps(
            {"max_tokens": settings.chunk_tokens, "overlap": settings.chunk_overlap}
        ),
        "documents_folder": str(settings.seeds.resolve()),
    }
    with IndexWriter(settings.index, fingerprint, manifest, embedder.dim, rebuild) as writer:
        if writer.discarded:
            run.warn(
                f"the index in {settings.index} could not be used ({writer.discarded}); "
                "rebuilding it from the documents"
            )
        plan = plan_update(settings.seeds, writer.files(), writer.skipped(), settings.follow_links)
        for rel, reason in plan.walk_skips:
            run.skip(rel, reason)
        removed = 0
        to_redo = {source.rel for source in plan.changed}
        for rel in plan.removed + sorted(to_redo):
            # A file that leaned on this one for a sentence it dropped must now keep it.
            to_redo |= writer.dependents_of(rel)
        for rel in plan.removed:
            writer.remove_file(rel)
            removed += 1
        for rel in plan.forgotten_skips:
            writer.remove_file(rel)
        sources = {source.rel: source for source in plan.new + plan.changed}
        for rel in sorted(to_redo - set(plan.removed)):
            writer.remove_file(rel)
            if rel not in sources:
                sources[rel] = _restat(settings.seeds, rel)
        for source, _ in plan.touched:
            writer.touch(source.rel, source.size, source.mtime_ns)
        _index_files(
            writer,
            [sources[rel] for rel in sorted(sources)],
            embedder,
            settings,
            run,
            on_progress,
        )
        files = writer.files()
        if not files:
            # Refuse to replace an index with an empty one: nothing indexed is lost.
            raise NoDocumentsError(
                f"no readable documents in {settings.seeds}: add .txt or .md files, "
                "or pass --seeds DIR"
            )
        writer.commit()
    return IndexReport(
        files=len(files),
        chunks=sum(record.chunks for record in files.values()),
        embedded_files=run.embedded_files,
        embedded_chunks=run.embedded_chunks,
        removed_files=removed,
        duplicates_dropped=run.duplicates,
        skipped_files=run.skipped,
        seconds=time.perf_counter() - started,
        warnings=tuple(run.warnings),
    )


def _restat(root: Path, rel: str) -> SourceFile:
    path = root / rel
    stat = path.stat()
    return SourceFile(str(path.resolve()), rel, stat.st_size, stat.st_mtime_ns)


def _index_files(
    writer: IndexWriter,
    sources: list[SourceFile],
    embedder,
    settings: Settings,
    run: _Run,
    on_progress: Progress | None,
) -> None:
    pending: list[_PendingFile] = []
    pending_texts = 0
    for done, source in enumerate(sources, start=1):
        prepared = _prepare_file(writer, source, embedder, settings, run)
        if prepared is not None:
            pending.append(prepared)
            pending_texts += len(prepared.texts)
        if pending_texts >= EMBED_BATCH:
            _embed_and_store(writer, pending, embedder, run)
            pending, pending_texts = [], 0
        if on_progress:
            on_progress(done, len(sources))
    _embed_and_store(writer, pending, embedder, run)


def _prepare_file(
    writer, source: SourceFile, embedder, settings: Settings, run: _Run
) -> _PendingFile | None:
    try:
        document = read_document(source)
        digest = _digest_of_what_was_read(source)
    except (SkipFile, OSError) as error:
        reason = str(error) if isinstance(error, SkipFile) else error.strerror or "unreadable"
        run.skip(source.rel, reason)
        writer.mark_skipped(source.rel, source.size, source.mtime_ns, reason)
        return None
    for note in document.warnings:
        run.warn(f"{source.rel}: {note}")
    record = FileRecord(
        source.rel, source.size, source.mtime_ns, digest, page_starts=document.page_starts
    )
    file_id, seen = writer.begin_file(record)
    sentences = split_sentences(document.text)
    kept, dropped = drop_duplicates(sentences, seen)
    run.duplicates += dropped
    kept_ids = {id(sentence) for sentence in kept}
    dropped_keys = [sentence_key(s.text) for s in sentences if id(s) not in kept_ids]
    counter = _cached_counter(embedder, [sentence.text for sentence in kept])
    chunks = make_chunks(
        kept,
        document.text,
        counter,
        max_tokens=settings.chunk_tokens,
        overlap=settings.chunk_overlap,
    )
    line_of = _line_finder(document.text, document.page_starts)
    rows = [_chunk_row(chunk, line_of) for chunk in chunks]
    heading = kept[0] if kept and len(kept[0].text) <= HEADING_MAX_CHARS else None
    texts = [_search_text(chunk, heading) for chunk in chunks]
    sentence_texts = [[chunk.text[a:b] for a, b in chunk.sentences] for chunk in chunks]
    return _PendingFile(file_id, rows, texts, dropped_keys, sentence_texts)


def _search_text(chunk: Chunk, heading: Sentence | None) -> str:
    """What is embedded and keyword-indexed for a chunk: its text, after the heading when the
    chunk does not begin with it."""
    if heading is None or chunk.start <= heading.start:
        return chunk.text
    return f"{heading.text}\n{chunk.text}"


def _digest_of_what_was_read(source: SourceFile) -> str:
    """The file's SHA-256, taken after reading so that a file over the size limit is never
    hashed, and checked against the listing's stat data so digest and text match."""
    try:
        digest = file_sha256(source.path)
        after = os.stat(source.path)
    except FileNotFoundError as error:
        raise SkipFile("deleted while reading") from error
    if (after.st_size, after.st_mtime_ns) != (source.size, source.mtime_ns):
        raise SkipFile("changed while reading; will retry next run")
    return digest


def _embed_and_store(writer: IndexWriter, pending: list[_PendingFile], embedder, run: _Run) -> None:
    """Embed the chunks, and each sentence once (neighbouring chunks share one), then store.

    Sentence vectors are what picks the quote and decides whether to abstain; computing them
    here, not per question, is what keeps a one-shot question to one small inference.
    """
    texts = [text for item in pending for text in item.texts]
    sentences = list(
        dict.fromkeys(text for item in pending for chunk in item.sentences for text in chunk)
    )
    # One call: the encoder batches texts of similar length together, whatever their kind.
    vectors = embedder.encode(texts + sentences) if texts else None
    vector_of = dict(zip(sentences, vectors[len(texts) :], strict=True)) if texts else {}
    offset = 0
    for item in pending:
        count = len(item.texts)
        rows = [
            (*row, _sentence_blob([vector_of[text] for text in chunk], embedder.dim))
            for row, chunk in zip(item.rows, item.sentences, strict=True)
        ]
        writer.finish_file(
            item.file_id,
            rows,
            vectors[offset : offset + count] if count else None,
            item.dropped_keys,
            search_texts=item.texts,
        )
        offset += count
        run.embedded_files += 1
        run.embedded_chunks += count


def _sentence_blob(vectors: list[np.ndarray], dim: int) -> bytes:
    return sentence_vectors_blob(np.stack(vectors) if vectors else np.zeros((0, dim)))


def _cached_counter(embedder, texts: list[str]) -> Callable[[str], int]:
    """Count all sentences in one batch call; pieces of split sentences are counted on demand."""
    counts = dict(zip(texts, embedder.count_tokens(texts), strict=True)) if texts else {}

    def count(text: str) -> int:
        if text not in counts:
            counts[text] = embedder.count_tokens([text])[0]
        return counts[text]

    return count


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _line_finder(text: str, page_starts: tuple[int, ...] | None) -> Callable[[int], int]:
    """Offset in `text` -> 1-based line; for a PDF, counted from the top of its page."""
    line_starts = _line_starts(text)
    if not page_starts:
        return lambda offset: bisect.bisect_right(line_starts, offset)
    first_lines = [bisect.bisect_right(line_starts, start) for start in page_starts]

    def line_in_page(offset: int) -> int:
        page = max(bisect.bisect_right(page_starts, offset) - 1, 0)
        return bisect.bisect_right(line_starts, offset) - first_lines[page] + 1

    return line_in_page


def _chunk_row(chunk: Chunk, line_of: Callable[[int], int]) -> tuple:
    sentences = [
        [
            text_start,
            text_end,
            raw_start,
            raw_end,
            line_of(raw_start),
            line_of(max(raw_start, raw_end - 1)),
        ]
        for (text_start, text_end), (raw_start, raw_end) in zip(
            chunk.sentences, chunk.sentence_spans, strict=True
        )
    ]
    return (
        chunk.text,
        chunk.start,
        chunk.end,
        line_of(chunk.start),
        line_of(max(chunk.start, chunk.end - 1)),
        json.dumps(sentences, separators=(",", ":")),
    )
