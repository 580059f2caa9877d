"""Sentence vectors pooled from the pass that embeds their chunk (SENTENCE_VECTORS "pooled"),
or each sentence embedded alone (the default, "alone")."""

from __future__ import annotations

import numpy as np
import pytest

from askseed.ingest import indexer
from askseed.ingest.indexer import update_index
from askseed.model.embedder import MiniLMEmbedder, PooledVectors
from askseed.store.reader import IndexReader
from askseed.store.schema import StoredChunk
from conftest import FakeEmbedder

HEADED = (
    "Harbour timetable\n\n"
    "The island ferry leaves the harbour at nine every morning. Tickets are sold on board. "
    "Bicycles travel free of charge.\n"
)


def index_one_file(settings, embedder, text: str = HEADED) -> list[StoredChunk]:
    """Index a folder holding one file of `text`, and read back its chunks."""
    (settings.seeds / "ferry.txt").write_text(text, encoding="utf-8")
    update_index(settings, embedder)
    with IndexReader(settings.index) as reader:
        return list(reader.chunks_by_id(list(range(1, 50))).values())


class SpanRecorder(FakeEmbedder):
    """Keeps each (embedded text, sentence span) pair it was asked to pool."""

    def __init__(self) -> None:
        super().__init__()
        self.pooled: list[str] = []

    def encode_spans(self, texts, spans) -> PooledVectors:
        for text, pairs in zip(texts, spans, strict=True):
            self.pooled += [text[start:end] for start, end in pairs]
        return super().encode_spans(texts, spans)


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setattr(indexer, "SENTENCE_VECTORS", "pooled")


def test_each_chunk_is_embedded_once_and_no_sentence_alone(make_settings, fake_embedder, pooled):
    settings = make_settings()
    (settings.seeds / "ferry.txt").write_text(HEADED, encoding="utf-8")
    update_index(settings, fake_embedder)
    with IndexReader(settings.index) as reader:
        chunks = reader.chunks_by_id(list(range(1, 10)))
    assert len(fake_embedder.encoded) == len(chunks) == 1


@pytest.mark.parametrize("chunk_tokens", [128, 14])
def test_spans_point_at_the_sentences_in_what_is_embedded(make_settings, chunk_tokens, pooled):
    """With a heading before the chunk (small chunks) or without, each pooled span is exactly
    one of the chunk's sentences, and each stored vector is its sentence's."""
    embedder = SpanRecorder()
    chunks = index_one_file(make_settings(chunk_tokens=chunk_tokens), embedder)
    sentences = [chunk.sentence_text(span) for chunk in chunks for span in chunk.sentences]
    assert embedder.pooled == sentences
    assert any(text.startswith("Harbour timetable\n") for text in embedder.encoded) == (
        chunk_tokens == 14
    )
    for chunk in chunks:
        alone = FakeEmbedder().encode([chunk.sentence_text(s) for s in chunk.sentences])
        assert np.allclose(chunk.sentence_vectors, alone, atol=0.01)  # int8 on disk


def test_by_default_each_sentence_is_embedded_alone(make_settings, fake_embedder):
    settings = make_settings()
    (settings.seeds / "ferry.txt").write_text(HEADED, encoding="utf-8")
    update_index(settings, fake_embedder)
    assert "Bicycles travel free of charge." in fake_embedder.encoded


def test_the_way_is_part_of_the_index_fingerprint(make_settings, monkeypatch):
    settings = make_settings()
    alone = indexer.index_fingerprint("m", settings)
    monkeypatch.setattr(indexer, "SENTENCE_VECTORS", "pooled")
    assert indexer.index_fingerprint("m", settings) != alone


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.mark.model
def test_pooled_sentences_stay_near_the_sentences_alone(minilm):
    sentences = [
        "The island ferry leaves the harbour at nine every morning.",
        "Tickets are sold on board.",
        "The village library opens on Tuesday and Friday afternoons.",
        "Rye bread is baked on Sundays only.",
    ]
    text = " ".join(sentences)
    spans, start = [], 0
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    result = minilm.encode_spans([text, "A second text."], [spans, []])
    alone = minilm.encode(sentences)
    assert np.allclose(result.texts, minilm.encode([text, "A second text."]), atol=1e-5)
    pooled = result.spans[0]
    assert result.spans[1].shape == (0, minilm.dim)
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    similarity = pooled @ alone.T
    # Each pooled sentence is nearest its own sentence alone.
    assert list(similarity.argmax(axis=1)) == list(range(len(sentences)))
    assert similarity.diagonal().min() > 0.5  # read in context, not alone: 0.61-0.76 here


@pytest.mark.model
def test_a_sentence_truncated_away_is_embedded_alone(minilm):
    filler = " ".join(["lantern meadow copper harvest orchard beacon."] * 60)  # > 256 pieces
    last = "The ferry leaves at nine."
    text = f"{filler} {last}"
    spans = [(0, 46), (len(filler) + 1, len(text))]
    result = minilm.encode_spans([text], [spans])
    alone = minilm.encode([last, "placeholder text to batch"])[0]
    assert float(result.spans[0][1] @ alone) > 0.9999
    assert float(result.spans[0][0] @ alone) < 0.9


@pytest.mark.model
def test_the_reference_pools_the_same_vectors(minilm):
    from askseed.model.reference import SentenceTransformerEmbedder

    text = "Harbour timetable\nThe ferry leaves at nine. Tickets are sold on board."
    spans = [[(0, 17), (18, 42), (43, len(text))]]
    lean = minilm.encode_spans([text], spans)
    reference = SentenceTransformerEmbedder().encode_spans([text], spans)
    assert (lean.texts * reference.texts).sum() > 0.9999
    assert (lean.spans[0] * reference.spans[0]).sum(axis=1).min() > 0.9999


@pytest.mark.parametrize(
    ("text", "chunk_tokens"),
    [
        ("The island ferry leaves the harbour at nine every morning.\n", 128),  # chunk = sentence
        (HEADED, 128),
        (HEADED, 14),  # small chunks share a sentence, and are searched after the heading
    ],
)
def test_alone_embeds_each_text_once(make_settings, fake_embedder, text, chunk_tokens):
    chunks = index_one_file(make_settings(chunk_tokens=chunk_tokens), fake_embedder, text)
    sentences = {chunk.sentence_text(span) for chunk in chunks for span in chunk.sentences}
    assert len(fake_embedder.encoded) == len(set(fake_embedder.encoded))
    assert sentences <= set(fake_embedder.encoded)
    for chunk in chunks:
        alone = fake_embedder.encode([chunk.sentence_text(span) for span in chunk.sentences])
        # Stored as int8 (store/schema.py): cosines, not components, are what must hold.
        assert np.sum(chunk.sentence_vectors * alone, axis=1).min() > 0.9999
