"""The confidence: its features (pure steps, parametrize tables), the calibrator's arithmetic,
the document frequencies it reads from the keyword index, and `askseed ask --explain`."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

from askseed.engine import Engine
from askseed.query import answer as answer_module
from askseed.query.alignment import (
    ALIGNMENT_FEATURES,
    Aligner,
    PieceKinds,
    alignment,
    alignment_features,
    piece_kinds,
)
from askseed.query.calibration import (
    NEVER_SETTLED,
    QUOTE_FEATURES,
    RERANK_FEATURES,
    Calibrator,
    Head,
    load_calibrator,
    sigmoid,
    top_rows,
)
from askseed.query.features import FEATURES, QUESTION_FEATURES, folder_margin, neighbours
from askseed.store.keyword import Bm25Index, Fts5Index
from askseed.ui import cli
from conftest import FAKE_CALIBRATOR

# --- the calibrator ------------------------------------------------------------------------

HEAD = Head(
    weights=(0.0,) * len(QUESTION_FEATURES) + (2.0,) + (0.0,) * len(QUOTE_FEATURES),
    bias=-1.0,
    slope=1.0,
    intercept=0.0,
)
CALIBRATOR = Calibrator(
    sentence_weights=tuple(1.0 if name == "cosine" else 0.0 for name in FEATURES),
    question=HEAD,
    statement=Head(weights=HEAD.weights, bias=0.0, slope=1.0, intercept=0.0),
    line=0.5,
)


def row(cosine: float) -> tuple[float, ...]:
    return tuple(cosine if name == "cosine" else 0.0 for name in FEATURES)


def test_judge_by_hand():
    question = (0.0,) * len(QUESTION_FEATURES)
    judgement = CALIBRATOR.judge([row(math.log(3)), row(0.0)], question)
    # softmax of (log 3, 0) = (3/4, 1/4); the quote's log-odds = -1 + 2 * 3/4 = 0.5
    assert judgement.shares == pytest.approx([0.75, 0.25])
    assert judgement.confidences[0] == pytest.approx(sigmoid(0.5))
    assert judgement.confidences[1] == pytest.approx(sigmoid(0.5) / 3)
    # a statement has its own head: log-odds 0 + 2 * 3/4
    statement = CALIBRATOR.judge([row(math.log(3)), row(0.0)], question, asks=False)
    assert statement.confidences[0] == pytest.approx(sigmoid(1.5))


@pytest.mark.parametrize(
    ("cosines", "margin"),
    [
        ([], 0.0),  # nothing scored
        ([0.4], 0.0),  # a folder of one chunk: nothing to stand above
        ([0.2, 0.6, 0.1], 0.5),  # fewer chunks than FOLDER_RANK: the last one
        ([0.0] * 100 + [0.3] + [0.5] * 48 + [0.9], 0.6),  # the 50th closest, in any order
    ],
)
def test_folder_margin(cosines, margin):
    assert folder_margin(iter(cosines)) == pytest.approx(margin)


@pytest.mark.parametrize(
    ("passages", "expected"),
    [
        ([], []),
        ([0], [(0.0, 0.0, 0.0, 0.0)]),  # alone in its passage
        # coverage before, after, then cosine before, after: rows i have coverage i / 10
        # and cosine i / 100
        ([0, 0, 0], [(0, 0.1, 0, 0.01), (0.0, 0.2, 0.0, 0.02), (0.1, 0, 0.01, 0)]),
        # a passage ends where the next begins: neighbours never cross it
        ([0, 0, 1, 1], [(0, 0.1, 0, 0.01), (0.0, 0, 0.0, 0), (0, 0.3, 0, 0.03), (0.2, 0, 0.02, 0)]),
    ],
)
def test_neighbours(passages, expected):
    coverages = [i / 10 for i in range(len(passages))]
    cosines = [i / 100 for i in range(len(passages))]
    assert neighbours(passages, coverages, cosines) == [
        pytest.approx(values) for values in expected
    ]


@pytest.mark.parametrize("cosines", [[0.1, 0.9, 0.5], [0.7], [0.3, 0.3, 0.2], [-0.2, 0.0]])
def test_the_most_confident_sentence_is_the_best_scoring_one(cosines):
    question = tuple(0.5 for _ in QUESTION_FEATURES)
    judgement = load_calibrator().judge([row(c) for c in cosines], question)
    best = max(range(len(cosines)), key=lambda i: judgement.shares[i])
    assert judgement.confidences[best] == max(judgement.confidences)
    assert all(0.0 <= c <= 1.0 for c in judgement.confidences)


def test_the_shipped_calibration_loads_and_names_every_feature():
    calibrator = load_calibrator()
    assert len(calibrator.sentence_weights) == len(FEATURES)
    assert 0.0 < calibrator.line < 1.0
    assert calibrator.question.slope > 0 and calibrator.statement.slope > 0


# --- document frequencies over the whole index ----------------------------------------------


@pytest.mark.parametrize("index_class", [Fts5Index, Bm25Index])
def test_document_frequencies(index_class):
    conn = sqlite3.connect(":memory:")
    index = index_class(conn)
    index.add([(1, "Lupus patients in remission."), (2, "Remission of lupus."), (3, "Cancer.")])
    frequencies = index.document_frequencies(["lupu", "remiss", "cancer", "cost"])
    assert frequencies == {"lupu": 2, "remiss": 2, "cancer": 1, "cost": 0}


# --- askseed ask --explain ------------------------------------------------------------------


@pytest.fixture
def docs(tmp_path, monkeypatch, fake_embedder):
    from askseed.engine import Engine

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "io.txt").write_text(
        "Io\n\nVolcanoes on Io erupt with lava fountains. The fountains reach three hundred "
        "kilometres.\nIo orbits Jupiter every forty two hours.\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        cli, "_make_engine", lambda settings: Engine(settings, embedder=fake_embedder)
    )
    return tmp_path


def test_explain_json_returns_the_features_and_the_confidence(docs, capsys):
    code = cli.main(["How high do the Io lava fountains reach?", "--json", "--explain"])
    answer = json.loads(capsys.readouterr().out)
    explain = answer["explain"]
    assert set(explain) == {
        "quote",
        "source",
        "confidence",
        "line",
        "answered",
        "form",
        "answerable",
        "share",
        "sentence_features",
        "question_features",
        "quote_features",
        "effects",
        "support",
    }
    assert set(explain["sentence_features"]) == set(FEATURES)
    assert set(explain["question_features"]) == set(QUESTION_FEATURES)
    assert set(explain["quote_features"]) == set(QUOTE_FEATURES)
    assert set(explain["effects"]) == {"sentence_score", "answerable_log_odds"}
    assert explain["answered"] == answer["answered"] == (code == 0)
    assert explain["confidence"] == answer["confidence"] == answer["passages"][0]["confidence"]
    assert explain["quote"] == answer["passages"][0]["quote"]
    assert explain["form"] == "question"


def test_a_folder_of_one_sentence_is_answered(docs, capsys):
    """No other sentence to measure a margin against: the margin is over nothing (0.0)."""
    (docs / "seeds" / "io.txt").write_text("The ticket price is ten euros.\n", encoding="utf-8")
    code = cli.main(["What is the ticket price?", "--json", "--explain"])
    answer = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert answer["passages"][0]["quote"] == "The ticket price is ten euros."
    assert answer["explain"]["sentence_features"]["margin"] == answer["passages"][0]["score"]


def test_without_explain_the_json_has_no_explanation(docs, capsys):
    cli.main(["How high do the Io lava fountains reach?", "--json"])
    assert "explain" not in json.loads(capsys.readouterr().out)


def test_explain_prints_the_decision_and_every_feature(docs, capsys):
    code = cli.main(["zebra quantum mortgage?", "--explain"])
    out = capsys.readouterr().out
    assert code == 1
    assert "against the line 50%: refused." in out
    for name in (*FEATURES, *QUESTION_FEATURES, *QUOTE_FEATURES):
        assert f"  {name} " in out


def test_explain_shows_the_reranking_when_the_top_sentences_are_reranked(docs, capsys, monkeypatch):
    reranking = FAKE_CALIBRATOR._replace(
        rerank_top=2, rerank_weights=tuple(1.0 for _ in RERANK_FEATURES)
    )
    monkeypatch.setattr(answer_module, "load_calibrator", lambda: reranking)
    cli.main(["How high do the Io lava fountains reach?", "--json", "--explain"])
    explain = json.loads(capsys.readouterr().out)["explain"]
    assert set(explain["effects"]) == {"sentence_score", "rerank_score", "answerable_log_odds"}
    assert set(explain["effects"]["rerank_score"]) == set(RERANK_FEATURES)
    cli.main(["How high do the Io lava fountains reach?", "--explain"])
    assert "Among the top sentences, read word piece by word piece" in capsys.readouterr().out


# --- token-level alignment ------------------------------------------------------------------


def _units(*rows: tuple[float, ...]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # every question piece has an identical piece in the sentence
        (_units((1, 0), (0, 1)), _units((0, 1), (1, 0), (1, 1)), 1.0),
        # one piece matched, one orthogonal to everything: the mean of 1 and 0
        (_units((1, 0, 0), (0, 0, 1)), _units((1, 0, 0), (0, 1, 0)), 0.5),
        # the best match counts, not the mean over the sentence
        (_units((1, 0)), _units((1, 1), (0, 1)), 2**-0.5),
        (np.zeros((0, 2), np.float32), _units((1, 0)), 0.0),
        (_units((1, 0)), np.zeros((0, 2), np.float32), 0.0),
    ],
)
def test_alignment_is_the_mean_best_match_of_the_question_pieces(question, sentence, expected):
    assert alignment(question, sentence) == pytest.approx(expected, abs=1e-6)


def _kinds(content: list[bool], asked: list[bool] | None = None) -> PieceKinds:
    return PieceKinds(np.array(content, bool), np.array(asked or [False] * len(content), bool))


@pytest.mark.parametrize(
    ("question", "kinds", "sentence", "expected"),
    [
        # mean; over the content pieces; worst content piece; reverse mean; question word's
        # best match; share of sentence pieces no question piece matches (below 0.5)
        (
            _units((1, 0, 0), (0, 0, 1)),
            _kinds([True, True]),
            _units((1, 0, 0), (0, 1, 0)),
            (0.5, 0.5, 0.0, 0.5, 0.0, 0.5),
        ),
        # the unmatched piece is a question word: it counts in the mean, and as the question
        # word's match
        (
            _units((1, 0, 0), (0, 0, 1)),
            _kinds([True, False], [False, True]),
            _units((1, 0, 0), (0, 1, 0)),
            (0.5, 1.0, 1.0, 0.5, 0.0, 0.5),
        ),
        # no content piece: every piece stands in
        (
            _units((1, 0), (0, 1)),
            _kinds([False, False]),
            _units((1, 0), (1, 1)),
            (0.5 + 0.5 * 2**-0.5, 0.5 + 0.5 * 2**-0.5, 2**-0.5, 0.5 + 0.5 * 2**-0.5, 0.0, 0.0),
        ),
        (np.zeros((0, 2), np.float32), _kinds([]), _units((1, 0)), (0.0,) * 6),
        (_units((1, 0)), _kinds([True]), np.zeros((0, 2), np.float32), (0.0,) * 6),
    ],
)
def test_alignment_features(question, kinds, sentence, expected):
    values = alignment_features(question, kinds, sentence)
    assert len(values) == len(ALIGNMENT_FEATURES)
    assert values == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "spans", "content", "asked"),
    [
        # "How many" and "?" carry no topic; a word cut in pieces is content in every piece
        (
            "How many patients remitted?",
            ((0, 3), (4, 8), (9, 17), (18, 21), (21, 26), (26, 27)),
            [0, 0, 1, 1, 1, 0],
            [1, 0, 0, 0, 0, 0],
        ),
        (
            "Who led the trial?",
            ((0, 3), (4, 7), (8, 11), (12, 17), (17, 18)),
            [0, 1, 0, 1, 0],
            [1, 0, 0, 0, 0],
        ),
        ("lupus CAR-T", ((0, 5), (6, 9), (9, 10), (10, 11)), [1, 1, 0, 1], [0, 0, 0, 0]),
        ("", (), [], []),
    ],
)
def test_piece_kinds(text, spans, content, asked):
    kinds = piece_kinds(text, spans)
    assert kinds.content.tolist() == [bool(flag) for flag in content]
    assert kinds.question_word.tolist() == [bool(flag) for flag in asked]


@pytest.mark.parametrize(
    ("shares", "count", "groups", "top"),
    [
        ([0.1, 0.6, 0.3], 2, None, [1, 2]),
        ([0.1, 0.6, 0.3], 5, None, [1, 2, 0]),
        ([0.4, 0.2, 0.4], 2, None, [0, 2]),  # a tie goes to the earlier sentence
        ([1.0], 1, None, [0]),
        ([0.1, 0.6, 0.3], 2, [0, 0, 1], [1, 0]),  # only the best one's group
        ([0.1, 0.6, 0.3], 3, [1, 0, 1], [1]),
    ],
)
def test_top_rows(shares, count, groups, top):
    assert top_rows(shares, count, groups) == top


def rerank_weights(**weights: float) -> tuple[float, ...]:
    return tuple(weights.get(name, 0.0) for name in RERANK_FEATURES)


RERANKING = CALIBRATOR._replace(rerank_top=2, rerank_weights=rerank_weights(cosine=1, alignment=4))


def test_rerank_by_hand():
    question = (0.0,) * len(QUESTION_FEATURES)
    asked = []

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        asked.append(list(indices))
        return [{1: (0.0,) * 6, 2: (math.log(3) / 4,) + (0.0,) * 5}[i] for i in indices]

    # first shares: softmax(0, log 2, log 2 + 1e-9): the last two are re-ranked
    rows = [row(0.0), row(math.log(2)), row(math.log(2) + 1e-9)]
    judgement = RERANKING.judge(rows, question, True, alignments)
    assert asked == [[2, 1]]  # one pass over the top two, largest share first
    # they hold 4/5 together; the second scores log 2 and log 2 + log 3 share it 1:3
    assert judgement.shares == pytest.approx([0.2, 0.2, 0.6])
    assert judgement.quote == (math.log(3) / 4,) + (0.0,) * 5 + (0.0,)  # then lacks_negation
    assert judgement.confidences[2] == max(judgement.confidences)


# The quote's head: reads nothing of the quote's alignment, or its mean alignment.
BLIND = HEAD
READING = HEAD._replace(
    weights=HEAD.weights[: -len(QUOTE_FEATURES)] + (3.0,) + (0.0,) * (len(QUOTE_FEATURES) - 1)
)


@pytest.mark.parametrize(
    ("settled_share", "head", "asked", "reranked"),
    [
        # never settled: the top two are re-ranked (on a tie, the earlier first)
        (NEVER_SETTLED, BLIND, [[2, 0]], True),
        (0.9, BLIND, [[2, 0]], True),  # the best share, 0.8, is below the line
        (0.8, BLIND, [], False),  # at it: the first choice stands, and nothing is read
        (0.8, READING, [[2]], False),  # ... but the quote, when the head reads it
        (0.5, READING, [[2]], False),
    ],
)
def test_a_settled_first_choice_is_not_reranked(settled_share, head, asked, reranked):
    calls = []

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        calls.append(list(indices))
        return [(0.5,) * 6 for _ in indices]

    # first shares: 0.1, 0.1, 0.8
    rows = [row(0.0), row(0.0), row(math.log(8))]
    question = (0.0,) * len(QUESTION_FEATURES)
    calibrator = RERANKING._replace(settled_share=settled_share, question=head)
    judgement = calibrator.judge(rows, question, True, alignments)
    assert calls == asked
    assert judgement.reranked is reranked
    if not reranked:
        assert judgement.shares == pytest.approx([0.1, 0.1, 0.8])
        effects = calibrator.explain(rows[2], question, 0.8, True, judgement.quote, False)
        assert "rerank_score" not in effects


@pytest.mark.parametrize(("asks", "reranked"), [(True, [2, 1]), (False, [2, 0])])
def test_a_statement_is_reranked_within_the_best_sentences_passage(asks, reranked):
    # Rows 0 and 2 are in the first passage, row 1 in the second: a question's re-ranking may
    # choose across passages, a statement's keeps the passages in their order.
    asked = []

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        asked.append(list(indices))
        return [(0.0,) * 6 for _ in indices]

    rows = [row(0.0), row(math.log(2)), row(math.log(2) + 1e-9)]
    question = (0.0,) * len(QUESTION_FEATURES)
    RERANKING.judge(rows, question, asks, alignments, passages=[0, 1, 0])
    assert asked == [reranked]


@pytest.mark.parametrize("cosines", [[0.1, 0.9, 0.5, 0.4], [0.7], [0.3, 0.3, 0.2], [0.6, 0.1]])
def test_the_quote_is_always_a_reranked_sentence_and_the_most_confident(cosines):
    question = (0.0,) * len(QUESTION_FEATURES)
    seen = []

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        seen.extend(indices)
        return [(1.0 - cosines[i],) + (0.0,) * 5 for i in indices]  # prefers the lower cosine

    judgement = RERANKING.judge([row(c) for c in cosines], question, True, alignments)
    best = judgement.shares.index(max(judgement.shares))
    assert best in seen
    assert judgement.confidences[best] == max(judgement.confidences)
    assert sum(judgement.shares) == pytest.approx(1.0)


def test_the_head_reads_whether_the_quote_lacks_the_questions_negation():
    """A question asking what is not so, quoted a sentence that says nothing is not: the
    head reads it from the quote's own features, without a model pass."""
    column = FEATURES.index("lacks_negation")
    doubting = CALIBRATOR._replace(
        question=HEAD._replace(weights=HEAD.weights[:-1] + (-3.0,)),
    )
    question = (0.0,) * len(QUESTION_FEATURES)
    plain = row(0.6)
    lacking = tuple(1.0 if at == column else value for at, value in enumerate(plain))
    asked = []
    judged = [
        doubting.judge([row(0.2), quote], question, True, lambda i: asked.append(i) or [])
        for quote in (plain, lacking)
    ]
    assert asked == []  # the head reads no alignment, so none is computed
    assert judged[0].quote[-1] == 0.0 and judged[1].quote[-1] == 1.0
    assert max(judged[1].confidences) < max(judged[0].confidences)


def test_without_reranking_only_the_quote_is_aligned():
    asked = []

    def alignments(indices: list[int]) -> list[tuple[float, ...]]:
        asked.append(list(indices))
        return [(0.9, 0.8, 0.7, 0.6, 0.5, 0.4)]

    reading = CALIBRATOR._replace(question=READING, quote_defaults=(0.1,) * 6)
    question = (0.0,) * len(QUESTION_FEATURES)
    judgement = reading.judge([row(0.2), row(0.6), row(0.4)], question, True, alignments)
    assert asked == [[1]]
    assert judgement.quote == (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.0)
    without = reading.judge([row(0.2), row(0.6), row(0.4)], question, True)
    assert without.quote == (0.1,) * 6 + (0.0,)
    assert max(judgement.confidences) > max(without.confidences)


def test_the_question_is_embedded_once_and_only_the_top_sentences_are_aligned(
    make_settings, fake_embedder, monkeypatch
):
    """One pass gives the question's vector and its word pieces; one more reads the
    re-ranked sentences, never the question again."""
    monkeypatch.setattr(
        answer_module, "load_calibrator", lambda: FAKE_CALIBRATOR._replace(rerank_top=2)
    )
    settings = make_settings()
    (settings.seeds / "ferry.txt").write_text(
        "The ferry leaves at nine. It returns at noon. Tickets cost five pounds. "
        "Dogs travel free. The harbour opened in 1901.",
        encoding="utf-8",
    )
    aligned: list[list[str]] = []
    token_vectors = fake_embedder.token_vectors

    def recording(texts: list[str]):
        aligned.append(list(texts))
        return token_vectors(texts)

    monkeypatch.setattr(fake_embedder, "token_vectors", recording)
    engine = Engine(settings, embedder=fake_embedder)
    engine.refresh()
    fake_embedder.encoded.clear()
    answer = engine.ask("When does the ferry leave?")
    assert fake_embedder.encoded == ["When does the ferry leave?"]
    assert len(aligned) == 1 and len(aligned[0]) == 2
    assert "When does the ferry leave?" not in aligned[0]
    assert answer.evidence.quote in aligned[0]


@pytest.mark.model
def test_real_pieces_come_with_the_question_vector_and_align_a_paraphrase():
    from askseed.model.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    question = "Whose cells are altered by the therapy?"
    encoded = embedder.encode_with_pieces([question])
    assert encoded.vectors[0] == pytest.approx(embedder.encode([question])[0], abs=1e-6)
    (pieces,) = embedder.token_vectors([question])
    assert encoded.pieces[0].vectors == pytest.approx(pieces.vectors, abs=1e-5)
    assert [question[start:end] for start, end in pieces.spans][:3] == ["Whose", "cells", "are"]
    assert np.linalg.norm(pieces.vectors, axis=1) == pytest.approx(1.0, abs=1e-5)
    short = embedder.token_vectors(["Whose cells are altered?", "It works."])
    assert [len(p.vectors) for p in short] == [5, 3]  # word pieces, without [CLS] and [SEP]
    paraphrase = "The therapy genetically modifies the patient's own immune cells."
    stray = "The stadium opened in 1982 and seats forty thousand fans."
    aligner = Aligner(question, encoded.pieces[0], embedder.token_vectors)
    near, far = (
        dict(zip(ALIGNMENT_FEATURES, values, strict=True))
        for values in aligner.features([paraphrase, stray])
    )
    assert near["alignment"] > far["alignment"]
    assert near["content_alignment"] > far["content_alignment"]
    assert near["worst_alignment"] <= near["content_alignment"]
    assert near["reverse_alignment"] > far["reverse_alignment"]
    assert near["unmatched"] < far["unmatched"]
    assert near["question_word_alignment"] > 0.0
    # After load() (the chat, an evaluation), the int8 copy of the model reads the sentences:
    # close to the float32 pieces, not equal, and the paraphrase still aligns better.
    embedder.load()
    (int8_pieces,) = embedder.token_vectors([question])
    assert int8_pieces.spans == pieces.spans
    assert not np.array_equal(int8_pieces.vectors, pieces.vectors)
    assert (int8_pieces.vectors * pieces.vectors).sum(axis=1).min() > 0.97
    near_int8, far_int8 = (
        dict(zip(ALIGNMENT_FEATURES, values, strict=True))
        for values in aligner.features([paraphrase, stray])
    )
    assert near_int8["alignment"] == pytest.approx(near["alignment"], abs=0.02)
    assert near_int8["alignment"] > far_int8["alignment"]


def test_a_quote_from_a_later_passage_is_promoted_with_its_confidence(docs, capsys, monkeypatch):
    """The most confident sentence may sit in the third passage retrieved: that passage goes
    first, and the answer's confidence and explanation are that sentence's (the rows keep
    pointing into the candidates as retrieved, not as promoted)."""
    for number, moon in enumerate(("Europa", "Ganymede", "Callisto")):
        (docs / "seeds" / f"moon{number}.txt").write_text(
            f"{moon} orbits Jupiter. {moon} has ice and rock.\n", encoding="utf-8"
        )
    most_confident = answer_module._most_confident

    def from_the_last_passage(rows, confidences, candidates):
        last = max(row.candidate for row in rows)
        return most_confident(
            [row for row in rows if row.candidate == last], confidences, candidates
        )

    monkeypatch.setattr(answer_module, "_most_confident", from_the_last_passage)
    cli.main(["Which moon orbits Jupiter?", "--json", "--explain", "-k", "5"])
    answer = json.loads(capsys.readouterr().out)
    first = answer["passages"][0]
    assert answer["explain"]["quote"] == first["quote"]
    assert answer["explain"]["source"] == first["source"]
    assert answer["explain"]["confidence"] == answer["confidence"] == first["confidence"]
