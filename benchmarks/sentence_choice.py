"""Which sentence is the quote, over a whole FeatureTable at once (numpy): the rows that may
be the quote, the softmax of a score over each question's rows, and its top rows. What
calibrate.py fits and measures with, as calibration.Calibrator.judge does one question."""

from __future__ import annotations

import numpy as np
from abstain_data import FeatureTable

from askseed.query.features import FEATURES

HEADING, REPEATS = FEATURES.index("heading"), FEATURES.index("repeats")


def rerank_design(table: FeatureTable, columns: tuple[int, ...]) -> np.ndarray:
    """The RERANK_FEATURES of every row, in `columns`."""
    return np.column_stack([table.x, table.z])[:, list(columns)]


def open_rows(table: FeatureTable) -> np.ndarray:
    """Rows that may be the quote: as in find_answer, a heading or a sentence that only
    repeats the question is the quote only when no other sentence can be (features.quotable)."""
    blocked = (table.x[:, HEADING] > 0) | (table.x[:, REPEATS] > 0)
    has_open = np.zeros(len(table.questions), dtype=bool)
    np.logical_or.at(has_open, table.question, ~blocked)
    return ~(blocked & has_open[table.question])


def shares(table: FeatureTable, scores: np.ndarray) -> np.ndarray:
    """The softmax of the scores over each question's open rows (0 for the others)."""
    return group_softmax(table, scores, open_rows(table))


def group_softmax(table: FeatureTable, scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The softmax of the scores over each question's allowed rows (0 for the others)."""
    scores = np.where(allowed, scores, -np.inf)
    top = np.full(len(table.questions), -np.inf)
    np.maximum.at(top, table.question, scores)
    exp = np.where(allowed, np.exp(scores - top[table.question]), 0.0)
    total = np.zeros(len(table.questions))
    np.add.at(total, table.question, exp)
    return exp / np.maximum(total[table.question], 1e-300)


def ranked(table: FeatureTable, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by question, then share (largest first), then row; and each row's place
    in its question's order (0 for the largest share; ties go to the earlier row)."""
    order = np.lexsort((np.arange(len(share)), -share, table.question))
    owners = table.question[order]
    starts = np.r_[0, np.flatnonzero(owners[1:] != owners[:-1]) + 1]
    place = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    places = np.empty(len(order), dtype=int)
    places[order] = place
    return order, places


def top_rows(table: FeatureTable, share: np.ndarray, top: int) -> np.ndarray:
    """The rows askseed re-ranks: each question's `top` open rows of largest share."""
    return open_rows(table) & (ranked(table, share)[1] < top)
