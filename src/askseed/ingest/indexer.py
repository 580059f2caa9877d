"""Building the index, or bringing it up to date by re-embedding only what changed."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from askseed.config import Settings
from askseed.errors import NoDocumentsError, UsageError
from askseed.ingest import embedding
from askseed.ingest.chunk import Chunk, line_finder, make_chunks
from askseed.ingest.dedup import drop_duplicates, duplicate_key
from askseed.ingest.freshness import plan_update
from askseed.ingest.listing import FORMATS, SourceFile, check_documents_folder, source_file
from askseed.ingest.readers import SkipFile, read_document
from askseed.ingest.sentences import Sentence, split_sentences
from askseed.model.embedder import MAX_SEQ_LENGTH, Embedder
from askseed.model.export_cache import remove_index_folder_exports
from askseed.reports import IndexReport, count, hashing_notices
from askseed.store.schema import ChunkRow, FileRecord, SentenceSpan
from askseed.store.writer import IndexWriter

# Bump when cleaning, dedup or chunking rules change: stored chunks would no longer match.
# 2: chunks are embedded and keyword-indexed after their document's heading.
# 3: each sentence is embedded too, so that a question embeds nothing but itself.
# 4: PDF headers, footers and page numbers dropped, hyphenated words joined, sentences run on
#    over page breaks; navigation boxes and link lists dropped from web pages.
PIPELINE_VERSION = "4"
# How each sentence gets its vector (it picks the quote and decides whether to abstain):
#   "alone":  the sentence embedded by itself, in a second pass (about twice the model time);
#   "pooled": the mean of its tokens' vectors in the pass that embeds its chunk, normalised
#             (model/span_pooling.py): no second pass, indexing 2.3x faster.
# On SQuAD-A both quote the answer sentence equally often, but a pooled sentence is read in
# its chunk's context (cosine 0.82 to itself alone, on average) and loses the seed's own
# answer ("five out of six" drops from cosine 0.75 to 0.51 and the headline is quoted), and
# the seed's margin between answered and unanswered questions shrinks from 0.30 to 0.12
# (BENCHMARKS.md, "Sentence vectors"). So "alone" stays the default.
SENTENCE_VECTORS = "alone"
# How each chunk gets its vector (it ranks the chunk for a question):
#   "pass":      the chunk (after its heading) embedded by itself;
#   "sentences": the weighted mean of its sentences' vectors, embedded alone, and of its
#                heading's (embedding.py): the model reads every word once, not twice.
# "sentences" indexes SQuAD-A 3.2x faster, but SciFact nDCG@10 falls from 0.7415 to 0.727,
# below the 0.7384 askseed must keep, SQuAD-A's answer-sentence@1 by 0.013, and it moves the
# chunk cosines the confidence's folder_margin is fitted on (BENCHMARKS.md, "Sentence
# vectors: ways to index faster"). So "pass" stays the default.
CHUNK_VECTORS = "pass"
# A chunk is searched (embedded and keyword-indexed) after its document's heading, so that a
# passage deep in a document still says what the document is about: on SciFact this lifts
# nDCG@10 by about 0.01 (BENCHMARKS.md). The stored text, which is what gets quoted, stays
# verbatim. The heading is the document's first sentence, when it is short enough to be one.
HEADING_MAX_CHARS = 200
# Chunks are embedded in batches across files, so many small files still fill a batch.
EMBED_BATCH = 256
# A run commits what it has stored every COMMIT_CHUNKS chunks or COMMIT_SECONDS seconds,
# whichever comes first, so that a killed build loses one batch at most and the vectors
# waiting for a commit stay few (4096 x 384 floats: 6 MB). A commit writes its batch as a new
# vector segment and sometimes merges segments (store/segments.py), so it also waits for
# SAVE_SHARE times as long as the last one took: merging stays under a tenth of a build.
COMMIT_CHUNKS = 4096
COMMIT_SECONDS = 60.0
SAVE_SHARE = 10

Progress = Callable[[int, int], None]


def index_fingerprint(model_fingerprint: str, settings: Settings) -> str:
    """Anything that changes what a stored vector means forces a full rebuild."""
    parts = {
        "model": model_fingerprint,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "pipeline": PIPELINE_VERSION,
    }
    if SENTENCE_VECTORS != "alone":  # indexes made before the choice existed stay valid
        parts["sentence_vectors"] = SENTENCE_VECTORS
    if CHUNK_VECTORS != "pass":
        parts["chunk_vectors"] = CHUNK_VECTORS
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def check_chunk_settings(settings: Settings) -> None:
    """Chunk settings come from the environment: refuse ones the chunker cannot honour, before
    anything is read."""
    if not 1 <= settings.chunk_tokens <= MAX_SEQ_LENGTH:
        raise UsageError(
            f"ASKSEED_CHUNK_TOKENS must be between 1 and {MAX_SEQ_LENGTH}, "
            f"not {settings.chunk_tokens}"
        )
    if settings.chunk_overlap < 0:
        raise UsageError(f"ASKSEED_CHUNK_OVERLAP must be 0 or more, not {settings.chunk_overlap}")


@dataclass
class _PendingFile:
    """A file read, cleaned and chunked, waiting for its batch to be embedded."""

    file_id: int
    chunks: list[Chunk]
    spans: list[tuple[SentenceSpan, ...]]  # each chunk's sentences, with their lines
    texts: list[str]  # what is embedded and keyword-indexed (see _search_text)
    dropped_keys: list[str]

    def chunk_text(self, index: int) -> embedding.ChunkText:
        """What is embedded for chunk `index`: its search text, the heading that text begins
        with (if any) and its sentences, with their places in the search text."""
        text, search = self.chunks[index].text, self.texts[index]
        shift = len(search) - len(text)  # the heading and its line break, or nothing
        spans = self.spans[index]
        return embedding.ChunkText(
            search_text=search,
            heading=search[: shift - 1] if shift else None,
            sentences=[text[span.start : span.end] for span in spans],
            sentence_spans=[(span.start + shift, span.end + shift) for span in spans],
        )


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
    embedder: Embedder,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    on_warning: Callable[[str], None] | None = None,
    hashed: Mapping[SourceFile, str] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> IndexReport:
    """Bring the index up to date with the documents folder (all of it with `rebuild`).
    `hashed`: digests a freshness check just took, as plan_update takes them. `on_notice` is
    told first when many files must be read to compare them (reports.hashing_notice)."""
    check_chunk_settings(settings)
    check_documents_folder(settings.seeds)  # before the index folder is made
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
        remove_index_folder_exports(settings.index)  # under the writer's lock
        if writer.discarded:
            run.warn(
                f"the index in {settings.index} could not be used ({writer.discarded}); "
                "rebuilding it from the documents"
            )
        plan = plan_update(
            settings.seeds,
            writer.files(),
            writer.skipped(),
            settings.follow_links,
            hashed,
            hashing_notices(on_notice),
        )
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
            writer.touch(source.rel, source.size, source.mtime_ns, source.ctime_ns)
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
            unread = len(writer.skipped())
            said = f" ({count(unread, 'file')} could not be read, as said above)" if unread else ""
            raise NoDocumentsError(
                f"no readable documents in {settings.seeds}{said}: add "
                f"{', '.join(sorted(FORMATS))} files, or pass --seeds DIR"
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
    return source_file(str(path.resolve()), rel, path.stat())


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
            if done < len(sources) and _time_to_commit(writer):  # the last commits anyway
                writer.checkpoint()
        if on_progress:
            on_progress(done, len(sources))
    _embed_and_store(writer, pending, embedder, run)


def _time_to_commit(writer: IndexWriter) -> bool:
    since = time.monotonic() - writer.last_commit_at
    due = writer.pending_chunks >= COMMIT_CHUNKS or since >= COMMIT_SECONDS
    return due and since >= SAVE_SHARE * writer.last_save_seconds


def _prepare_file(
    writer, source: SourceFile, embedder, settings: Settings, run: _Run
) -> _PendingFile | None:
    try:
        document = read_document(source)
    except (SkipFile, OSError) as error:
        reason = str(error) if isinstance(error, SkipFile) else error.strerror or "unreadable"
        run.skip(source.rel, reason)
        writer.mark_skipped(source.rel, source.size, source.mtime_ns, source.ctime_ns, reason)
        return None
    for note in document.warnings:
        run.warn(f"{source.rel}: {note}")
    record = FileRecord(
        source.rel,
        source.size,
        source.mtime_ns,
        document.sha256,
        page_starts=document.page_starts,
        ctime_ns=source.ctime_ns,
    )
    file_id, seen = writer.begin_file(record)
    sentences = split_sentences(document.text)
    kept, dropped = drop_duplicates(sentences, seen)
    run.duplicates += dropped
    kept_ids = {id(sentence) for sentence in kept}
    dropped_keys = [duplicate_key(s.text) for s in sentences if id(s) not in kept_ids]
    counter = _cached_counter(embedder, [sentence.text for sentence in kept])
    line_of = line_finder(document.text, document.page_starts)
    chunks = make_chunks(
        kept,
        document.text,
        counter,
        max_tokens=settings.chunk_tokens,
        overlap=settings.chunk_overlap,
        line_of=line_of,
    )
    spans = [_sentence_spans(chunk, line_of) for chunk in chunks]
    heading = kept[0] if kept and len(kept[0].text) <= HEADING_MAX_CHARS else None
    texts = [_search_text(chunk, heading) for chunk in chunks]
    return _PendingFile(file_id, chunks, spans, texts, dropped_keys)


def _search_text(chunk: Chunk, heading: Sentence | None) -> str:
    """What is embedded and keyword-indexed for a chunk: its text, after the heading when the
    chunk does not begin with it."""
    if heading is None or chunk.start <= heading.start:
        return chunk.text
    return f"{heading.text}\n{chunk.text}"


def _embed_and_store(writer: IndexWriter, pending: list[_PendingFile], embedder, run: _Run) -> None:
    """Embed the chunks and their sentences, then store them.

    Sentence vectors are what picks the quote and decides whether to abstain; computing them
    here, not per question, is what keeps a one-shot question to one small inference.
    """
    chunks = [item.chunk_text(index) for item in pending for index in range(len(item.texts))]
    if not chunks:
        vectors, sentence_vectors = None, []
    elif SENTENCE_VECTORS == "pooled":
        vectors, sentence_vectors = embedding.pooled(chunks, embedder)
    elif CHUNK_VECTORS == "sentences":
        vectors, sentence_vectors = embedding.from_sentences(chunks, embedder)
    else:
        vectors, sentence_vectors = embedding.alone(chunks, embedder)
    offset = 0
    for item in pending:
        count = len(item.texts)
        rows = [
            ChunkRow(
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                start_line=chunk.start_line,
                end_line=chunk.end_line,
                sentences=spans,
                sentence_vectors=sentence_vectors[offset + index],
            )
            for index, (chunk, spans) in enumerate(zip(item.chunks, item.spans, strict=True))
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


def _cached_counter(embedder, texts: list[str]) -> Callable[[str], int]:
    """Count all sentences in one batch call; pieces of split sentences are counted on demand."""
    counts = dict(zip(texts, embedder.count_tokens(texts), strict=True)) if texts else {}

    def count(text: str) -> int:
        if text not in counts:
            counts[text] = embedder.count_tokens([text])[0]
        return counts[text]

    return count


def _sentence_spans(chunk: Chunk, line_of: Callable[[int], int]) -> tuple[SentenceSpan, ...]:
    return tuple(
        SentenceSpan(
            start, end, raw_start, raw_end, line_of(raw_start), line_of(max(raw_start, raw_end - 1))
        )
        for (start, end), (raw_start, raw_end) in zip(
            chunk.sentences, chunk.sentence_spans, strict=True
        )
    )
