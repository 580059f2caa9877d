"""The token alignment of every candidate sentence of squad-a-abstain with its question.

askseed computes it only for the few sentences it re-ranks (query/calibration.py), but the
fit and the measurement need it for any sentence that might be among them: the model runs
once per distinct sentence and once per question, and the ALIGNMENT_FEATURES of every row
are cached beside abstain_data.py's features (keyed by the texts and alignment.py).
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
from abstain_data import REPO, FeatureTable, sentence_table

from askseed.engine import Engine
from askseed.eval.runner import cache_root
from askseed.model.pieces import Pieces
from askseed.query.alignment import ALIGNMENT_FEATURES, alignment_features, piece_kinds


def feature_table() -> tuple[FeatureTable, Engine, np.ndarray]:
    """Every question's candidate sentences, their features and their ALIGNMENT_FEATURES
    (table.z), from the caches."""
    table, engine, vectors = sentence_table()
    table.z = alignment_columns(table, engine)
    return table, engine, vectors


def token_vectors(engine: Engine, texts: list[str], batch: int = 64) -> list[Pieces]:
    """Embedder.token_vectors of many texts, in batches of similar length."""
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    rows: list[Pieces] = [Pieces(np.zeros((0, 1), np.float32), ())] * len(texts)
    for start in range(0, len(order), batch):
        chosen = order[start : start + batch]
        for index, pieces in zip(
            chosen, engine.embedder.token_vectors([texts[i] for i in chosen]), strict=True
        ):
            rows[index] = pieces
    return rows


def question_pieces(engine: Engine, texts: list[str], batch: int = 64) -> list[Pieces]:
    """The questions' word pieces as askseed reads them: from the float32 pass that embeds
    them for the search (Embedder.encode_with_pieces)."""
    rows: list[Pieces] = []
    for start in range(0, len(texts), batch):
        rows += engine.embedder.encode_with_pieces(texts[start : start + batch]).pieces
    return rows


def alignment_columns(table: FeatureTable, engine: Engine) -> np.ndarray:
    """alignment.alignment_features of every row's question and sentence (rows x
    len(ALIGNMENT_FEATURES)), as askseed computes them for the sentences it re-ranks."""
    digest = hashlib.sha256(REPO.joinpath("src/askseed/query/alignment.py").read_bytes())
    digest.update(json.dumps([table.texts, [q.text for q in table.questions]]).encode())
    # Which copy of the model reads the sentences: the float32 one, as a one-shot question
    # and `askseed eval` read them, or after load() the chat's int8 copy (model/int8_export.py).
    if engine.embedder.loaded:
        digest.update(REPO.joinpath("src/askseed/model/int8_export.py").read_bytes())
    cache = cache_root().parent / "calibrate" / f"alignments-{digest.hexdigest()[:12]}.npy"
    if cache.exists():
        return np.load(cache, allow_pickle=False)
    print(f"token vectors of {len(table.texts)} sentences", file=sys.stderr)
    sentences = token_vectors(engine, table.texts)
    print(f"token vectors of {len(table.questions)} queries", file=sys.stderr)
    questions = question_pieces(engine, [q.text for q in table.questions])
    kinds = [
        piece_kinds(question.text, pieces.spans)
        for question, pieces in zip(table.questions, questions, strict=True)
    ]
    columns = np.array(
        [
            alignment_features(questions[owner].vectors, kinds[owner], sentences[text].vectors)
            for owner, text in zip(table.question, table.text, strict=True)
        ]
    ).reshape(-1, len(ALIGNMENT_FEATURES))
    np.save(cache, columns)
    return columns
