"""The approximate index: an IVF companion beside each large flat segment.

An exhaustive search reads every vector: about 50 ms a question at a million chunks on one
core. An inverted-file index (IVF) sorts vectors into NLIST clusters and scans only the
`nprobe` nearest clusters' lists. The clustering is trained once, when the index first holds
MIN_CHUNKS chunks, on a sample of at most TRAIN_SAMPLE vectors (so its cost is bounded too),
and saved as an empty trained IVF: the template. Every segment of MIN_SEGMENT_VECTORS or more
then gets a companion IVF built from that template, when it is written or merged, so the
approximate index grows with the segments instead of being rebuilt. Smaller segments (the
newest few batches) are scanned exactly even in an approximate search.

Codes are 8-bit (FAISS's SQ8): half the bytes of the flat file's float16. They only pick the
candidates; the candidates' cosines are then computed from the flat float16 vectors
(vectors.VectorSet), so quantization error can cost recall but never changes a score.
Figures and the choice of nprobe: BENCHMARKS.md, "Approximate search".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from askseed.store.vectors import Segment, live_slices, read_mapped, write_index

# Below this many chunks the exact search is fast enough (BENCHMARKS.md, "Approximate search")
# and no approximate index is built.
MIN_CHUNKS = 200_000
# A segment smaller than this is scanned exactly: clustering a batch's few thousand vectors
# would cost more than scanning them.
MIN_SEGMENT_VECTORS = 16_384
# sqrt(1M): a million chunks fill the lists with about a thousand vectors each.
NLIST = 1024
# FAISS's k-means wants at least 39 points a cluster.
TRAIN_SAMPLE = 40 * NLIST
TRAIN_ROUNDS = 10
# The share of the lists probed, chosen by measurement: 48 of 1,024 gave recall@10 0.98
# against exact search at a million chunks, where 32 gave 0.956 to 0.973 depending on the
# questions, too close to the 0.95 asked (BENCHMARKS.md, "Vector segments and approximate
# search").
NPROBE_SHARE = 3 / 64
MIN_NPROBE = 8


def nprobe_for(nlist: int) -> int:
    return min(nlist, max(MIN_NPROBE, round(nlist * NPROBE_SHARE)))


def train(
    directory: Path, segments: list[Segment], dead: dict[str, np.ndarray], name: str
) -> tuple[int, int, str]:
    """Train the template on a sample of the live vectors and write it; returns its nlist,
    size and SHA-256."""
    import faiss

    sample = _sample(directory, segments, dead, TRAIN_SAMPLE)
    nlist = max(1, min(NLIST, len(sample) // 39))
    dim = sample.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    template = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    template.cp.seed = 1234  # the same sample gives the same clusters
    # k-means moves little after 10 rounds from a sample this size, and training is the one
    # slow commit of a build (BENCHMARKS.md, "Approximate search").
    template.cp.niter = TRAIN_ROUNDS
    template.train(sample)
    template.nprobe = nprobe_for(nlist)
    size, digest = write_index(template, directory / name)
    return nlist, size, digest


def _sample(
    directory: Path, segments: list[Segment], dead: dict[str, np.ndarray], count: int
) -> np.ndarray:
    """Up to `count` live vectors, drawn evenly from every segment."""
    import faiss

    total = sum(segment.vectors for segment in segments)
    rng = np.random.default_rng(0)
    parts = []
    for segment in segments:
        index = read_mapped(directory / segment.name)
        inner = faiss.downcast_index(index.index)
        ids = faiss.vector_to_array(index.id_map)
        share = min(segment.vectors, max(1, round(count * segment.vectors / total)))
        rows = np.sort(rng.choice(segment.vectors, share, replace=False))
        rows = rows[~np.isin(ids[rows], dead.get(segment.name, np.zeros(0, np.int64)))]
        if len(rows):
            parts.append(inner.reconstruct_batch(rows.astype(np.int64)))
        del inner, index
    return np.vstack(parts).astype(np.float32)


def load_template(path: Path):
    import faiss

    return faiss.read_index(str(path))


def build(
    directory: Path,
    segment: Segment,
    dead: np.ndarray | None,
    template: Path,
    name: str,
) -> tuple[int, str]:
    """The companion IVF of one segment, written as `name`; returns its size and SHA-256."""
    companion = load_template(template)
    for ids, vectors in live_slices(directory / segment.name, dead):
        companion.add_with_ids(vectors, ids)
    return write_index(companion, directory / name)
