"""Confidence: the estimated probability that a quoted sentence answers the question.

- Which sentence: a softmax over the question's candidate sentences of a linear score of
  their features (features.FEATURES), a conditional logit fitted on answerable questions:
  each sentence's share, P(this sentence is the answer | the documents answer). The quote is
  the sentence with the largest share.
- Whether the documents answer: a logistic regression over the question's features
  (features.QUESTION_FEATURES), the quote's share and the quote's own QUOTE_FEATURES (its
  token-level alignment with the question, alignment.py), fitted on "the question is
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

from askseed.query.features import FEATURES, QUESTION_FEATURES

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
BEST_SHARE = "best_share"  # the softmax's probability of its best sentence, an input of (2)
# What (2) reads of the quote alone, once it is chosen: too costly to compute for every
# candidate sentence (it runs the model on the quote), so it never changes which one it is.
QUOTE_FEATURES = ("alignment",)  # alignment.quote_alignment of the question and the quote


class Judgement(NamedTuple):
    """What the calibrator concluded about one question's candidate sentences."""

    confidences: list[float]  # one per sentence, in the order given
    shares: list[float]  # P(this sentence is the answer | the documents answer)
    answerable: float  # P(the question is answerable), before the rescaling
    quote: tuple[float, ...] = ()  # the quote's QUOTE_FEATURES, as the head read them


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
    def reads_quote(self) -> bool:
        return any(self.weights[len(QUESTION_FEATURES) + 1 :])


class Calibrator(NamedTuple):
    sentence_weights: tuple[float, ...]  # FEATURES order
    # A question ("Who led the trial?") and a statement (a claim, a few keywords) are told
    # apart by features.is_question; each has its own fit of whether the documents answer.
    question: Head
    statement: Head
    # askseed answers when the quote's confidence is at or above this line.
    line: float
    # QUOTE_FEATURES when they cannot be computed (an embedder without token vectors): their
    # mean over the answerable questions fitted on.
    quote_defaults: tuple[float, ...] = (0.0,) * len(QUOTE_FEATURES)

    def sentence_score(self, values: tuple[float, ...]) -> float:
        return _dot(self.sentence_weights, values)

    def judge(
        self,
        rows: list[tuple[float, ...]],
        question: tuple[float, ...],
        asks: bool = True,
        quote_features: Callable[[int], tuple[float, ...]] | None = None,
    ) -> Judgement:
        """The confidence of each candidate sentence (rows of FEATURES values); `asks`
        says whether the query is a question rather than a statement; `quote_features`
        gives the QUOTE_FEATURES of the row chosen as the quote (its index), when they can
        be computed."""
        if not rows:
            return Judgement([], [], 0.0)
        scores = [self.sentence_score(values) for values in rows]
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        total = sum(weights)
        shares = [weight / total for weight in weights]
        best_share = max(shares)
        head = self.question if asks else self.statement
        quote_values = self.quote_defaults
        if quote_features is not None and head.reads_quote:
            quote_values = quote_features(shares.index(best_share))
        log_odds = head.log_odds(question, best_share, quote_values)
        quote = sigmoid(head.slope * log_odds + head.intercept)
        confidences = [quote * share / best_share for share in shares]
        return Judgement(confidences, shares, sigmoid(log_odds), quote_values)

    def explain(
        self,
        values: tuple[float, ...],
        question: tuple[float, ...],
        best_share: float,
        asks: bool = True,
        quote: tuple[float, ...] | None = None,
    ) -> dict[str, dict[str, float]]:
        """What each feature adds: to the best sentence's score (against the other sentences),
        and to the log-odds that the documents answer at all."""
        sentence = {
            name: round(weight * value, 4)
            for name, weight, value in zip(FEATURES, self.sentence_weights, values, strict=True)
        }
        head = self.question if asks else self.statement
        names = (*QUESTION_FEATURES, BEST_SHARE, *QUOTE_FEATURES)
        quote = self.quote_defaults if quote is None else quote
        answerable = {
            name: round(weight * value, 4)
            for name, weight, value in zip(
                names, head.weights, (*question, best_share, *quote), strict=True
            )
        }
        answerable["constant"] = round(head.bias, 4)
        return {"sentence_score": sentence, "answerable_log_odds": answerable}


def _dot(weights: tuple[float, ...], values: tuple[float, ...]) -> float:
    return sum(w * v for w, v in zip(weights, values, strict=True))


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
        quote_defaults=_weights(data["quote_defaults"], QUOTE_FEATURES, "quote_defaults"),
    )


@lru_cache(maxsize=1)
def load_calibrator() -> Calibrator:
    """The shipped calibrator (read once: the file is under a kilobyte)."""
    return calibrator_from_json(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))
