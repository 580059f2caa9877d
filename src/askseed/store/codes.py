"""How a flat segment codes its chunk vectors: 8 bits a dimension, on the segment's own range.

FAISS's scalar quantizer QT_8bit, trained per segment: each dimension's minimum to maximum in
that segment, cut into 256 values (BENCHMARKS.md, "8-bit chunk vectors").
"""

from __future__ import annotations

import numpy as np


def trained_flat(low: np.ndarray, high: np.ndarray):
    """An empty flat segment whose 8-bit codes decode to 256 evenly spaced values from `low`
    to `high`, in each dimension.

    FAISS's QT_8bit training takes each dimension's minimum and maximum of what it is given,
    so two rows are enough: a merge finds its range in one pass over the inputs, without
    holding them all as float32. FAISS truncates when it encodes and decodes a code to the
    middle of its step; the range is moved down half a step so that the decoded values
    include `low` and `high` themselves, and encoding rounds to the nearest. Then a segment
    rewritten alone (compacted) decodes and codes again to exactly the same values, where
    FAISS's own range would move every value half a step at each rewrite."""
    import faiss

    low = np.asarray(low, np.float64)
    step = (np.asarray(high, np.float64) - low) / 255
    rows = np.vstack([low - step / 2, low + 254.5 * step]).astype(np.float32)
    flat = faiss.IndexScalarQuantizer(
        len(low), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    flat.train(np.ascontiguousarray(rows))
    return faiss.IndexIDMap(flat)


class ValueRange:
    """Each dimension's minimum and maximum over the vectors seen so far."""

    def __init__(self, dim: int):
        self.low = np.full(dim, np.inf, np.float32)
        self.high = np.full(dim, -np.inf, np.float32)

    def update(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self.low = np.minimum(self.low, vectors.min(axis=0))
            self.high = np.maximum(self.high, vectors.max(axis=0))

    def flat(self):
        """An empty segment trained on this range (on zeros when nothing was seen)."""
        if not np.isfinite(self.low).all():
            zeros = np.zeros_like(self.low)
            return trained_flat(zeros, zeros)
        return trained_flat(self.low, self.high)
