"""Word pieces as the model read them in their text: what token-level alignment
(query/alignment.py) compares a question and a sentence with."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Pieces(NamedTuple):
    """One text's word pieces, without [CLS], [SEP] or padding."""

    vectors: np.ndarray  # one unit row per word piece, as the transformer read it in the text
    spans: tuple[tuple[int, int], ...]  # each piece's (start, end) characters in the text


class EncodedTexts(NamedTuple):
    """Texts embedded with their word pieces kept, from one pass (Embedder.encode_with_pieces)."""

    vectors: np.ndarray  # one unit row per text, as Embedder.encode gives
    pieces: list[Pieces]  # per text, in the order given


def unit_pieces(vectors: np.ndarray, spans) -> Pieces:
    """Pieces with each row scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return Pieces(unit, tuple((int(start), int(end)) for start, end in spans))
