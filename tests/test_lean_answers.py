"""The lean one-shot path (ONNX, no torch) gives the same answers as sentence-transformers.

Each corpus is indexed twice, once by each backend, and the same questions are asked of both:
what is shown (passages, quotes, lines) and whether the question is answered must not differ.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from askseed.config import Settings
from askseed.engine import Engine
from askseed.eval.beir import read_corpus, read_qrels, read_queries

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
SCIFACT = REPO.parent / "shared" / "eval" / "scifact"

SEED_QUESTIONS = [
    "How many lupus patients went into remission?",
    "Who led the trial?",
    "What is CAR T-cell therapy?",
    "Is this a cure for lupus?",
    "What is the boiling point of mercury?",
    "What is the best treatment for diabetes?",
]
SCIFACT_QUERIES = 12
SCIFACT_EXTRA_DOCUMENTS = 24  # unjudged abstracts, so that retrieval has something to reject


def _shown(answer) -> tuple:
    """What a user sees of an answer, but the scores (see _scores)."""
    passages = tuple((p.source, p.start_line, p.end_line, p.quote) for p in answer.passages)
    return answer.answered, passages


def _assert_same(lean: list, reference: list) -> None:
    assert [shown for shown, _ in lean] == [shown for shown, _ in reference]
    for (_, lean_scores), (_, reference_scores) in zip(lean, reference, strict=True):
        # The backends agree to cosine 1.0000; the CLI prints scores to 2 places.
        assert lean_scores == pytest.approx(reference_scores, abs=1e-3)


def _answers_both_ways(documents: Path, index_root: Path, questions: list[str]) -> tuple:
    from askseed.model.reference import SentenceTransformerEmbedder

    torch_path = SentenceTransformerEmbedder()
    reference = Engine(Settings(seeds=documents, index=index_root / "torch"), embedder=torch_path)
    lean = Engine(Settings(seeds=documents, index=index_root / "lean"))  # the CLI's default
    for engine in (reference, lean):
        engine.refresh()
    results = []
    for engine in (reference, lean):
        answers = [engine.ask(question) for question in questions]
        results.append([(_shown(a), [p.score for p in a.passages]) for a in answers])
    return tuple(results)


def test_seed_answers_match(tmp_path):
    documents = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", documents)
    reference, lean = _answers_both_ways(documents, tmp_path, SEED_QUESTIONS)
    _assert_same(lean, reference)
    answered = [shown[0] for shown, _ in lean]
    assert any(answered) and not all(answered)


@pytest.mark.skipif(not SCIFACT.is_dir(), reason=f"SciFact is absent: {SCIFACT}")
def test_scifact_answers_match(tmp_path):
    qrels = read_qrels(SCIFACT)
    queries = read_queries(SCIFACT)
    sample = list(itertools.islice(qrels, SCIFACT_QUERIES))
    wanted = {doc for query in sample for doc in qrels[query]}
    documents = tmp_path / "docs"
    documents.mkdir()
    extra = 0
    for doc_id, text in read_corpus(SCIFACT):
        if doc_id not in wanted:
            if extra == SCIFACT_EXTRA_DOCUMENTS:
                continue
            extra += 1
        (documents / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    reference, lean = _answers_both_ways(documents, tmp_path, [queries[q] for q in sample])
    _assert_same(lean, reference)
    assert sum(shown[0] for shown, _ in lean) >= SCIFACT_QUERIES // 2
