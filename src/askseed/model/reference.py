"""The reference embedder: all-MiniLM-L6-v2 through sentence-transformers and torch.

askseed itself runs the ONNX export (embedder.MiniLMEmbedder); this is the library of record
for the model, which the parity tests and the benchmarks compare it with. Importing it costs
about 10 s of torch.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np

from askseed.model.embedder import (
    MAX_SEQ_LENGTH,
    MODEL_NAME,
    PooledVectors,
    WordPieceCounter,
    model_dir,
    model_fingerprint,
)
from askseed.model.pieces import EncodedTexts, Pieces, unit_pieces
from askseed.model.span_pooling import pool_spans


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, the library of record for the model."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, directory: Path | None = None, batch_size: int = 32):
        self.directory = directory or model_dir()
        self.batch_size = batch_size

    @cached_property
    def fingerprint(self) -> str:
        return model_fingerprint(self.directory)

    @cached_property
    def _model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # Library progress bars and notices would interleave with ours on stderr.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        model = SentenceTransformer(str(self.directory), device="cpu")
        model.max_seq_length = MAX_SEQ_LENGTH
        return model

    @cached_property
    def count_tokens(self) -> WordPieceCounter:
        return WordPieceCounter(self.directory)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def _tokens(self, texts: list[str]) -> tuple[list, dict]:
        """sentence-transformers' token vectors of each text, and its tokenizer's marks for
        them (character offsets and which tokens are special), cut at the same length."""
        tokens = self._model.encode(
            texts,
            batch_size=self.batch_size,
            output_value="token_embeddings",
            show_progress_bar=False,
        )
        marks = self._model.tokenizer(
            texts,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            truncation=True,
            max_length=MAX_SEQ_LENGTH,
        )
        return tokens, marks

    def token_vectors(self, texts: list[str]) -> list[Pieces]:
        """As MiniLMEmbedder.token_vectors, from sentence-transformers' own token vectors."""
        tokens, marks = self._tokens(texts)
        return [
            # without [CLS] and [SEP]
            unit_pieces(vectors.float().numpy()[1:-1], marks["offset_mapping"][index][1:-1])
            for index, vectors in enumerate(tokens)
        ]

    def encode_with_pieces(self, texts: list[str]) -> EncodedTexts:
        """encode() and token_vectors(): two passes here, as only the vectors are compared."""
        return EncodedTexts(self.encode(texts), self.token_vectors(texts))

    def load(self) -> None:
        """Nothing more to open: the model is loaded on first use."""

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> PooledVectors:
        """As MiniLMEmbedder.encode_spans, from sentence-transformers' own token vectors."""
        if not texts:
            return PooledVectors(np.zeros((0, self.dim), dtype=np.float32), [])
        tokens, marks = self._tokens(texts)
        pooled, cut = [], []
        for index, vectors in enumerate(tokens):
            special = marks["special_tokens_mask"][index]
            rows, missed = pool_spans(
                vectors.float().numpy(),
                marks["offset_mapping"][index],
                [not flag for flag in special],
                spans[index],
                len(special) >= MAX_SEQ_LENGTH,
                self.dim,
            )
            pooled.append(rows)
            cut += [(index, number) for number in missed]
        if cut:
            alone = self.encode([texts[i][slice(*spans[i][n])] for i, n in cut])
            for (index, number), vector in zip(cut, alone, strict=True):
                pooled[index][number] = vector
        # The texts' own vectors: the mean over all their tokens, as the model pools them.
        means = np.stack([vectors.float().numpy().mean(axis=0) for vectors in tokens])
        return PooledVectors(means / np.linalg.norm(means, axis=1, keepdims=True), pooled)
