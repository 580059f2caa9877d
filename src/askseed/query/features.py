"""What the calibrator knows about a candidate sentence: a few numbers, cheap to compute.

Every feature comes from what the query path already has: the sentence vectors stored at index
time (so only the question is embedded), the chunk cosines, and the keyword index's document
frequencies over the whole index (one SQLite read of FTS5's term list). Nothing here runs the
model again. calibration.py turns a row of these into a probability.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import NamedTuple

from askseed.query.retrieve import Candidate
from askseed.query.scoring import sentence_key, term_weights, weighted_share
from askseed.query.wording import (
    answer_kind,
    holds_kind,
    is_heading,
    is_negated,
    names_lacking,
    question_names,
    text_tokens,
)
from askseed.store.reader import IndexReader
from askseed.text import WORD, content_terms, fold, sentence_terms

# What the calibrator reads of each sentence, in the order of its weights (calibration.json).
# "Weight" of a question word: its rarity over the whole index (QuestionWords); "local": its
# rarity among the candidate sentences, as scoring.term_weights computes it.
FEATURES = (
    "cosine",  # the sentence's cosine to the question
    "margin",  # its cosine minus the best cosine of any other candidate sentence
    "passage_cosine",  # the cosine of the passage (chunk) holding it
    "retrieval_score",  # what ranked that passage (retrieve.rank_chunks)
    "coverage",  # share of the question's word weight the sentence holds
    "local_coverage",  # ... by local weight
    "passage_coverage",  # share of the question's word weight its passage holds
    "type_missing",  # the question asks for a number, a date or a name the sentence lacks
    "heading",  # a short line without a full stop: a title or a heading
    "repeats",  # the sentence only repeats some of the question's words
    "rank",  # log(1 + the passage's retrieval rank, from 0)
    # The sentences either side of it in its passage (0.0 where there is none): an answer
    # often follows, or comes before, the sentence that names what the question is about.
    "coverage_before",  # the coverage of the sentence before it
    "coverage_after",  # ... after it
    "cosine_before",  # the cosine of the sentence before it
    "cosine_after",  # ... after it
    # Contrasts with the question. SQuAD 2.0's unanswerable questions were often written by
    # changing one a paragraph answers: a negation put in ("What is *not* recognised ...?"
    # of a sentence saying what is), a name or a year swapped ("Where in Katyn ...?" of a
    # sentence about a museum in Warsaw). The answerable heads read the quote's
    # lacks_negation (calibration.QUOTE_SENTENCE_FEATURES); lacks_names helps choose the
    # quote only: as a sign of a swap it cost more than it caught (calibrate_contrasts.py).
    "lacks_negation",  # the question holds a negation (not, never, n't ...), the sentence none
    "lacks_names",  # the share of the question's names and numbers the sentence lacks
)
_HEADING, _REPEATS = FEATURES.index("heading"), FEATURES.index("repeats")
# What it reads of the question and all its candidates together: whether the documents
# answer at all. The same for every sentence of a question, so it never changes which
# sentence is the quote.
QUESTION_FEATURES = (
    "absent",  # share of the question's word weight in words no document holds
    "absent_words",  # how many of its words no document holds (at most 3)
    "best_cosine",  # the best candidate sentence's cosine
    "best_coverage",  # the best share of the question's word weight one sentence holds
    "best_passage_coverage",  # ... one passage holds
    "best_passage_cosine",  # the best passage cosine
    "type_nowhere",  # the question asks for a kind of thing no candidate sentence holds
    # Names and numbers of the question ("Newcastle", "1979"): the share missing from ...
    "names_missing_top",  # ... the first passage
    "names_missing",  # ... all the candidate passages
    "passage_gap",  # the first passage's cosine minus the last's: one stands out, or none
    "sentence_gap",  # the best sentence's cosine minus the mean of all of them
    # The best chunk cosine minus the FOLDER_RANK-th best chunk cosine of the folder
    # (or its last, when it holds fewer chunks): meaning measured against what else the
    # folder offers this question, not in absolute terms.
    "folder_margin",
)
FOLDER_RANK = 50


class QuestionWords(NamedTuple):
    """The question's content words and what each weighs: its rarity over the whole index."""

    weights: dict[str, float]  # stem -> log((chunks + 1) / (chunks holding it + 0.5))
    absent: frozenset[str]  # stems no chunk of the index holds
    kind: str | None  # the kind of answer asked for
    tokens: frozenset[str]  # the question's folded words, for holds_kind
    names: frozenset[str] = frozenset()  # folded names and numbers (see question_names)
    negated: bool = False  # the question holds a negation (is_negated)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def share(self, terms: frozenset[str] | set[str]) -> float:
        total = self.total
        return sum(w for t, w in self.weights.items() if t in terms) / total if total else 0.0


def question_words(reader: IndexReader, question: str) -> QuestionWords:
    """Weigh the question's words by their document frequency over the whole index: a word
    every chunk holds says little, and a word no document holds (a name the folder never
    mentions) says the most: the documents are probably about something else."""
    stems = question_stems(question)
    frequencies = reader.document_frequencies(stems)
    chunks = max(reader.chunks, 1)
    weights = {stem: math.log((chunks + 1) / (frequencies.get(stem, 0) + 0.5)) for stem in stems}
    absent = frozenset(stem for stem in stems if not frequencies.get(stem, 0))
    tokens = frozenset(fold(token) for token in WORD.findall(question))
    return QuestionWords(
        weights,
        absent,
        answer_kind(question),
        tokens,
        question_names(question),
        is_negated(question),
    )


def question_stems(question: str) -> list[str]:
    """The stems question_words asks the index about (IndexReader.prefetch reads them early)."""
    return sorted(content_terms(question))


class SentenceFeatures(NamedTuple):
    """One candidate sentence: where it is, and the numbers the calibrator reads."""

    candidate: int  # index of the first candidate holding it
    raw_start: int
    text: str
    values: tuple[float, ...]  # in FEATURES order

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in zip(FEATURES, self.values, strict=True)}

    @property
    def quotable(self) -> bool:
        """Neither a title or heading nor a sentence that only repeats the question's words:
        such a line is never the quote while another sentence can be."""
        return not (self.values[_HEADING] or self.values[_REPEATS])


def quotable(rows: list[SentenceFeatures]) -> list[bool]:
    """Which rows may be the quote: the quotable ones, or all when none is."""
    flags = [row.quotable for row in rows]
    return flags if any(flags) else [True] * len(rows)


class _Row(NamedTuple):
    position: int
    raw_start: int
    text: str
    terms: frozenset[str]
    cosine: float
    candidate: Candidate
    passage_coverage: float


def sentence_features(
    words: QuestionWords,
    query_vector,
    candidates: list[Candidate],
    pool: int,
    chunk_cosines: Iterable[float] = (),
) -> tuple[list[SentenceFeatures], tuple[float, ...]]:
    """The features of every distinct sentence of the first `pool` candidates, in order, and
    the question's own features (QUESTION_FEATURES order). `chunk_cosines`: the question's
    cosine to every chunk rank_chunks scored (the dense search's depth), for folder_margin."""
    rows: list[_Row] = []
    seen: set[tuple[str, int]] = set()
    question_terms = set(words.weights)
    for position, candidate in enumerate(candidates[:pool]):
        cosines = candidate.sentence_cosines(query_vector)
        texts = [candidate.sentence_text(span) for span in candidate.sentences]
        passage_terms = frozenset().union(*(sentence_terms(text) for text in texts))
        passage_coverage = words.share(passage_terms)
        for index, span in enumerate(candidate.sentences):
            key = sentence_key(candidate, span.raw_start)
            if key in seen:
                continue
            seen.add(key)
            cosine = float(cosines[index]) if cosines is not None else 0.0
            terms = sentence_terms(texts[index])
            rows.append(
                _Row(
                    position,
                    span.raw_start,
                    texts[index],
                    terms,
                    cosine,
                    candidate,
                    passage_coverage,
                )
            )
    local = term_weights(question_terms, [row.terms for row in rows])
    ranked = sorted((row.cosine for row in rows), reverse=True)
    coverages = [words.share(row.terms) for row in rows]
    around = neighbours([row.position for row in rows], coverages, [row.cosine for row in rows])
    features = []
    for row, coverage, beside in zip(rows, coverages, around, strict=True):
        # The best cosine among the other sentences (none: 0.0, a folder of one sentence).
        others_best = ranked[0] if row.cosine != ranked[0] else (ranked[1:] or [0.0])[0]
        type_missing = words.kind is not None and not holds_kind(row.text, words.kind, words.tokens)
        adds = bool(row.terms - question_terms) or question_terms <= row.terms
        local_coverage = weighted_share(local, row.terms)
        values = (
            row.cosine,
            row.cosine - others_best,
            row.candidate.cosine,
            row.candidate.retrieval_score,
            coverage,
            local_coverage,
            row.passage_coverage,
            float(type_missing),
            float(is_heading(row.text)),
            float(not adds),
            math.log1p(row.position),
            *beside,
            float(words.negated and not is_negated(row.text)),
            names_lacking(words.names, text_tokens(row.text)),
        )
        features.append(SentenceFeatures(row.position, row.raw_start, row.text, values))
    top_tokens = frozenset().union(*(text_tokens(row.text) for row in rows if row.position == 0))
    pool_tokens = frozenset().union(*(text_tokens(row.text) for row in rows))
    passages = [candidate.cosine for candidate in candidates[:pool]]
    gaps = (
        max(passages, default=0.0) - min(passages, default=0.0),
        ranked[0] - sum(ranked) / len(ranked) if ranked else 0.0,
        folder_margin(chunk_cosines),
    )
    return features, question_features(words, features, top_tokens, pool_tokens) + gaps


def neighbours(
    passages: list[int], coverages: list[float], cosines: list[float]
) -> list[tuple[float, float, float, float]]:
    """For each sentence, in the order of the rows: the coverage of the sentence before it
    and after it in its passage (`passages`: each row's), then their cosines; 0.0 where its
    passage has none (a sentence met in an earlier passage is not repeated in a later one)."""
    found = []
    for at, passage in enumerate(passages):
        before = at > 0 and passages[at - 1] == passage
        after = at + 1 < len(passages) and passages[at + 1] == passage
        found.append(
            (
                coverages[at - 1] if before else 0.0,
                coverages[at + 1] if after else 0.0,
                cosines[at - 1] if before else 0.0,
                cosines[at + 1] if after else 0.0,
            )
        )
    return found


def folder_margin(chunk_cosines: Iterable[float]) -> float:
    """How far the question's closest chunk stands above its FOLDER_RANK-th closest.

    A paraphrase shares few words with its answer, so its cosine is modest (0.3-0.5), yet
    it stands well above the rest of the folder; a question the folder does not answer
    meets many chunks about as close as its best. The dense search already scored these
    chunks: no model run."""
    nearest = heapq.nlargest(FOLDER_RANK, chunk_cosines)
    return nearest[0] - nearest[-1] if nearest else 0.0


def question_features(
    words: QuestionWords,
    rows: list[SentenceFeatures],
    top_tokens: frozenset[str] = frozenset(),
    pool_tokens: frozenset[str] = frozenset(),
) -> tuple[float, ...]:
    """QUESTION_FEATURES of a question and its candidate sentences; the tokens are the folded
    words of the first passage and of all the candidates."""

    def best(name: str) -> float:
        column = FEATURES.index(name)
        return max((row.values[column] for row in rows), default=0.0)

    type_column = FEATURES.index("type_missing")
    type_nowhere = words.kind is not None and all(row.values[type_column] for row in rows)
    return (
        words.share(words.absent),
        float(min(len(words.absent), 3)),
        best("cosine"),
        best("coverage"),
        best("passage_coverage"),
        best("passage_cosine"),
        float(type_nowhere),
        names_lacking(words.names, top_tokens),
        names_lacking(words.names, pool_tokens),
    )


def question_dict(values: tuple[float, ...]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in zip(QUESTION_FEATURES, values, strict=True)}
