"""The answer to a question: ranked passages, each quoting its best sentence, or an abstention.

find_answer is the whole query path, in order: rank the chunks (retrieve.py), score the
sentences of the top ones (scoring.py), put the passage holding the answer first, pick the
passages to show, and decide whether the documents answer at all.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import numpy as np

from askseed.query.alignment import Aligner
from askseed.query.calibration import QUOTE_FEATURES, Calibrator, load_calibrator
from askseed.query.features import (
    SentenceFeatures,
    question_dict,
    question_words,
    quotable,
    sentence_features,
)
from askseed.query.retrieve import ASKSEED, Candidate, Retrieval, load_candidates, rank_chunks
from askseed.query.scoring import (
    SentenceKey,
    SentenceScore,
    answer_support,
    score_sentences,
    sentence_key,
)
from askseed.query.wording import is_question
from askseed.store.reader import IndexReader

# What askseed says when the documents do not answer: the CLI, the chat and the transcript.
NO_ANSWER = "The documents do not answer this question."

# askseed answers when its confidence (calibration.py: the estimated probability that the quote
# answers the question) is at or above the calibrator's line, kept with its weights in
# query/calibration.json. The older rule, kept as a baseline (Retrieval(decision="support")):
# answer when scoring.answer_support, the best sentence's cosine + the share of the question's
# words the top passages contain, is at or above ANSWER_THRESHOLD.
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
    score: float  # the passage's cosine to the query: what retrieval saw, not a probability
    page: int | None = None
    confidence: float = 0.0  # estimated probability that `quote` answers the question

    @property
    def location(self) -> str:
        return location(self.source, self.start_line, self.page)

    @property
    def confidence_label(self) -> str:
        """The confidence as people read it: "72% confident"."""
        return f"{percent(self.confidence)} confident"

    def to_json(self) -> dict:
        """The passage as `askseed ask --json` and the MCP server's `ask` give it."""
        row = asdict(self)
        row.pop("quote_start")
        if row["page"] is None:
            row.pop("page")
        row["confidence"] = round(row["confidence"], 4)
        return row


def percent(probability: float) -> str:
    """A probability as a whole percentage, never a false "0%" or "100%"."""
    if probability < 0.005:
        return "<1%"
    if probability > 0.995:
        return ">99%"
    return f"{round(100 * probability)}%"


@dataclass(frozen=True)
class IndexInfo:
    documents: int
    chunks: int
    refreshed: bool  # this call built or updated the index
    # The folder had changed, but another process held the index to update it: the answer
    # comes from the index as last committed.
    stale: bool = False


class Evidence(NamedTuple):
    """Why askseed answered or refused: the best sentence's features and what each weighed."""

    quote: str
    source: str
    sentence_features: dict[str, float]  # features.FEATURES of the quote
    question_features: dict[str, float]  # features.QUESTION_FEATURES
    quote_features: dict[str, float]  # calibration.QUOTE_FEATURES of the quote
    asks: bool  # a question, rather than a statement (wording.is_question)
    share: float  # P(the quote is the answer | the documents answer)
    answerable: float  # P(the documents answer)
    # What each feature adds to the quote's score and to the log-odds of `answerable`.
    effects: dict[str, dict[str, float]]
    confidence: float
    line: float
    support: float  # the older rule's figure, for comparison

    def to_json(self) -> dict:
        return {
            "quote": self.quote,
            "source": self.source,
            "confidence": round(self.confidence, 4),
            "line": self.line,
            "answered": self.confidence >= self.line,
            "form": "question" if self.asks else "statement",
            "answerable": round(self.answerable, 4),
            "share": round(self.share, 4),
            "sentence_features": self.sentence_features,
            "question_features": self.question_features,
            "quote_features": self.quote_features,
            "effects": self.effects,
            "support": round(self.support, 4),
        }


@dataclass(frozen=True)
class Answer:
    question: str
    query: str  # what was searched: differs from `question` for a rewritten follow-up
    answered: bool
    # When not answered this holds at most one passage: the nearest miss.
    passages: list[Passage] = field(default_factory=list)
    index: IndexInfo = IndexInfo(0, 0, False)
    support: float = 0.0  # scoring.answer_support: the older rule's figure
    confidence: float = 0.0  # of the first passage's quote; answered iff at or above the line
    evidence: Evidence | None = None  # the features behind the decision

    def from_stale_index(self) -> Answer:
        """This answer, marked as read from an index another process was updating."""
        return replace(self, index=replace(self.index, stale=True))

    def to_json(self, explain: bool = False) -> dict:
        data = {
            "question": self.question,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "passages": [passage.to_json() for passage in self.passages],
            "index": asdict(self.index),
        }
        if explain:
            data["explain"] = self.evidence.to_json() if self.evidence is not None else None
        return data


def find_answer(
    reader: IndexReader,
    question: str,
    query: str,
    query_vector: np.ndarray,
    k: int,
    retrieval: Retrieval = ASKSEED,
    refreshed: bool = False,
    calibrator: Calibrator | None = None,
    abstain: bool = True,
    aligner: Aligner | None = None,
) -> Answer:
    """The best `k` passages for `query`, or an abstention with the nearest miss.

    With abstain=False the `k` passages are kept whatever the decision: a search for a reader
    who wants more than the answer. `aligner` (the question's word pieces and the embedder)
    lets the calibrator re-rank the top sentences by their alignment with the question and
    read the quote's; without it, the first ranking stands and the alignment's fitted mean
    stands in.

    The quote is the sentence of the top passages with the highest confidence, its passage goes
    first, and askseed answers when that confidence reaches the calibrator's line. With
    retrieval.decision == "support" the older rule picks, promotes and decides instead.
    """
    calibrator = calibrator or load_calibrator()
    ranked, cosines = rank_chunks(reader, query, query_vector, retrieval)
    # Neighbouring chunks share a sentence, so a few more than k make k passages.
    candidates = load_candidates(reader, ranked[: 2 * k + 8], cosines)
    pool = max(retrieval.answer_pool, SUPPORT_PASSAGES)
    weighted = retrieval.sentence_rule == "weighted"
    sentence_scores = score_sentences(query, query_vector, candidates, pool, weighted=weighted)
    info = IndexInfo(reader.documents, reader.chunks, refreshed)
    support = answer_support(query, candidates[:SUPPORT_PASSAGES], sentence_scores)
    words = question_words(reader, query)
    rows, question_values = sentence_features(
        words, query_vector, candidates, SUPPORT_PASSAGES, cosines.values()
    )
    # A heading, or a sentence that only repeats the question, is never the quote while
    # another sentence can be: it gets no confidence.
    open_rows = [row for row, allowed in zip(rows, quotable(rows), strict=True) if allowed]
    asks = is_question(query)

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        return aligner.features([open_rows[index].text for index in indices])

    judgement = calibrator.judge(
        [row.values for row in open_rows],
        question_values,
        asks,
        alignments if aligner is not None else None,
        [row.candidate for row in open_rows],
    )
    confidences = dict.fromkeys(
        (sentence_key(candidates[row.candidate], row.raw_start) for row in rows), 0.0
    )
    for row, row_confidence in zip(open_rows, judgement.confidences, strict=True):
        confidences[sentence_key(candidates[row.candidate], row.raw_start)] = row_confidence
    best = _most_confident(open_rows, confidences, candidates)
    best_key = (
        sentence_key(candidates[best.candidate], best.raw_start) if best is not None else ("", 0)
    )
    # The passages' order: rows keep indexing `candidates`, so the promoted list is another.
    if retrieval.decision == "support" or best is None:
        ordered = promote_answer(
            candidates, sentence_scores, retrieval.answer_pool, retrieval.answer_prior
        )
        passages = pick_passages(ordered, sentence_scores, k, confidences, by_confidence=False)
    else:
        ordered = _promote(candidates, best.candidate) if retrieval.answer_pool > 0 else candidates
        passages = pick_passages(ordered, sentence_scores, k, confidences)
    confidence = passages[0].confidence if passages else 0.0
    if retrieval.decision == "support":
        answered = bool(passages) and support >= ANSWER_THRESHOLD
    else:
        answered = bool(passages) and confidence >= calibrator.line
    if abstain and not answered:
        passages = passages[:1]
    evidence = None
    if best is not None:
        share = max(judgement.shares)
        evidence = Evidence(
            quote=best.text,
            source=best_key[0],
            sentence_features=best.as_dict(),
            question_features=question_dict(question_values),
            quote_features={
                name: round(value, 4)
                for name, value in zip(QUOTE_FEATURES, judgement.quote, strict=True)
            },
            share=share,
            answerable=judgement.answerable,
            effects=calibrator.explain(
                best.values, question_values, share, asks, judgement.quote, judgement.reranked
            ),
            asks=asks,
            confidence=confidences[best_key],
            line=calibrator.line,
            support=support,
        )
    return Answer(question, query, answered, passages, info, support, confidence, evidence)


def _most_confident(
    rows: list[SentenceFeatures],
    confidences: dict[SentenceKey, float],
    candidates: list[Candidate],
) -> SentenceFeatures | None:
    """The sentence with the highest confidence; on a tie the earlier passage and sentence."""
    if not rows:
        return None
    return max(
        rows,
        key=lambda row: (
            confidences[sentence_key(candidates[row.candidate], row.raw_start)],
            -row.candidate,
            -row.raw_start,
        ),
    )


def _promote(candidates: list[Candidate], index: int) -> list[Candidate]:
    return [candidates[index], *candidates[:index], *candidates[index + 1 :]]


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
    confidences: dict[SentenceKey, float] | None = None,
    by_confidence: bool = True,
) -> list[Passage]:
    """Best-first passages with no sentence printed twice, each quoting its most confident
    sentence (the earliest on a tie).

    Only the sentences of the top passages have a confidence; a passage below them quotes its
    best-supported sentence that adds something to the question, as the older rule did (and
    as every passage does with by_confidence=False).

    Neighbouring chunks overlap by design, so a later passage loses the sentences an earlier
    one already shows, and is dropped if nothing is left.
    """
    confidences = confidences or {}
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

        def confidence_key(span, candidate=candidate) -> tuple[float, int]:
            key = sentence_key(candidate, span.raw_start)
            return (confidences.get(key, -1.0), -span.raw_start)

        keys = [sentence_key(candidate, span.raw_start) for span in fresh]
        rated = by_confidence and any(key in confidences for key in keys)
        best = max(fresh, key=confidence_key if rated else rank_key)
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
                confidence=confidences.get(sentence_key(candidate, best.raw_start), 0.0),
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
