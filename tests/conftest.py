"""Shared fixtures. No test touches the real home or the repository's own index."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import numpy as np
import pytest

from askseed.model.embedder import Embedder, PooledVectors
from askseed.model.pieces import EncodedTexts, Pieces
from askseed.query import answer as answer_module
from askseed.query.calibration import QUOTE_FEATURES, Calibrator, Head
from askseed.query.features import FEATURES, QUESTION_FEATURES

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED_EVAL = REPO.parent / "shared" / "eval"


class FakeEmbedder(Embedder):
    """Deterministic bag-of-words embedder: texts sharing words get similar vectors."""

    name = "fake-bow"
    dim = 64
    fingerprint = "fake-bow-1"

    def __init__(self) -> None:
        self.encoded: list[str] = []  # every text ever embedded, to prove what was re-embedded

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(text.split()) + 2 for text in texts]

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return self._bag_of_words(texts)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> PooledVectors:
        # One pass, as the real model: only the texts count as embedded.
        self.encoded.extend(texts)
        pooled = [
            self._bag_of_words([text[start:end] for start, end in text_spans]).reshape(
                len(text_spans), self.dim
            )
            for text, text_spans in zip(texts, spans, strict=True)
        ]
        return PooledVectors(self._bag_of_words(texts), pooled)

    def token_vectors(self, texts: list[str]) -> list[Pieces]:
        return self._pieces(texts)

    def encode_with_pieces(self, texts: list[str]) -> EncodedTexts:
        # One pass, as the real model: the texts count as embedded once.
        self.encoded.extend(texts)
        return EncodedTexts(self._bag_of_words(texts), self._pieces(texts))

    def load(self) -> None:
        pass

    def _pieces(self, texts: list[str]) -> list[Pieces]:
        # One piece per word: pieces align only with the same word.
        return [
            Pieces(
                self._bag_of_words([word.group() for word in words]),
                tuple(word.span() for word in words),
            )
            for words in (list(re.finditer(r"\S+", text)) for text in texts)
        ]

    def _bag_of_words(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                word = word.strip(".,;:!?\"'()")
                if word:
                    bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                    vectors[row, bucket % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


# The shipped calibrator reads MiniLM's cosines; the fake embedder's mean little (hashed
# words in 64 buckets). With it, the confidence is decided by the share of the question's
# words the best passage holds: a question made of a document's words is answered, "zebra
# quantum mortgage?" is not. The real calibrator is
# tested with the real model (test_seed_questions.py, test_end_to_end.py).
_FAKE_HEAD = Head(
    weights=tuple(
        10.0 if name == "best_passage_coverage" else 0.0
        for name in (*QUESTION_FEATURES, "best_share", *QUOTE_FEATURES)
    ),
    bias=-3.0,
    slope=1.0,
    intercept=0.0,
)
FAKE_CALIBRATOR = Calibrator(
    sentence_weights=tuple(
        5.0 if name in ("cosine", "local_coverage") else 0.0 for name in FEATURES
    ),
    question=_FAKE_HEAD,
    statement=_FAKE_HEAD,
    line=0.5,
)


@pytest.fixture
def fake_embedder(monkeypatch) -> FakeEmbedder:
    monkeypatch.setattr(answer_module, "load_calibrator", lambda: FAKE_CALIBRATOR)
    return FakeEmbedder()


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory):
    """One askseed cache, so one model export, for every test that runs the real model.

    Sound because a cache entry is keyed by the model fingerprint and the export version,
    appears only complete (renamed into place) and is never written again: no test can see
    another's work in it but the export itself. Set for the whole session so that module
    fixtures, which run before isolated_environment, never reach the real home either.
    Tests of the cache itself point ASKSEED_CACHE elsewhere.
    """
    cache = tmp_path_factory.mktemp("askseed-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASKSEED_CACHE", str(cache))
        yield cache


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch, request, shared_model_cache):
    """Keep every test away from the user's home and the repo's index."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    if request.node.get_closest_marker("model") is None:
        # Nothing shared: what a test caches (evaluation corpora) stays its own.
        monkeypatch.setenv("ASKSEED_CACHE", str(home / ".cache" / "askseed"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for name in ("ASKSEED_SEEDS", "ASKSEED_INDEX"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_settings(tmp_path):
    """Settings pointing at a fresh documents folder and index under tmp_path."""
    from askseed.config import Settings

    def make(**overrides) -> Settings:
        values = {"seeds": tmp_path / "docs", "index": tmp_path / "index", **overrides}
        values["seeds"].mkdir(parents=True, exist_ok=True)
        return Settings(**values)

    return make


@pytest.fixture
def fake_engine_factory(fake_embedder):
    from askseed.engine import Engine

    def make(settings):
        return Engine(settings, embedder=fake_embedder)

    return make


@pytest.fixture
def utc(monkeypatch):
    """Times on screen and in transcripts are local: pin the zone so they match everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
