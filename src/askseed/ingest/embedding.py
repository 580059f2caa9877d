"""Embedding a batch of chunks: one vector per chunk and one per sentence, in one of three ways.

- `pooled` (SENTENCE_VECTORS "pooled"): one pass over the chunks; each sentence's vector is
  pooled from its tokens in its chunk's pass (model/span_pooling.py).
- `alone` (the default): the chunks (Embedder.encode), and each sentence by itself
  (Embedder.encode_sentences, which may be a cheaper copy of the model): the model reads every
  word twice, once in its chunk and once in its sentence (once, when the chunk is one sentence
  and no heading: its sentence takes the chunk's vector).
- `from_sentences` (CHUNK_VECTORS "sentences"): each sentence (and heading) by itself once;
  a chunk's vector is the normalised mean of the vectors of its sentences and of the heading
  it is searched after, each weighted by the square root of its word pieces (a long sentence
  says more than a short one, but not in proportion). Every word is read once, and sentence
  vectors are the same as `alone`'s; chunk vectors come close to, not equal to, the chunk's
  own (BENCHMARKS.md, "Sentence vectors: indexing speed").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ChunkText(NamedTuple):
    """What is embedded for one chunk."""

    search_text: str  # the chunk's text, maybe after its document's heading
    heading: str | None  # that heading, when the chunk is searched after it
    sentences: list[str]
    sentence_spans: list[tuple[int, int]]  # each sentence's characters in search_text


class Embedded(NamedTuple):
    chunks: np.ndarray  # one unit row per chunk
    sentences: list[np.ndarray]  # per chunk, one unit row per sentence


def pooled(chunks: list[ChunkText], embedder) -> Embedded:
    vectors, per_chunk = embedder.encode_spans(
        [chunk.search_text for chunk in chunks], [chunk.sentence_spans for chunk in chunks]
    )
    return Embedded(vectors, list(per_chunk))


def alone(chunks: list[ChunkText], embedder) -> Embedded:
    # A text is embedded once: a sentence two neighbouring chunks share, or a chunk that is
    # one sentence (and so is that sentence).
    searched = [chunk.search_text for chunk in chunks]
    texts = list(dict.fromkeys(searched))
    vector_of = dict(zip(texts, embedder.encode(texts), strict=True))
    sentences = [text for chunk in chunks for text in chunk.sentences if text not in vector_of]
    sentences = list(dict.fromkeys(sentences))
    vector_of.update(zip(sentences, embedder.encode_sentences(sentences), strict=True))
    per_chunk = [stack([vector_of[text] for text in c.sentences], embedder.dim) for c in chunks]
    return Embedded(stack([vector_of[text] for text in searched], embedder.dim), per_chunk)


def from_sentences(chunks: list[ChunkText], embedder) -> Embedded:
    headings = [chunk.heading for chunk in chunks if chunk.heading]
    unique = list(dict.fromkeys(headings + [text for c in chunks for text in c.sentences]))
    vector_of = dict(zip(unique, embedder.encode(unique), strict=True))
    pieces = dict(zip(unique, embedder.count_tokens(unique), strict=True))
    chunk_vectors, per_chunk = [], []
    for chunk in chunks:
        per_chunk.append(stack([vector_of[text] for text in chunk.sentences], embedder.dim))
        parts = ([chunk.heading] if chunk.heading else []) + chunk.sentences
        rows = stack([vector_of[text] for text in parts], embedder.dim)
        chunk_vectors.append(weighted_mean(rows, piece_weights([pieces[text] for text in parts])))
    return Embedded(stack(chunk_vectors, embedder.dim), per_chunk)


def piece_weights(pieces: list[int]) -> np.ndarray:
    """A text's weight in its chunk: the square root of its word pieces, with the [CLS] and
    [SEP] that every text embedded alone carries."""
    return np.sqrt(np.asarray(pieces, dtype=np.float64) + 2.0)


def weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The unit vector along the weighted sum of `vectors`' rows (zeros for no rows)."""
    total = (np.asarray(weights, dtype=np.float64)[:, None] * vectors).sum(axis=0)
    norm = float(np.linalg.norm(total))
    return (total / norm if norm > 0 else total).astype(np.float32)


def stack(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    return np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
