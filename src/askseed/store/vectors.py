"""The dense vectors: immutable segment files, searched together, keyed by chunk id.

Each segment is one FAISS file, an exhaustive inner-product index of 8-bit codes (FAISS's
scalar quantizer QT_8bit): each dimension's range in that segment, its minimum to its
maximum, cut into 256 values (codes.py), so 384 bytes a vector where float16 took 768
(BENCHMARKS.md, "8-bit chunk vectors"). FAISS records the quantizer in the file, so a segment
written as float16 by an older askseed is read and searched as it is; a merge decodes its
inputs and writes the merged vectors as 8-bit codes of their own range. Every cosine askseed
computes from a chunk vector (search, rescoring, keyword-only hits, the folder margin) is
from the stored codes.

A commit writes only its new vectors, as a new segment; a removed chunk becomes a tombstone,
filtered out at search time, and segments are merged now and then (segments.py). A segment
may carry an approximate companion (approximate.py), searched instead of the flat file.
Readers see only `VectorSet`.

Files are written to a temporary name, flushed and renamed, so a reader never sees half a
file. Each file's size and SHA-256 are recorded beside the chunks. FAISS checks the header and
the length of what it reads, but a damaged byte in the vectors themselves would go unnoticed,
so every update (`askseed index`) checks the full SHA-256 before building on a file. A
question checks only the size: hashing would read every page of a memory map that a query
otherwise barely touches (770 MB at a million chunks).
"""

from __future__ import annotations

import errno
import heapq
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from askseed.checksum import file_sha256
from askseed.store import probing
from askseed.store.codes import ValueRange
from askseed.store.schema import Hit

SEARCH_MODES = ("auto", "exact", "approximate")
# Vectors decoded at a time when a segment is copied (merges, IVF builds): 24 MB as float32.
SLICE = 16_384


class VectorFileError(RuntimeError):
    """A vectors file is missing or damaged."""


class Segment(NamedTuple):
    """One segment as the store's table records it (segments.py)."""

    name: str  # the flat file
    vectors: int  # rows in the file, tombstoned ones included
    first_id: int  # chunk ids in the file are ascending, within [first_id, last_id]
    last_id: int
    size: int
    sha256: str
    approximate: str | None = None  # the companion IVF file, when there is one
    approximate_size: int | None = None
    approximate_sha256: str | None = None


# --- files -------------------------------------------------------------------------------------


def write_index(index, path: Path) -> tuple[int, str]:
    """Write a FAISS index durably under its final name; returns its size and SHA-256."""
    import faiss

    temporary = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(temporary))
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    digest = file_sha256(temporary)
    size = temporary.stat().st_size
    os.replace(temporary, path)
    # The rename must be on disk before the commit that names the file.
    fsync_directory(path.parent)
    return size, digest


def write_flat(path: Path, ids: np.ndarray, vectors: np.ndarray) -> tuple[int, str]:
    """A flat segment of these vectors as 8-bit codes trained on them."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    span = ValueRange(vectors.shape[1])
    span.update(vectors)
    index = span.flat()
    if len(ids):
        index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    return write_index(index, path)


def check_file(path: Path, size: int | None = None, sha256: str | None = None) -> None:
    """Refuse a file whose recorded size or SHA-256 differs (FileNotFoundError if absent)."""
    if size is not None and path.stat().st_size != size:
        raise VectorFileError(f"{path.name} does not have its recorded size")
    if sha256 is not None:
        try:
            digest = file_sha256(path)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise VectorFileError(f"{path.name} is not a readable file") from error
        if digest != sha256:
            raise VectorFileError(f"{path.name} does not match its checksum")


def read_mapped(path: Path, approximate: bool = False):
    """Open a FAISS file memory-mapped and read-only: opening costs a few pages, not the file.

    A flat file maps its codes (IO_FLAG_MMAP_IFC); an IVF file maps its inverted lists
    (IO_FLAG_MMAP, which FAISS serves as read-only on-disk lists)."""
    import faiss

    flags = faiss.IO_FLAG_MMAP if approximate else faiss.IO_FLAG_MMAP_IFC
    try:
        return faiss.read_index(str(path), flags | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError as error:
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from error
        # FAISS's own message is a C++ source location; the user needs only the verdict.
        raise VectorFileError(f"{path.name} is truncated or unreadable") from error


def live_slices(path: Path, dead: np.ndarray | None = None):
    """A flat segment's live (ids, decoded float32 vectors), SLICE rows at a time: what a merge
    or an IVF build holds of its input at once, however large the segment."""
    import faiss

    index = read_mapped(path)
    inner = faiss.downcast_index(index.index)
    ids = faiss.vector_to_array(index.id_map)
    gone = dead if dead is not None else np.zeros(0, np.int64)
    for start in range(0, len(ids), SLICE):
        stop = min(start + SLICE, len(ids))
        keep = ~np.isin(ids[start:stop], gone)
        yield ids[start:stop][keep], inner.reconstruct_n(start, stop - start)[keep]


def fsync_directory(directory: Path) -> None:
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


# --- one segment, opened ----------------------------------------------------------------------


@dataclass(eq=False)  # compared by identity: its fields hold arrays and FAISS objects
class _Opened:
    """A segment's files, opened on first use: a one-shot exact search never opens an IVF."""

    segment: Segment
    directory: Path
    dead: np.ndarray  # its tombstoned chunk ids, sorted
    template: object = None  # the shared trained IVF (a callable giving it), for its quantizer
    _flat: object = None
    _ids: np.ndarray | None = None
    _approximate: object = None
    _selector: object = field(default=None, repr=False)

    def flat(self):
        if self._flat is None:
            path = self.directory / self.segment.name
            check_file(path, size=self.segment.size)
            index = read_mapped(path)
            if index.ntotal != self.segment.vectors:
                raise VectorFileError(f"{path.name} holds {index.ntotal} vectors, not the recorded")
            self._flat = index
        return self._flat

    def ids(self) -> np.ndarray:
        """The file's chunk ids in row order (ascending), to find a chunk's row by bisection."""
        if self._ids is None:
            import faiss

            self._ids = faiss.vector_to_array(self.flat().id_map)
        return self._ids

    def approximate(self):
        if self._approximate is None:
            import faiss

            path = self.directory / str(self.segment.approximate)
            check_file(path, size=self.segment.approximate_size)
            index = read_mapped(path, approximate=True)
            lists = faiss.downcast_InvertedLists(probing.ivf_of(index).invlists)
            if hasattr(lists, "prefetch_nthread"):
                # FAISS's mapped lists start 32 threads per search to touch the probed pages
                # first: 17 ms a segment for a 1.4 ms search (BENCHMARKS.md).
                lists.prefetch_nthread = 0
            probing.attach_quantizer(index, self.template())
            self._approximate = index
        return self._approximate

    def selector(self):
        """Every id but the tombstoned ones, for FAISS's search parameters; None when none."""
        if len(self.dead) == 0:
            return None
        if self._selector is None:
            import faiss

            # Kept on self: FAISS's selector objects hold the batch by pointer.
            batch = faiss.IDSelectorBatch(self.dead)
            self._selector = (batch, faiss.IDSelectorNot(batch))
        return self._selector[1]

    def reconstruct(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids present and alive, their vectors as float32)."""
        import faiss

        own = self.ids()
        rows = np.searchsorted(own, ids)
        rows = np.minimum(rows, len(own) - 1)
        present = (own[rows] == ids) & ~np.isin(ids, self.dead)
        rows = rows[present]
        inner = faiss.downcast_index(self.flat().index)
        vectors = (
            inner.reconstruct_batch(rows.astype(np.int64))
            if len(rows)
            else np.zeros((0, self.flat().d), np.float32)
        )
        return ids[present], vectors


# --- every segment of a snapshot -----------------------------------------------------------


class VectorSet:
    """The segments of one snapshot, searched as one index.

    Exact search scans every flat segment (tombstones excluded by a FAISS ID selector, which
    costs less than over-fetching). Approximate search probes each segment's IVF companion
    where it has one, and scans the flat file where it has none, then scores the candidates
    exactly from the flat files, so that every cosine the rest of askseed sees is the same
    whichever search found it (BENCHMARKS.md, "Vector segments and approximate search")."""

    def __init__(
        self,
        directory: Path,
        segments: list[Segment],
        tombstones: dict[str, np.ndarray],
        dim: int,
        nprobe: int | None = None,  # lists probed; None: probing.nprobe_for the template
        rescore: int = 500,  # approximate.RESCORE, which the reader passes
        template: Path | None = None,
        template_size: int | None = None,
    ):
        import faiss

        # askseed searches one question at a time, and FAISS parallelises over questions: its
        # thread pool only adds start-up and wake-up time (5-8 ms for a 3-chunk index, a
        # third slower at 200,000 chunks on a shared machine).
        faiss.omp_set_num_threads(1)
        self.dim = dim
        self.nprobe = nprobe
        self.rescore = rescore  # candidates scored exactly, however many are asked for
        self._template_path, self._template_size, self._template = template, template_size, None
        empty = np.zeros(0, np.int64)
        self._segments = [
            _Opened(segment, directory, np.sort(tombstones.get(segment.name, empty)), self.template)
            for segment in sorted(segments, key=lambda s: s.first_id)
        ]
        self._firsts = [opened.segment.first_id for opened in self._segments]
        self.count = sum(s.segment.vectors - len(s.dead) for s in self._segments)

    @property
    def has_approximate(self) -> bool:
        named = any(opened.segment.approximate for opened in self._segments)
        return named and self._template_path is not None

    def template(self):
        """The trained IVF every companion was built from: its clusters and codebooks."""
        if self._template is None:
            check_file(self._template_path, size=self._template_size)
            self._template = read_mapped(self._template_path, approximate=True)
        return self._template

    def open_files(self, mode: str = "exact") -> None:
        """Open (map) the files a search in this mode reads, checking their recorded sizes."""
        for opened in self._segments:
            opened.flat()  # even for an approximate search: it scores the candidates
            if mode == "approximate" and self.has_approximate and opened.segment.approximate:
                opened.approximate()

    def files(self) -> list[Path]:
        """Every file a search may read: the flat segments, their IVF companions, the template."""
        paths = []
        for opened in self._segments:
            paths.append(opened.directory / opened.segment.name)
            if opened.segment.approximate:
                paths.append(opened.directory / opened.segment.approximate)
        return paths + ([self._template_path] if self.has_approximate else [])

    def search(self, queries: np.ndarray, k: int, mode: str = "exact") -> list[list[Hit]]:
        """Best `k` hits (chunk id, cosine) per query row, best first. mode "approximate" uses the
        IVF companions where segments have them; "auto" means the same here (the reader
        decides when "auto" is exact)."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if self.count == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        live = [opened for opened in self._segments if opened.segment.vectors > len(opened.dead)]
        indexed = [opened for opened in live if opened.segment.approximate]
        if mode == "exact" or not self.has_approximate:
            indexed = []
        per_segment = [self._exact(opened, queries, k) for opened in live if opened not in indexed]
        if indexed:
            per_segment.append(self._approximate(indexed, queries, k))
        # Plain (id, score) pairs until here: a Hit for each of the k kept, not for every
        # candidate of every segment.
        return [
            [
                Hit(*hit)
                for hit in heapq.nlargest(
                    k, (hit for hits in per_segment for hit in hits[row]), key=_score
                )
            ]
            for row in range(len(queries))
        ]

    def _exact(self, opened: _Opened, queries: np.ndarray, k: int):
        import faiss

        params = faiss.SearchParameters(sel=opened.selector()) if len(opened.dead) else None
        scores, ids = opened.flat().search(queries, k, params=params)
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i >= 0]
            for id_row, score_row in zip(ids, scores, strict=True)
        ]

    def _approximate(self, indexed: list[_Opened], queries: np.ndarray, k: int):
        """Probe every IVF companion, keep the best `rescore` candidates by their codes'
        scores, and score those exactly from the flat vectors."""
        fetch = max(k, self.rescore)
        probed = [(opened.approximate(), opened.selector()) for opened in indexed]
        found = probing.probe(self.template(), probed, queries, fetch, self.nprobe)
        results = []
        for row, query in enumerate(queries):
            hits = []
            for position, chosen in probing.candidates(found, row, fetch):
                hits += self._rescore(indexed[position], query, chosen, k)
            results.append(hits)
        return results

    def _rescore(self, opened: _Opened, query: np.ndarray, ids: np.ndarray, k: int):
        found, vectors = opened.reconstruct(np.unique(ids[ids >= 0]))
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(found[i]), float(scores[i])) for i in order]

    def similarities(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of one query to each of these chunks (those present), by id."""
        if not ids or self.count == 0:
            return {}
        wanted = np.unique(np.asarray(ids, dtype=np.int64))
        # Segments hold ascending, disjoint id ranges: each id is looked up in one of them.
        where = np.searchsorted(np.asarray(self._firsts), wanted, side="right") - 1
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        cosines: dict[int, float] = {}
        for position in np.unique(where[where >= 0]):
            found, vectors = self._segments[position].reconstruct(wanted[where == position])
            cosines.update(zip(found.tolist(), (vectors @ query).tolist(), strict=True))
        return cosines


def _score(hit: tuple[int, float]) -> float:
    return hit[1]
