"""The answer to a question: ranked passages, each quoting its best sentence, or an abstention.

find_answer is the whole query path, in order: rank the chunks (retrieve.py), score the
sentences of the top ones (scoring.py), put the passage holding the answer first, pick the
passages to show, and decide whether the documents answer at all.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field

import numpy as np

from askseed.query.retrieve import ASKSEED, Candidate, Retrieval, load_candidates, rank_chunks
from askseed.query.scoring import (
    SentenceKey,
    SentenceScore,
    answer_support,
    score_sentences,
    sentence_key,
)
from askseed.store.reader import IndexReader

# What askseed says when the documents do not answer: the CLI, the chat and the transcript.
NO_ANSWER = "The documents do not answer this question."

# The answer support (scoring.answer_support: the best sentence's cosine to the question + the
# share of the question's content terms the top passages contain) below which the documents
# are taken not to answer. benchmarks/threshold.py: on the seed, unanswerable questions score
# 0.71 at most and answerable ones 1.0 and up. benchmarks/quality.py: judged queries fall
# below the line 1.0% of the time on SciFact, 0.26% on SQuAD-A.
ANSWER_THRESHOLD = 0.80
# Whether the documents answer is judged on this many top passages, whose sentences also set
# how much each question word weighs (scoring.score_sentences). Fixed, so that -k changes how
# much is shown, never what is answered.
SUPPORT_PASSAGES = 5


def location(source: str, line: int, page: int | None = None) -> str:
    """`path:line`, `path:p<page>:line` for a PDF, or `path:ch<n>:line` for an EPUB, whose
    pages are its chapter files: how every passage says where it is."""
    if page is None:
        return f"{source}:{line}"
    mark = "ch" if source.lower().endswith(".epub") else "p"
    return f"{source}:{mark}{page}:{line}"


@dataclass(frozen=True)
class Passage:
    rank: int
    text: str
    quote: str  # the best-matching sentence, verbatim from `text`
    quote_start: int  # offset of `quote` inside `text`
    source: str  # path relative to the documents folder, posix style
    start_line: int
    end_line: int
    score: float
    page: int | None = None

    @property
    def location(self) -> str:
        return location(self.source, self.start_line, self.page)


@dataclass(frozen=True)
class IndexInfo:
    documents: int
    chunks: int
    refreshed: bool


@dataclass(frozen=True)
class Answer:
    question: str
    query: str  # what was searched: differs from `question` for a rewritten follow-up
    answered: bool
    # When not answered this holds at most one passage: the nearest miss.
    passages: list[Passage] = field(default_factory=list)
    index: IndexInfo = IndexInfo(0, 0, False)
    support: float = 0.0  # scoring.answer_support, compared with ANSWER_THRESHOLD

    def to_json(self) -> dict:
        passages = []
        for passage in self.passages:
            row = asdict(passage)
            row.pop("quote_start")
            if row["page"] is None:
                row.pop("page")
            passages.append(row)
        return {
            "question": self.question,
            "answered": self.answered,
            "passages": passages,
            "index": asdict(self.index),
        }


def find_answer(
    reader: IndexReader,
    question: str,
    query: str,
    query_vector: np.ndarray,
    k: int,
    retrieval: Retrieval = ASKSEED,
    refreshed: bool = False,
) -> Answer:
    """The best `k` passages for `query`, or an abstention with the nearest miss."""
    ranked, cosines = rank_chunks(reader, query, query_vector, retrieval)
    # Neighbouring chunks share a sentence, so a few more than k make k passages.
    candidates = load_candidates(reader, ranked[: 2 * k + 8], cosines)
    pool = max(retrieval.answer_pool, SUPPORT_PASSAGES)
    weighted = retrieval.sentence_rule == "weighted"
    sentence_scores = score_sentences(query, query_vector, candidates, pool, weighted=weighted)
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


def promote_answer(
    candidates: list[Candidate],
    sentence_scores: dict[SentenceKey, SentenceScore],
    pool: int,
    prior: float = 1.0,
) -> list[Candidate]:
    """The candidates with the one holding the answer first, the others in their order.

    The answer is the sentence, among those of the first `pool` candidates that add something
    to the question, with the highest prior * its passage's retrieval score + its support
    (cosine to the question + weighted share of the question's terms): its dense similarity,
    its lexical overlap and its passage's rank, in one figure. Ties keep the retrieval order.
    """
    if pool <= 1 or len(candidates) < 2:
        return list(candidates)

    def strength(candidate: Candidate) -> float:
        keys = [sentence_key(candidate, span.raw_start) for span in candidate.sentences]
        scores = [sentence_scores[key] for key in keys if key in sentence_scores]
        supports = [score.support for score in scores if score.adds]
        return prior * candidate.retrieval_score + max(supports, default=0.0)

    head = candidates[:pool]
    best = max(range(len(head)), key=lambda index: (strength(head[index]), -index))
    return [head[best], *head[:best], *head[best + 1 :], *candidates[pool:]]


def pick_passages(
    candidates: list[Candidate],
    sentence_scores: dict[SentenceKey, SentenceScore],
    k: int,
) -> list[Passage]:
    """Best-first passages with no sentence printed twice, each quoting its best-supported
    sentence that adds something to the question (the earliest on a tie).

    Neighbouring chunks overlap by design, so a later passage loses the sentences an earlier
    one already shows, and is dropped if nothing is left.
    """
    shown: set[SentenceKey] = set()
    passages: list[Passage] = []
    for candidate in candidates:
        fresh = [
            span
            for span in candidate.sentences
            if sentence_key(candidate, span.raw_start) not in shown
        ]
        if not fresh:
            continue
        shown.update(sentence_key(candidate, span.raw_start) for span in fresh)

        def rank_key(span, candidate=candidate) -> tuple[bool, float, int]:
            score = sentence_scores.get(sentence_key(candidate, span.raw_start))
            adds, support = score.rank_key if score is not None else (False, 0.0)
            return (adds, support, -span.raw_start)

        best = max(fresh, key=rank_key)
        texts = [candidate.sentence_text(span) for span in fresh]
        quote_index = fresh.index(best)
        passages.append(
            Passage(
                rank=len(passages) + 1,
                text=" ".join(texts),
                quote=texts[quote_index],
                quote_start=sum(len(text) + 1 for text in texts[:quote_index]),
                source=candidate.source,
                start_line=fresh[0].line,
                end_line=fresh[-1].end_line,
                score=round(candidate.cosine, 4),
                page=_page(candidate, fresh[0].raw_start),
            )
        )
        if len(passages) == k:
            break
    return passages


def _page(candidate: Candidate, raw_start: int) -> int | None:
    page_starts = candidate.chunk.page_starts
    if not page_starts:
        return None
    return bisect.bisect_right(page_starts, raw_start)
