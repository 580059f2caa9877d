"""Sentence vectors from a chunk's own pass: token vectors mean-pooled over character spans.

A span's vector is the mean of the vectors of the tokens it covers, normalised: the model's
own pooling over part of a text, so the span is read in its context, not alone. Special tokens
([CLS], [SEP]) belong to no span. A span the tokenizer cut off (past the model's window),
wholly or in part, cannot be pooled: its number is returned so the caller embeds it alone.
"""

from __future__ import annotations

import numpy as np


def pool_spans(
    token_vectors: np.ndarray,
    offsets: list[tuple[int, int]],
    real: list[bool],
    spans: list[tuple[int, int]],
    truncated: bool,
    dim: int,
) -> tuple[np.ndarray, list[int]]:
    """One unit row per span (zeros for a span it cannot pool) and the spans it could not.

    `token_vectors` is (tokens, dim) for one text, `offsets` each token's characters in the
    text, `real` whether a token is a word piece of the text (not padding, not special).
    """
    pooled = np.zeros((len(spans), dim), dtype=np.float32)
    cut: list[int] = []
    real_mask = np.asarray(real, dtype=bool)[: len(token_vectors)]
    ends = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[: len(token_vectors)]
    covered = int(ends[real_mask, 1].max()) if real_mask.any() else 0
    for number, (start, end) in enumerate(spans):
        inside = real_mask & (ends[:, 0] < end) & (ends[:, 1] > start)
        if (truncated and end > covered) or not inside.any():
            cut.append(number)
            continue
        mean = token_vectors[inside].mean(axis=0)
        pooled[number] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return pooled, cut
