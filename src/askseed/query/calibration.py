"""Confidence: the estimated probability that a quoted sentence answers the question.

- Which sentence, in two steps, both conditional logits (a softmax over a question's
  candidate sentences) fitted on answerable questions: each sentence's share, P(this sentence
  is the answer | the documents answer). The quote is the sentence with the largest share.
  1. A linear score of each sentence's features (features.FEATURES), cheap to compute.
  2. Re-ranking: the few sentences with the largest shares (`rerank_top`) are read by the
     model in one pass, for their token-level alignment with the question (alignment.py),
     and share out their joint share again, by a softmax of a second linear score of their
     FEATURES and ALIGNMENT_FEATURES. The other sentences keep their share, each below the
     re-ranked ones' mean, so the quote is always one of the re-ranked. When step 1 already
     gives one sentence `settled_share` or more, step 2 is skipped and only that sentence is
     read: held out, the re-ranking almost never overturns such a choice, and skipping it
     saves two thirds of the pass for about half the questions.
- Whether the documents answer: a logistic regression over the question's features
  (features.QUESTION_FEATURES), the quote's share and the quote's QUOTE_FEATURES (its
  alignment, and whether it lacks the question's negation), fitted on "the question is
  answerable", whose log-odds are then Platt-rescaled against "the quote holds a gold
  answer". That is the quote's confidence: of the answers given with 70%, about 70% quote
  the answer. askseed answers when it is at or above the line. A question and a statement
  (a claim, a few keywords) each have their own fit, on the same features.
- Any other sentence's confidence is the quote's, scaled by its share over the quote's.

All of it is fitted by benchmarks/calibrate.py on squad-a-abstain, cross-validated by
article, and kept in calibration.json beside this file. The quote is always the most
confident sentence, so that the quote and its confidence agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from askseed.query.alignment import ALIGNMENT_FEATURES
from askseed.query.features import FEATURES, QUESTION_FEATURES

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
BEST_SHARE = "best_share"  # the softmax's probability of its best sentence, an input of (2)
# What the answerable heads read of the quote, once it is chosen: its alignment with the
# question (computed for the re-ranked sentences only, as it runs the model on them), then
# some of its FEATURES: a question about what is not so, quoted a sentence that says nothing
# is not, is seldom answered by it (its weight in the choice alone cannot say so, as the
# choice compares the question's sentences with one another).
QUOTE_SENTENCE_FEATURES = ("lacks_negation",)
QUOTE_FEATURES = (*ALIGNMENT_FEATURES, *QUOTE_SENTENCE_FEATURES)
_QUOTE_COLUMNS = tuple(FEATURES.index(name) for name in QUOTE_SENTENCE_FEATURES)
# What the re-ranking reads of each of the top sentences: its features, its alignment.
RERANK_FEATURES = (*FEATURES, *ALIGNMENT_FEATURES)
# A settled_share no sentence reaches (shares are at most 1): every question re-ranked.
NEVER_SETTLED = 2.0
# The ALIGNMENT_FEATURES of some candidate sentences (by their index), from one model pass.
Alignments = Callable[[list[int]], list[tuple[float, ...]]]


class Judgement(NamedTuple):
    """What the calibrator concluded about one question's candidate sentences."""

    confidences: list[float]  # one per sentence, in the order given
    shares: list[float]  # P(this sentence is the answer | the documents answer)
    answerable: float  # P(the question is answerable), before the rescaling
    quote: tuple[float, ...] = ()  # the quote's QUOTE_FEATURES, as the head read them
    reranked: bool = False  # whether step 2 re-ranked the top sentences


class Head(NamedTuple):
    """Whether the documents answer, for one form of query (a question, or a statement)."""

    weights: tuple[float, ...]  # QUESTION_FEATURES order, then BEST_SHARE, QUOTE_FEATURES
    bias: float
    slope: float  # the quote's confidence = sigmoid(slope * log-odds + intercept)
    intercept: float

    def log_odds(
        self, question: tuple[float, ...], best_share: float, quote: tuple[float, ...]
    ) -> float:
        return self.bias + _dot(self.weights, (*question, best_share, *quote))

    @property
    def reads_alignment(self) -> bool:
        start = len(QUESTION_FEATURES) + 1
        return any(self.weights[start : start + len(ALIGNMENT_FEATURES)])


class Calibrator(NamedTuple):
    sentence_weights: tuple[float, ...]  # FEATURES order
    # A question ("Who led the trial?") and a statement (a claim, a few keywords) are told
    # apart by wording.is_question; each has its own fit of whether the documents answer.
    question: Head
    statement: Head
    # askseed answers when the quote's confidence is at or above this line.
    line: float
    # The quote's ALIGNMENT_FEATURES when they cannot be computed (an embedder without token
    # vectors): their mean over the answerable questions fitted on.
    quote_defaults: tuple[float, ...] = (0.0,) * len(ALIGNMENT_FEATURES)
    # The re-ranking (step 2): how many of the top sentences, and its weights (RERANK_FEATURES
    # order). 0 sentences: none, the first step's shares stand.
    rerank_top: int = 0
    rerank_weights: tuple[float, ...] = (0.0,) * len(RERANK_FEATURES)
    # Step 1's best share at or above which its choice stands without the re-ranking.
    settled_share: float = NEVER_SETTLED

    def sentence_score(self, values: tuple[float, ...]) -> float:
        return _dot(self.sentence_weights, values)

    def judge(
        self,
        rows: list[tuple[float, ...]],
        question: tuple[float, ...],
        asks: bool = True,
        alignments: Alignments | None = None,
        passages: list[int] | None = None,
    ) -> Judgement:
        """The confidence of each candidate sentence (rows of FEATURES values); `asks`
        says whether the query is a question rather than a statement; `alignments` gives the
        ALIGNMENT_FEATURES of the sentences asked for, when they can be computed (it is
        called once, with the sentences to re-rank, or the quote alone).

        `passages` gives the passage each row is in. A statement's re-ranking then stays in
        the passage of the first step's best sentence, so the passages keep their order: for
        a claim the document matters more than the sentence, and re-ranking across passages
        moved a less relevant document first on SciFact (nDCG@10 0.7429 -> 0.7376)."""
        if not rows:
            return Judgement([], [], 0.0)
        scores = [self.sentence_score(values) for values in rows]
        shares = softmax(scores)
        head = self.question if asks else self.statement
        aligned: dict[int, tuple[float, ...]] = {}
        reranks = alignments is not None and self.rerank_top > 0
        reranks = reranks and max(shares) < self.settled_share
        if alignments is not None and (reranks or head.reads_alignment):
            within = None if asks or passages is None else passages
            top = top_rows(shares, self.rerank_top if reranks else 1, within)
            aligned = dict(zip(top, alignments(top), strict=True))
            if reranks:
                shares = self.rerank(shares, rows, aligned)
        best_share = max(shares)
        best = shares.index(best_share)
        quote_values = self.quote_values(rows[best], aligned.get(best))
        log_odds = head.log_odds(question, best_share, quote_values)
        quote = sigmoid(head.slope * log_odds + head.intercept)
        confidences = [quote * share / best_share for share in shares]
        return Judgement(confidences, shares, sigmoid(log_odds), quote_values, reranks)

    def quote_values(
        self, values: tuple[float, ...], alignment: tuple[float, ...] | None
    ) -> tuple[float, ...]:
        """The quote's QUOTE_FEATURES, from its FEATURES `values` and its alignment (None:
        not computed)."""
        alignment = self.quote_defaults if alignment is None else alignment
        return (*alignment, *(values[column] for column in _QUOTE_COLUMNS))

    def rerank(
        self,
        shares: list[float],
        rows: list[tuple[float, ...]],
        aligned: dict[int, tuple[float, ...]],
    ) -> list[float]:
        """The shares after step 2: the re-ranked sentences (`aligned`, by index) share out
        their joint share by a softmax of their second score; the others keep theirs."""
        top = list(aligned)
        joint = sum(shares[index] for index in top)
        second = softmax(
            [_dot(self.rerank_weights, (*rows[index], *aligned[index])) for index in top]
        )
        shares = list(shares)
        for index, part in zip(top, second, strict=True):
            shares[index] = joint * part
        return shares

    def explain(
        self,
        values: tuple[float, ...],
        question: tuple[float, ...],
        best_share: float,
        asks: bool = True,
        quote: tuple[float, ...] | None = None,
        reranked: bool = True,
    ) -> dict[str, dict[str, float]]:
        """What each feature adds: to the best sentence's score (against the other sentences),
        to its second score when the top sentences are re-ranked, and to the log-odds that
        the documents answer at all."""
        sentence = {
            name: round(weight * value, 4)
            for name, weight, value in zip(FEATURES, self.sentence_weights, values, strict=True)
        }
        quote = self.quote_values(values, None) if quote is None else quote
        effects = {"sentence_score": sentence}
        if self.rerank_top and reranked:
            effects["rerank_score"] = {
                name: round(weight * value, 4)
                for name, weight, value in zip(
                    RERANK_FEATURES,
                    self.rerank_weights,
                    (*values, *quote[: len(ALIGNMENT_FEATURES)]),
                    strict=True,
                )
            }
        head = self.question if asks else self.statement
        names = (*QUESTION_FEATURES, BEST_SHARE, *QUOTE_FEATURES)
        answerable = {
            name: round(weight * value, 4)
            for name, weight, value in zip(
                names, head.weights, (*question, best_share, *quote), strict=True
            )
        }
        answerable["constant"] = round(head.bias, 4)
        return effects | {"answerable_log_odds": answerable}


def _dot(weights: tuple[float, ...], values: tuple[float, ...]) -> float:
    return sum(w * v for w, v in zip(weights, values, strict=True))


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp(score - top) for score in scores]
    total = sum(weights)
    return [weight / total for weight in weights]


def top_rows(shares: list[float], count: int, groups: list[int] | None = None) -> list[int]:
    """The indices of the `count` largest shares, largest first; on a tie the earlier. With
    `groups` (one per share), only those in the group of the largest."""
    ranked = sorted(range(len(shares)), key=lambda index: (-shares[index], index))
    if groups is not None:
        ranked = [index for index in ranked if groups[index] == groups[ranked[0]]]
    return ranked[:count]


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _weights(weights: dict, names: tuple[str, ...], what: str) -> tuple[float, ...]:
    if set(weights) != set(names):
        raise ValueError(f"calibration {what} {sorted(weights)} differ from {sorted(names)}")
    return tuple(float(weights[name]) for name in names)


def _head(data: dict, name: str) -> Head:
    head = data[name]
    return Head(
        weights=_weights(
            head["weights"], (*QUESTION_FEATURES, BEST_SHARE, *QUOTE_FEATURES), f"{name} weights"
        ),
        bias=float(head["bias"]),
        slope=float(head["slope"]),
        intercept=float(head["intercept"]),
    )


def calibrator_from_json(data: dict) -> Calibrator:
    return Calibrator(
        sentence_weights=_weights(data["sentence_weights"], FEATURES, "sentence_weights"),
        question=_head(data, "question"),
        statement=_head(data, "statement"),
        line=float(data["line"]),
        quote_defaults=_weights(data["quote_defaults"], ALIGNMENT_FEATURES, "quote_defaults"),
        rerank_top=int(data["rerank"]["top"]),
        rerank_weights=_weights(data["rerank"]["weights"], RERANK_FEATURES, "rerank weights"),
        settled_share=float(data["rerank"]["settled_share"]),
    )


@lru_cache(maxsize=1)
def load_calibrator() -> Calibrator:
    """The shipped calibrator (read once: the file is under a kilobyte)."""
    return calibrator_from_json(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))
