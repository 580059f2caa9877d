"""Chunk vectors made from the chunk's sentence vectors (CHUNK_VECTORS "sentences"): one
pass, every word read once, sentence vectors the same as "alone"'s."""

from __future__ import annotations

import numpy as np
import pytest

from askseed.ingest import embedding, indexer
from askseed.ingest.indexer import update_index
from askseed.store.reader import IndexReader
from test_sentence_pooling import HEADED, index_one_file


@pytest.mark.parametrize(
    ("pieces", "weights"),
    [([0], [2**0.5]), ([2, 7], [2.0, 3.0]), ([], [])],
)
def test_a_text_weighs_the_square_root_of_its_pieces_with_cls_and_sep(pieces, weights):
    assert embedding.piece_weights(pieces) == pytest.approx(np.asarray(weights))


@pytest.mark.parametrize(
    ("rows", "weights", "expected"),
    [
        ([[1, 0], [0, 1]], [1, 1], [0.5**0.5, 0.5**0.5]),
        ([[1, 0], [0, 1]], [3, 4], [0.6, 0.8]),
        ([[0.6, 0.8]], [5], [0.6, 0.8]),
        ([[1, 0], [-1, 0]], [1, 1], [0, 0]),  # nothing left to normalise
        (np.zeros((0, 2)), [], [0, 0]),
    ],
)
def test_weighted_mean_is_a_unit_vector_along_the_weighted_sum(rows, weights, expected):
    mean = embedding.weighted_mean(np.asarray(rows, dtype=np.float32), np.asarray(weights))
    assert mean.dtype == np.float32
    assert mean == pytest.approx(np.asarray(expected), abs=1e-6)


@pytest.fixture
def from_sentences(monkeypatch):
    monkeypatch.setattr(indexer, "CHUNK_VECTORS", "sentences")


@pytest.mark.parametrize("chunk_tokens", [128, 14])
def test_no_chunk_is_embedded_and_each_sentence_once(
    make_settings, fake_embedder, from_sentences, chunk_tokens
):
    """With small chunks (searched after the heading, sharing a sentence) or one chunk."""
    chunks = index_one_file(make_settings(chunk_tokens=chunk_tokens), fake_embedder)
    sentences = {chunk.sentence_text(span) for chunk in chunks for span in chunk.sentences}
    assert sorted(fake_embedder.encoded) == sorted(sentences)
    assert len(fake_embedder.encoded) == len(set(fake_embedder.encoded))


@pytest.mark.parametrize("chunk_tokens", [128, 14])
def test_vectors_are_the_sentences_alone_and_their_weighted_mean(
    make_settings, fake_embedder, from_sentences, chunk_tokens
):
    """Each stored sentence vector is its sentence embedded alone; each chunk's vector is the
    weighted mean of its sentences' and, when it is searched after the heading, the heading's."""
    settings = make_settings(chunk_tokens=chunk_tokens)
    (settings.seeds / "ferry.txt").write_text(HEADED, encoding="utf-8")
    update_index(settings, fake_embedder)
    headed = 0
    with IndexReader(settings.index) as reader:
        for chunk_id, chunk in reader.chunks_by_id(list(range(1, 50))).items():
            sentences = [chunk.sentence_text(span) for span in chunk.sentences]
            alone = fake_embedder.encode(sentences)
            # Stored as int8 (store/schema.py): cosines, not components, are what must hold.
            cosines = np.sum(chunk.sentence_vectors * alone, axis=1)
            assert cosines.min() > 0.9999
            # A chunk that does not begin the file is searched after its heading.
            parts = (["Harbour timetable"] if chunk.start > 0 else []) + sentences
            headed += chunk.start > 0
            expected = embedding.weighted_mean(
                fake_embedder.encode(parts),
                embedding.piece_weights(fake_embedder.count_tokens(parts)),
            )
            cosine = reader.similarities(expected, [chunk_id])[chunk_id]
            assert cosine == pytest.approx(1.0, abs=1e-3)
    assert (headed > 0) == (chunk_tokens == 14)


def test_the_choice_is_part_of_the_index_fingerprint(make_settings, monkeypatch):
    settings = make_settings()
    before = indexer.index_fingerprint("model", settings)
    monkeypatch.setattr(indexer, "CHUNK_VECTORS", "sentences")
    assert indexer.index_fingerprint("model", settings) != before
