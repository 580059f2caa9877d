"""The answer to a question: ranked passages, each with its best sentence, or an abstention."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


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
        page = f"p{self.page}:" if self.page is not None else ""
        return f"{self.source}:{page}{self.start_line}"


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
    support: float = 0.0  # search.answer_support, compared with ANSWER_THRESHOLD

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


# --- choosing what to show -------------------------------------------------------------

# The answer support (search.answer_support: the best sentence's cosine to the question + the
# share of the question's content terms the top passages contain) below which the documents
# are taken not to answer. benchmarks/threshold.py: on the seed, unanswerable questions score
# 0.71 at most and answerable ones 1.0 and up. benchmarks/quality.py: judged queries fall
# below the line 1.0% of the time on SciFact, 0.26% on SQuAD-A.
ANSWER_THRESHOLD = 0.80


@dataclass(frozen=True)
class Candidate:
    """A retrieved chunk, reduced to what the answer needs."""

    source: str
    score: float
    # (text, raw_start, first_line, last_line) for each sentence, in document order
    sentences: tuple[tuple[str, int, int, int], ...]
    page_starts: tuple[int, ...] | None = None
    retrieval_score: float = 0.0  # what ranked it: the fused score (search.rank_chunks)
    # one unit vector per sentence, stored at index time (store.StoredChunk)
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SentenceScore:
    cosine: float  # to the question; 0.0 for a candidate without sentence vectors
    coverage: float  # weighted share of the question's content terms the sentence contains
    # Whether the sentence has a content word the question lacks, or all of the question's.
    # One that only repeats some of the question's words (a title, a heading) cannot hold the
    # answer, so it is never the quote while another sentence can be.
    adds: bool = True

    @property
    def support(self) -> float:
        """How well the sentence answers the question: picks each passage's quote."""
        return self.cosine + self.coverage

    @property
    def rank_key(self) -> tuple[bool, float]:
        return (self.adds, self.support)


def promote_answer(
    candidates: list[Candidate],
    sentence_scores: dict[tuple[str, int], SentenceScore],
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
        keys = [(candidate.source, s[1]) for s in candidate.sentences]
        scores = [sentence_scores[key] for key in keys if key in sentence_scores]
        supports = [score.support for score in scores if score.adds]
        return prior * candidate.retrieval_score + max(supports, default=0.0)

    head = candidates[:pool]
    best = max(range(len(head)), key=lambda index: (strength(head[index]), -index))
    return [head[best], *head[:best], *head[best + 1 :], *candidates[pool:]]


def pick_passages(
    candidates: list[Candidate],
    sentence_scores: dict[tuple[str, int], SentenceScore],
    k: int,
) -> list[Passage]:
    """Best-first passages with no sentence printed twice, each quoting its best-supported
    sentence that adds something to the question (the earliest on a tie).

    Neighbouring chunks overlap by design, so a later passage loses the sentences an earlier
    one already shows, and is dropped if nothing is left.
    """
    shown: set[tuple[str, int]] = set()
    passages: list[Passage] = []
    for candidate in candidates:
        fresh = [s for s in candidate.sentences if (candidate.source, s[1]) not in shown]
        if not fresh:
            continue
        shown.update((candidate.source, s[1]) for s in fresh)
        source = candidate.source
        best = max(fresh, key=lambda s: (*_rank_key(sentence_scores, source, s[1]), -s[1]))
        text = " ".join(s[0] for s in fresh)
        quote_start = sum(len(s[0]) + 1 for s in fresh[: fresh.index(best)])
        page = _page(candidate, fresh[0][1])
        passages.append(
            Passage(
                rank=len(passages) + 1,
                text=text,
                quote=best[0],
                quote_start=quote_start,
                source=candidate.source,
                start_line=fresh[0][2],
                end_line=fresh[-1][3],
                score=round(candidate.score, 4),
                page=page,
            )
        )
        if len(passages) == k:
            break
    return passages


def _rank_key(
    scores: dict[tuple[str, int], SentenceScore], source: str, raw_start: int
) -> tuple[bool, float]:
    score = scores.get((source, raw_start))
    return score.rank_key if score is not None else (False, 0.0)


def _page(candidate: Candidate, raw_start: int) -> int | None:
    if not candidate.page_starts:
        return None
    return bisect.bisect_right(candidate.page_starts, raw_start)
