"""The dense vectors: a flat inner-product FAISS index keyed by chunk id.

This is the part of the store a different engine (approximate or distributed) would replace,
so it is kept to a handful of methods: load, search, and an `apply` that writes a new file.
Files are written to a temporary name, flushed and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class VectorFileError(RuntimeError):
    """The vectors file is missing or damaged."""


class FlatVectors:
    """Exact cosine search (vectors are normalised, so inner product is cosine)."""

    def __init__(self, index, dim: int):
        self._index = index
        self.dim = dim

    @classmethod
    def empty(cls, dim: int) -> FlatVectors:
        import faiss

        return cls(faiss.IndexIDMap(faiss.IndexFlatIP(dim)), dim)

    @classmethod
    def load(cls, path: Path, writable: bool = False) -> FlatVectors:
        """Memory-map for reading (a one-shot query touches only the pages it needs)."""
        import faiss

        flags = 0 if writable else faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as error:
            raise VectorFileError(f"{path.name} cannot be read ({_first_line(error)})") from error
        return cls(index, index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Best `k` (chunk id, cosine) per query row, best first."""
        if self.count == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i >= 0]
            for id_row, score_row in zip(ids, scores, strict=True)
        ]

    def apply(self, remove_ids: list[int], add_ids: list[int], add_vectors: np.ndarray) -> None:
        if remove_ids:
            self._index.remove_ids(np.asarray(remove_ids, dtype=np.int64))
        if add_ids:
            vectors = np.ascontiguousarray(add_vectors, dtype=np.float32)
            self._index.add_with_ids(vectors, np.asarray(add_ids, dtype=np.int64))

    def save(self, path: Path) -> None:
        import faiss

        temporary = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__
