"""The on-disk codec of sentence vectors: float16, cosines as float32 gives them."""

from __future__ import annotations

import numpy as np
import pytest

from askseed.store.schema import decode_sentence_vectors, encode_sentence_vectors


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(("count", "dim"), [(0, 384), (1, 384), (7, 384), (3, 64)])
def test_round_trip_keeps_cosines_and_takes_two_bytes_a_dimension(count, dim):
    vectors = unit_rows(count, dim)
    blob = encode_sentence_vectors(vectors)
    assert len(blob) == count * dim * 2
    decoded = decode_sentence_vectors(blob, count, dim)
    assert decoded.shape == (count, dim) and decoded.dtype == np.float32
    if count:
        queries = unit_rows(50, dim, seed=1)
        assert np.abs(queries @ vectors.T - queries @ decoded.T).max() < 0.001
        assert np.allclose(np.linalg.norm(decoded, axis=1), 1.0, atol=1e-3)


def test_a_zero_vector_stays_zero():
    decoded = decode_sentence_vectors(encode_sentence_vectors(np.zeros((1, 8))), 1, 8)
    assert not decoded.any()


@pytest.mark.parametrize("cut", [1, 4, 100])
def test_a_short_blob_is_refused(cut):
    blob = encode_sentence_vectors(unit_rows(2, 16))
    with pytest.raises(ValueError):
        decode_sentence_vectors(blob[:-cut], 2, 16)
