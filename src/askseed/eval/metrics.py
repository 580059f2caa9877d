"""Ranking and answer metrics for evaluating askseed against published benchmarks.

nDCG@k matches trec_eval's ``ndcg_cut`` (used by pytrec_eval and BEIR): the gain of a document is
its relevance grade itself (not 2**rel - 1), the document at 1-based rank r is discounted by
log2(r + 1), and the ideal ranking sorts every judged document of the query by grade.
Judgments of 0 or below add no gain.

A ranking is a list of ids, best first. An id repeated later in the list is ignored (it takes
no rank), as a run scored with pytrec_eval can hold each document only once.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable


def _unique_top(ranked_ids: list[str], k: int) -> list[str]:
    """The first k distinct ids, keeping the rank of each id's first appearance."""
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}")
    seen: set[str] = set()
    top: list[str] = []
    for doc_id in ranked_ids:
        if len(top) == k:
            break
        if doc_id not in seen:
            seen.add(doc_id)
            top.append(doc_id)
    return top


def _discounted_gain(grades: Iterable[int]) -> float:
    return sum(max(grade, 0) / math.log2(rank + 1) for rank, grade in enumerate(grades, start=1))


def ndcg_at_k(ranked_ids: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top k; 0.0 when nothing is relevant."""
    top = _unique_top(ranked_ids, k)
    ideal = sorted(relevance.values(), reverse=True)[:k]
    ideal_gain = _discounted_gain(ideal)
    if ideal_gain == 0:
        return 0.0
    return _discounted_gain(relevance.get(doc_id, 0) for doc_id in top) / ideal_gain


def recall_at_k(ranked_ids: list[str], relevance: dict[str, int], k: int) -> float:
    """Share of the relevant documents (grade above 0) found in the top k; 0.0 when none exist."""
    relevant = {doc_id for doc_id, grade in relevance.items() if grade > 0}
    if not relevant:
        return 0.0
    found = sum(1 for doc_id in _unique_top(ranked_ids, k) if doc_id in relevant)
    return found / len(relevant)


def mrr_at_k(ranked_ids: list[str], relevance: dict[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document in the top k; 0.0 when there is none."""
    for rank, doc_id in enumerate(_unique_top(ranked_ids, k), start=1):
        if relevance.get(doc_id, 0) > 0:
            return 1.0 / rank
    return 0.0


def answer_found(quote: str, answers: list[str]) -> bool:
    """Whether any gold answer appears in the quote, ignoring case."""
    folded = quote.casefold()
    return any(answer.strip() and answer.strip().casefold() in folded for answer in answers)


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; 0.0 for no values, so an empty evaluation reports zero, not a crash."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def auroc(positives: list[float], negatives: list[float]) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative, a tie counting half (Mann-Whitney U / (n+ * n-)). None when a side is empty."""
    if not positives or not negatives:
        return None
    ordered = sorted(negatives)
    wins = 0.0
    for score in positives:
        below = bisect.bisect_left(ordered, score)
        ties = bisect.bisect_right(ordered, score) - below
        wins += below + ties / 2
    return wins / (len(positives) * len(negatives))


def expected_calibration_error(
    confidences: list[float], correct: list[bool], bins: int = 10
) -> float | None:
    """Sum over equal-width confidence bins of (share of answers in the bin) * |accuracy in
    the bin - mean confidence in the bin|; a confidence of 1.0 falls in the last bin. None
    for no answers."""
    if len(confidences) != len(correct):
        raise ValueError("one correctness value per confidence")
    if not confidences:
        return None
    members: list[list[int]] = [[] for _ in range(bins)]
    for index, confidence in enumerate(confidences):
        members[min(int(confidence * bins), bins - 1)].append(index)
    total = len(confidences)
    error = 0.0
    for chosen in members:
        if chosen:
            accuracy = sum(1.0 for i in chosen if correct[i]) / len(chosen)
            mean_confidence = sum(confidences[i] for i in chosen) / len(chosen)
            error += len(chosen) / total * abs(accuracy - mean_confidence)
    return error
