"""The approximate index: an IVF companion beside each large flat segment.

An exhaustive search reads every vector: about 50 ms a question at a million chunks on one
core. An inverted-file index (IVF) sorts vectors into NLIST clusters and scans only the
`nprobe` nearest clusters' lists. The clustering is trained once, when the index first holds
MIN_CHUNKS chunks, on a sample of at most TRAIN_SAMPLE vectors (so its cost is bounded too),
and saved as an empty trained IVF: the template. Every segment of MIN_SEGMENT_VECTORS or more
then gets a companion IVF built from that template, when it is written or merged, so the
approximate index grows with the segments instead of being rebuilt. Smaller segments (the
newest few batches) are scanned exactly even in an approximate search.

Codes are product-quantized (FAISS's IVFPQ: CODE_BYTES sub-vectors of 8 bits, encoding each
vector's residual from its cluster's centre, after an OPQ rotation learned with the
clusters): 32 bytes a vector instead of the 384 of 8-bit scalar codes. They only pick the
candidates: the best RESCORE of them are scored exactly from the flat segment's vectors
(vectors.VectorSet: 8-bit codes, or float16 in a segment an older askseed wrote), so the
IVF's quantization error can cost recall but never changes a score, and a
deeper rescoring buys back what coarser codes lose. Every companion shares the template's
clusters and rotation, so a companion file leaves both out (the coarse quantizer is 1.5 MB,
as much as 40,000 codes) and borrows the template's when opened (probing.attach_quantizer).
Figures and the choice of codes, rotation, nprobe and RESCORE: BENCHMARKS.md, "Compact IVF
codes".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from askseed.store.probing import nprobe_for
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
# Which vectors the sample holds: fixed, so that one index gives one template (the sample's
# draw moves recall by up to 0.02 either way: BENCHMARKS.md, "Lists probed and the template's
# sample").
SAMPLE_SEED = 0
# Bytes of a vector's code (product-quantizer sub-vectors of PQ_BITS each) and how many
# candidates are scored exactly, chosen by measurement on the 1M-chunk scale index
# (BENCHMARKS.md, "Compact IVF codes").
CODE_BYTES = 32
PQ_BITS = 8
RESCORE = 500
# OPQ: a rotation learned on the sample before the codes, so that every sub-vector carries a
# like share of the variance. It is what lets 32-byte codes keep recall (BENCHMARKS.md).
ROTATE = True
OPQ_ROUNDS = 10
# The rotation is learned on part of the sample: its training holds a few copies of what it
# is given (160 MB more for the whole sample), and the codebooks are trained on all of it.
OPQ_SAMPLE = 16_384
# The companions' format, in the manifest (approximate_format): an index whose IVF has another
# (format 1: 8-bit scalar codes, each companion with its own quantizer) is searched exactly
# until `askseed index` rebuilds its IVF.
FORMAT = "2"


def sub_vectors(dim: int) -> int:
    """CODE_BYTES, or the largest divisor of dim below it (a sub-vector has whole dimensions)."""
    return max(m for m in range(1, CODE_BYTES + 1) if dim % m == 0)


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
    # A small sample (tests, tiny thresholds) cannot train 256 centroids a sub-vector.
    bits = max(1, min(PQ_BITS, int(np.log2(len(sample)))))
    m = sub_vectors(dim)
    ivf = faiss.IndexIVFPQ(quantizer, dim, nlist, m, bits, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = ivf.pq.cp.seed = 1234  # the same sample gives the same codes
    # k-means moves little after 10 rounds from a sample this size, and training is the one
    # slow commit of a build (BENCHMARKS.md, "Approximate search").
    ivf.cp.niter = TRAIN_ROUNDS
    ivf.nprobe = nprobe_for(nlist)
    template = ivf
    if ROTATE and bits == 8:  # OPQ trains 8-bit codes of its own while it learns
        rotation = faiss.OPQMatrix(dim, m)
        rotation.niter, rotation.max_train_points = OPQ_ROUNDS, OPQ_SAMPLE
        template = faiss.IndexPreTransform(rotation, ivf)
    template.train(sample)
    size, digest = write_index(template, directory / name)
    return nlist, size, digest


def _sample(
    directory: Path, segments: list[Segment], dead: dict[str, np.ndarray], count: int
) -> np.ndarray:
    """Up to `count` live vectors, drawn evenly from every segment."""
    import faiss

    total = sum(segment.vectors for segment in segments)
    rng = np.random.default_rng(SAMPLE_SEED)
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
    return write_companion(companion, directory / name)


def write_companion(companion, path: Path) -> tuple[int, str]:
    """Write a companion without its coarse quantizer: it is the template's, lent to the
    companion when read (probing.attach_quantizer)."""
    import faiss

    # Without the template's rotation too: the lists hold codes of rotated vectors, and the
    # search rotates the queries once with the template's (probing.rotate).
    ivf = faiss.extract_index_ivf(companion)
    full, owned = ivf.quantizer, ivf.own_fields
    # An empty index in the quantizer's place keeps the file FAISS's own IVF format.
    empty = faiss.IndexFlatIP(ivf.d)
    ivf.quantizer, ivf.own_fields = empty, False
    try:
        return write_index(ivf, path)
    finally:
        ivf.quantizer, ivf.own_fields = full, owned


def usable(manifest: dict[str, str]) -> bool:
    """Whether the manifest names a trained IVF of this format."""
    return bool(manifest.get("approximate_template")) and (
        manifest.get("approximate_format") == FORMAT
    )
