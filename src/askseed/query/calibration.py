"""Confidence: the estimated probability that a quoted sentence answers the question.

- Which sentence: a softmax over the question's candidate sentences of a linear score of
  their features (features.FEATURES), a conditional logit fitted on answerable questions:
  each sentence's share, P(this sentence is the answer | the documents answer). The quote is
  the sentence with the largest share.
- Whether the documents answer: a logistic regression over the question's features
  (features.QUESTION_FEATURES) and the quote's share, fitted on "the question is
  answerable", whose log-odds are then Platt-rescaled against "the quote holds a gold
  answer". That is the quote's confidence: of the answers given with 70%, about 70% quote
  the answer. askseed answers when it is at or above the line.
- Any other sentence's confidence is the quote's, scaled by its share over the quote's.

All of it is fitted by benchmarks/calibrate.py on squad-a-abstain, cross-validated by
article, and kept in calibration.json beside this file. The quote is always the most
confident sentence, so that the quote and its confidence agree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from askseed.query.features import FEATURES, QUESTION_FEATURES

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
BEST_SHARE = "best_share"  # the softmax's probability of its best sentence, an input of (2)


@dataclass(frozen=True)
class Judgement:
    """What the calibrator concluded about one question's candidate sentences."""

    confidences: list[float]  # one per sentence, in the order given
    shares: list[float]  # P(this sentence is the answer | the documents answer)
    answerable: float  # P(the question is answerable), before the rescaling


@dataclass(frozen=True)
class Calibrator:
    sentence_weights: tuple[float, ...]  # FEATURES order
    question_weights: tuple[float, ...]  # QUESTION_FEATURES order, then BEST_SHARE
    question_bias: float
    slope: float  # the quote's confidence = sigmoid(slope * answerable log-odds + intercept)
    intercept: float
    # askseed answers when the quote's confidence is at or above this line.
    line: float

    def sentence_score(self, values: tuple[float, ...]) -> float:
        return _dot(self.sentence_weights, values)

    def answerable_log_odds(self, question: tuple[float, ...], best_share: float) -> float:
        return self.question_bias + _dot(self.question_weights, (*question, best_share))

    def judge(self, rows: list[tuple[float, ...]], question: tuple[float, ...]) -> Judgement:
        """The confidence of each candidate sentence (rows of FEATURES values)."""
        if not rows:
            return Judgement([], [], 0.0)
        scores = [self.sentence_score(values) for values in rows]
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        total = sum(weights)
        shares = [weight / total for weight in weights]
        best_share = max(shares)
        log_odds = self.answerable_log_odds(question, best_share)
        quote = sigmoid(self.slope * log_odds + self.intercept)
        confidences = [quote * share / best_share for share in shares]
        return Judgement(confidences, shares, sigmoid(log_odds))

    def explain(
        self, values: tuple[float, ...], question: tuple[float, ...], best_share: float
    ) -> dict[str, dict[str, float]]:
        """What each feature adds: to the best sentence's score (against the other sentences),
        and to the log-odds that the documents answer at all."""
        sentence = {
            name: round(weight * value, 4)
            for name, weight, value in zip(FEATURES, self.sentence_weights, values, strict=True)
        }
        names = (*QUESTION_FEATURES, BEST_SHARE)
        answerable = {
            name: round(weight * value, 4)
            for name, weight, value in zip(
                names, self.question_weights, (*question, best_share), strict=True
            )
        }
        answerable["constant"] = round(self.question_bias, 4)
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


def calibrator_from_json(data: dict) -> Calibrator:
    return Calibrator(
        sentence_weights=_weights(data["sentence_weights"], FEATURES, "sentence_weights"),
        question_weights=_weights(
            data["question_weights"], (*QUESTION_FEATURES, BEST_SHARE), "question_weights"
        ),
        question_bias=float(data["question_bias"]),
        slope=float(data["slope"]),
        intercept=float(data["intercept"]),
        line=float(data["line"]),
    )


@lru_cache(maxsize=1)
def load_calibrator() -> Calibrator:
    """The shipped calibrator (read once: the file is under a kilobyte)."""
    return calibrator_from_json(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))
