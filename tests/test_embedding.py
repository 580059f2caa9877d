"""What indexing embeds for a batch of chunks (ingest/embedding.py), by way of the default."""

from __future__ import annotations

import numpy as np

from askseed.ingest import embedding
from askseed.ingest.embedding import ChunkText
from conftest import FakeEmbedder


class KindRecorder(FakeEmbedder):
    """Records which texts were read as sentences to store (encode_sentences)."""

    def __init__(self) -> None:
        super().__init__()
        self.sentences: list[str] = []

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        self.sentences.extend(texts)
        return self._bag_of_words(texts)


def chunk(*sentences: str) -> ChunkText:
    text, spans = "", []
    for sentence in sentences:
        start = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        spans.append((start, start + len(sentence)))
    return ChunkText(text, None, list(sentences), spans)


def test_chunks_are_read_by_encode_and_the_other_sentences_once_by_encode_sentences():
    """Neighbouring chunks share a sentence: it is read once. A chunk of one sentence is that
    sentence: its vector is the chunk's, read by encode (float32 for MiniLM)."""
    chunks = [
        chunk("Ferries sail hourly.", "Tickets cost two euros."),
        chunk("Tickets cost two euros.", "The pier is north."),
        chunk("Storms stop the service."),
    ]
    recorder = KindRecorder()
    embedded = embedding.alone(chunks, recorder)
    assert recorder.encoded == [c.search_text for c in chunks]
    assert recorder.sentences == [
        "Ferries sail hourly.",
        "Tickets cost two euros.",
        "The pier is north.",
    ]
    np.testing.assert_array_equal(embedded.sentences[2][0], embedded.chunks[2])
    np.testing.assert_array_equal(embedded.sentences[0][1], embedded.sentences[1][0])
    assert [len(rows) for rows in embedded.sentences] == [2, 2, 1]
