"""What the calibrator knows about a candidate sentence: a few numbers, cheap to compute.

Every feature comes from what the query path already has: the sentence vectors stored at index
time (so only the question is embedded), the chunk cosines, and the keyword index's document
frequencies over the whole index (one SQLite read of FTS5's term list). Nothing here runs the
model again. calibration.py turns a row of these into a probability.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from askseed.query.retrieve import Candidate
from askseed.query.scoring import sentence_key, term_weights, weighted_share
from askseed.store.reader import IndexReader
from askseed.text import QUESTION_WORDS, STOPWORDS, WORD, content_terms, fold, sentence_terms

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

# Kinds of answer a question can ask for, from its first words.
NUMBER, AMOUNT, DATE, NAME = "number", "amount", "date", "name"
_KIND_PATTERNS = (
    (DATE, re.compile(r"\b(when|(what|which) (year|century|decade|month|day|date|time))\b")),
    # "How much does it cost?" wants a sum or a share, which a count ("5 of 6") is not
    (
        AMOUNT,
        re.compile(
            r"\bhow much\b|\b(what|which) (price|cost|amount|percentage|percent|proportion|share)"
            r"\b|\bcost\b"
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow (many|old|long|far|large|big|tall|high|fast|heavy|often|deep|wide)\b"
            r"|\b(what|which) (number|fraction)\b"
        ),
    ),
    (NAME, re.compile(r"\b(who|whom|whose)\b")),
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions dozen half once twice"
)
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*|\b(" + "|".join(_NUMBER_WORDS.split()) + r")\b", re.IGNORECASE
)
_AMOUNT = re.compile(
    r"[$£€¥]|\d[\d,.]*\s*(%|percent|per cent|pounds?|dollars?|euros?|yen|million|billion"
    r"|thousand|trillion|bn|m\b|k\b)|\b(half|quarter|third|percent|per cent)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b\d+(st|nd|rd|th) century\b|\b(January|February|March|April|May"
    r"|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday"
    r"|Friday|Saturday|Sunday|ago|century|decade|years?|months?|weeks?|days?|morning|afternoon"
    r"|evening|night|noon|midnight|dawn|o'clock|[ap]\.?m|today|tomorrow|yesterday|daily|weekly"
    r"|annually|every|spring|summer|autumn|winter|before|after|during|until|since|nine|ten|eleven"
    r"|twelve|\d{1,2}[:.]\d{2})\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]+")
_FULL_STOP = re.compile(r"[.!?:;\"”’')\]]\s*$")
HEADING_WORDS = 14


# Words that open a yes/no question: "Is it a one-off treatment?"
_AUXILIARIES = frozenset(
    ["is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would"]
    + ["will", "shall", "has", "have", "had", "may", "might", "must"]
)


def is_question(query: str) -> bool:
    """A question (it ends with "?" or opens with a question word or an auxiliary verb),
    rather than a statement: a claim to check or a few keywords."""
    tokens = WORD.findall(query)
    if query.rstrip().endswith("?"):
        return True
    return bool(tokens) and fold(tokens[0]) in (QUESTION_WORDS | _AUXILIARIES)


def answer_kind(question: str) -> str | None:
    """date, amount, number or name when the question asks for one ("when", "how much",
    "how many", "who")."""
    folded = question.casefold()
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return None


@lru_cache(maxsize=100_000)
def holds_kind(sentence: str, kind: str, question_tokens: frozenset[str]) -> bool:
    """Whether the sentence holds a thing of this kind that the question does not already say:
    "How many ... Super Bowl 50?" is not answered by the "50" it repeats."""
    pattern = {NUMBER: _NUMBER, AMOUNT: _AMOUNT, DATE: _DATE, NAME: _NAME}[kind]
    return any(
        fold(match.group()) not in question_tokens
        and not (match.group().isdigit() and match.group() in question_tokens)
        for match in pattern.finditer(sentence)
    )


@lru_cache(maxsize=100_000)
def is_heading(sentence: str) -> bool:
    """A title or heading: a short line that does not end like a sentence."""
    return len(WORD.findall(sentence)) < HEADING_WORDS and not _FULL_STOP.search(sentence)


class QuestionWords(NamedTuple):
    """The question's content words and what each weighs: its rarity over the whole index."""

    weights: dict[str, float]  # stem -> log((chunks + 1) / (chunks holding it + 0.5))
    absent: frozenset[str]  # stems no chunk of the index holds
    kind: str | None  # the kind of answer asked for
    tokens: frozenset[str]  # the question's folded words, for holds_kind
    names: frozenset[str] = frozenset()  # folded names and numbers (see question_names)

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
    return QuestionWords(weights, absent, answer_kind(question), tokens, question_names(question))


def question_stems(question: str) -> list[str]:
    """The stems question_words asks the index about (IndexReader.prefetch reads them early)."""
    return sorted(content_terms(question))


def question_names(question: str) -> frozenset[str]:
    """The question's names and numbers, folded: capitalised words after the first, and any
    word with a digit, leaving out question words and stopwords."""
    found = set()
    for index, token in enumerate(WORD.findall(question)):
        folded = fold(token)
        if folded in STOPWORDS or folded in QUESTION_WORDS:
            continue
        if any(char.isdigit() for char in token) or (index > 0 and token[0].isupper()):
            found.add(folded)
    return frozenset(found)


@lru_cache(maxsize=100_000)
def text_tokens(text: str) -> frozenset[str]:
    return frozenset(fold(token) for token in WORD.findall(text))


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

    def missing(tokens: frozenset[str]) -> float:
        return len(words.names - tokens) / len(words.names) if words.names else 0.0

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
        missing(top_tokens),
        missing(pool_tokens),
    )


def question_dict(values: tuple[float, ...]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in zip(QUESTION_FEATURES, values, strict=True)}
