"""The dense vectors: a flat (exhaustive) inner-product FAISS index keyed by chunk id.

The vectors are stored as float16 (FAISS's fp16 scalar quantizer): half the bytes of float32,
the same top 10 for every query measured, scores within 0.0001, and a single question is
searched about twice as fast at 100,000 chunks, since a flat search is bound by reading the
vectors (BENCHMARKS.md, "Bytes per chunk").

This is the part of the store a different engine (approximate or distributed) would replace,
so it is kept to a handful of methods: load, search, and an `apply` that writes a new file.
Files are written to a temporary name, flushed and renamed, so a reader never sees half a file.
Each file's size and SHA-256 are recorded in the manifest. FAISS checks the header and the
length of what it reads, but a damaged byte in the vectors themselves would go unnoticed, so
every update (`askseed index`) checks the full SHA-256 before building on the file. A
question checks only the size: hashing the whole file would read every page of a memory map
that a query otherwise barely touches (1.5 GB at a million chunks).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from askseed.checksum import file_sha256


class VectorFileError(RuntimeError):
    """The vectors file is missing or damaged."""


class FlatVectors:
    """Exhaustive cosine search (vectors are normalised, so inner product is cosine)."""

    def __init__(self, index, dim: int):
        self._index = index
        self.dim = dim

    @classmethod
    def empty(cls, dim: int) -> FlatVectors:
        import faiss

        quantizer = faiss.ScalarQuantizer.QT_fp16
        flat = faiss.IndexScalarQuantizer(dim, quantizer, faiss.METRIC_INNER_PRODUCT)
        return cls(faiss.IndexIDMap(flat), dim)

    @classmethod
    def load(
        cls,
        path: Path,
        writable: bool = False,
        sha256: str | None = None,
        size: int | None = None,
    ) -> FlatVectors:
        """Memory-map for reading; refuse a file whose recorded size or SHA-256 differs."""
        import faiss

        if size is not None and path.exists() and path.stat().st_size != size:
            raise VectorFileError(f"{path.name} does not have its recorded size")
        if sha256 is not None and _checksum(path) != sha256:
            raise VectorFileError(f"{path.name} does not match its checksum")
        flags = 0 if writable else faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        if not writable:
            # askseed searches one question at a time, and FAISS parallelises over questions:
            # its thread pool only adds start-up and wake-up time (5-8 ms for a 3-chunk index,
            # a third slower at 200,000 chunks on a shared machine).
            faiss.omp_set_num_threads(1)
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as error:
            if not path.exists():
                raise FileNotFoundError(path) from error
            # FAISS's own message is a C++ source location; the user needs only the verdict.
            raise VectorFileError(f"{path.name} is truncated or unreadable") from error
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

    def similarities(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of one query to each of these chunks (those present), by id."""
        if not ids or self.count == 0:
            return {}
        import faiss

        # A search restricted to the ids: a flat index with an id map cannot hand vectors back.
        selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))
        scores, found = self._index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
            len(ids),
            params=faiss.SearchParameters(sel=selector),
        )
        return {int(i): float(s) for i, s in zip(found[0], scores[0], strict=True) if i >= 0}

    def apply(self, remove_ids: list[int], add_ids: list[int], add_vectors: np.ndarray) -> None:
        if remove_ids:
            self._index.remove_ids(np.asarray(remove_ids, dtype=np.int64))
        if add_ids:
            vectors = np.ascontiguousarray(add_vectors, dtype=np.float32)
            self._index.add_with_ids(vectors, np.asarray(add_ids, dtype=np.int64))

    def save(self, path: Path) -> str:
        """Write the file durably under its final name; returns its SHA-256."""
        import faiss

        temporary = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        digest = file_sha256(temporary)
        os.replace(temporary, path)
        # The rename must be on disk before the commit that names the file.
        _fsync_directory(path.parent)
        return digest


def _checksum(path: Path) -> str:
    try:
        return file_sha256(path)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise VectorFileError(f"{path.name} is not a readable file") from error


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # some systems cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
