import math

import pytest

from askseed.eval.metrics import (
    answer_found,
    auroc,
    expected_calibration_error,
    mean,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
)

# Discounts: rank r is divided by log2(r + 1).
D1, D2, D3, D4 = 1.0, 1 / math.log2(3), 1 / math.log2(4), 1 / math.log2(5)  # D3 = 0.5

GRADED = {"a": 2, "b": 1, "c": 0}  # c is judged but not relevant
THREE = {"a1": 1, "b3": 3, "c2": 2}

NDCG_CASES = [
    # ideal: a(2) then b(1) -> 2*D1 + 1*D2
    pytest.param(["a", "b"], GRADED, 10, 1.0, id="ideal order"),
    # b, a -> (1*D1 + 2*D2) / (2*D1 + 1*D2) = 2.2619 / 2.6309
    pytest.param(["b", "a"], GRADED, 10, (D1 + 2 * D2) / (2 + D2), id="graded swap"),
    # gain is the grade itself, not 2**grade - 1: x, a -> 2*D2 / (2 + D2)
    pytest.param(["x", "a"], GRADED, 10, 2 * D2 / (2 + D2), id="linear gain"),
    # k=1 keeps only b; ideal at k=1 is a alone -> 1 / 2
    pytest.param(["b", "a"], GRADED, 1, 0.5, id="cutoff 1"),
    # a at rank 3 counts with k=3, drops out with k=2
    pytest.param(["x", "y", "a"], GRADED, 3, 2 * D3 / (2 + D2), id="inside cutoff"),
    pytest.param(["x", "y", "a"], GRADED, 2, 0.0, id="outside cutoff"),
    # the repeated b takes no rank: b, a -> same as graded swap
    pytest.param(["b", "b", "a"], GRADED, 10, (D1 + 2 * D2) / (2 + D2), id="duplicate once"),
    # with k=2 the duplicate does not push a out: still b, a
    pytest.param(["b", "b", "a"], GRADED, 2, (D1 + 2 * D2) / (2 + D2), id="duplicate vs cutoff"),
    # c has grade 0: no gain at rank 1; b at rank 2 -> 1*D2 / (2 + D2)
    pytest.param(["c", "b"], GRADED, 10, D2 / (2 + D2), id="judged zero"),
    pytest.param(["a", "b"], {"a": 0, "b": 0}, 10, 0.0, id="nothing relevant"),
    pytest.param(["a"], {}, 10, 0.0, id="no judgments"),
    pytest.param([], GRADED, 10, 0.0, id="empty ranking"),
    # three relevant docs but k=2, so the ideal is the best two, b3 then c2: 3*D1 + 2*D2;
    # ranking c2, a1 -> 2*D1 + 1*D2
    pytest.param(["c2", "a1"], THREE, 2, (2 + D2) / (3 + 2 * D2), id="ideal k"),
]


@pytest.mark.parametrize(("ranking", "relevance", "k", "expected"), NDCG_CASES)
def test_ndcg_at_k(ranking, relevance, k, expected):
    assert ndcg_at_k(ranking, relevance, k) == pytest.approx(expected)


RECALL_CASES = [
    # relevant = {a, b}; c has grade 0
    pytest.param(["a", "c", "b"], GRADED, 10, 1.0, id="all found"),
    pytest.param(["a", "c", "b"], GRADED, 2, 0.5, id="cutoff halves"),
    pytest.param(["c", "x"], GRADED, 10, 0.0, id="only irrelevant"),
    pytest.param(["a", "a", "b"], GRADED, 2, 1.0, id="duplicate once"),
    pytest.param(["a"], {"a": 0}, 10, 0.0, id="nothing relevant"),
]


@pytest.mark.parametrize(("ranking", "relevance", "k", "expected"), RECALL_CASES)
def test_recall_at_k(ranking, relevance, k, expected):
    assert recall_at_k(ranking, relevance, k) == pytest.approx(expected)


MRR_CASES = [
    pytest.param(["a", "b"], GRADED, 10, 1.0, id="first"),
    # c (grade 0) and x are not relevant; b at rank 3 -> 1/3
    pytest.param(["c", "x", "b"], GRADED, 10, 1 / 3, id="third"),
    pytest.param(["c", "x", "b"], GRADED, 2, 0.0, id="beyond cutoff"),
    # the repeated c takes no rank, so b is second
    pytest.param(["c", "c", "b"], GRADED, 10, 0.5, id="duplicate once"),
    pytest.param(["a"], {}, 10, 0.0, id="no judgments"),
]


@pytest.mark.parametrize(("ranking", "relevance", "k", "expected"), MRR_CASES)
def test_mrr_at_k(ranking, relevance, k, expected):
    assert mrr_at_k(ranking, relevance, k) == pytest.approx(expected)


def test_negative_k_is_an_error():
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k(["a"], {"a": 1}, -1)


@pytest.mark.parametrize(
    ("quote", "answers", "expected"),
    [
        ("The Denver Broncos won.", ["Denver Broncos"], True),
        ("the denver broncos won.", ["Denver Broncos"], True),
        ("The Broncos won.", ["Denver Broncos", "Broncos"], True),
        ("The Panthers lost.", ["Denver Broncos"], False),
        ("Anything at all.", [], False),
        ("Anything at all.", ["", "  "], False),  # a blank answer would match every quote
    ],
)
def test_answer_found(quote, answers, expected):
    assert answer_found(quote, answers) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0, 0.0, 0.5], 0.5), ([0.25], 0.25), ([], 0.0), ((value for value in [1, 2]), 1.5)],
)
def test_mean(values, expected):
    assert mean(values) == pytest.approx(expected)


AUROC_CASES = [
    pytest.param([0.9, 0.8], [0.1, 0.2], 1.0, id="separated"),
    pytest.param([0.1], [0.9], 0.0, id="reversed"),
    pytest.param([0.5], [0.5], 0.5, id="a tie counts half"),
    # pairs: 0.9 > 0.5, 0.9 > 0.1, 0.4 < 0.5, 0.4 > 0.1 -> 3 of 4
    pytest.param([0.9, 0.4], [0.5, 0.1], 0.75, id="three of four pairs"),
    # 0.6 vs 0.6 ties twice (2 * 0.5), 0.6 > 0.2 twice -> 3 of 4
    pytest.param([0.6, 0.6], [0.6, 0.2], 0.75, id="ties and wins"),
    pytest.param([], [0.2], None, id="no positives"),
    pytest.param([0.2], [], None, id="no negatives"),
]


@pytest.mark.parametrize(("positives", "negatives", "expected"), AUROC_CASES)
def test_auroc(positives, negatives, expected):
    result = auroc(positives, negatives)
    assert result == (None if expected is None else pytest.approx(expected))


ECE_CASES = [
    # one bin [0.9, 1.0]: accuracy 1, confidence 0.95
    pytest.param([0.95, 0.95], [True, True], 0.05, id="slightly under-confident"),
    # bin [0.2, 0.3): accuracy 0.5 vs 0.25; bin [0.7, 0.8): 1 vs 0.75; each half the answers
    pytest.param(
        [0.25, 0.25, 0.75, 0.75], [False, True, True, True], 0.5 * 0.25 + 0.5 * 0.25, id="two bins"
    ),
    pytest.param([1.0], [True], 0.0, id="1.0 falls in the last bin"),
    pytest.param([0.0], [False], 0.0, id="0.0 falls in the first bin"),
    # bins [0.3, 0.4): |1 - 0.3|; [0.5, 0.6): |0 - 0.5|; half each
    pytest.param([0.3, 0.5], [True, False], 0.5 * 0.7 + 0.5 * 0.5, id="one answer a bin"),
    pytest.param([], [], None, id="no answers"),
]


@pytest.mark.parametrize(("confidences", "correct", "expected"), ECE_CASES)
def test_expected_calibration_error(confidences, correct, expected):
    result = expected_calibration_error(confidences, correct)
    assert result == (None if expected is None else pytest.approx(expected))


def test_expected_calibration_error_needs_one_outcome_per_confidence():
    with pytest.raises(ValueError):
        expected_calibration_error([0.5, 0.6], [True])
