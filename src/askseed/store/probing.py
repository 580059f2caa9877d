"""Searching the IVF companions: the clusters found once, every companion probed, and the
best candidates over all of them picked for exact rescoring (vectors.VectorSet).

Every companion is built from one trained template (approximate.py) and shares its clusters
and, when it has one, its rotation: a companion's file holds only its lists and codebooks,
and borrows the template's coarse quantizer when opened (`attach_quantizer`).
"""

from __future__ import annotations

import numpy as np

# The share of the lists probed, chosen by measurement. 48 of 1,024 gave recall@10 0.971 to
# 0.98 against exact search at a million chunks on one template each, but the template's
# training sample moves it: over four templates of the same index, 0.9475 to 0.9715 on 200
# SciFact claims and 0.954 to 0.970 on 400 others, where 64 gave 0.958 to 0.976 on both, for
# about 0.4 ms more a search (BENCHMARKS.md, "Lists probed and the template's sample").
NPROBE_SHARE = 1 / 16
MIN_NPROBE = 8


def nprobe_for(nlist: int) -> int:
    """How many of an IVF's `nlist` lists a search probes."""
    return min(nlist, max(MIN_NPROBE, round(nlist * NPROBE_SHARE)))


def ivf_of(index):
    """The IVF inside an index (the template may wrap it in a rotation)."""
    import faiss

    return faiss.extract_index_ivf(index)


def attach_quantizer(companion, template) -> None:
    """Lend a companion the template's quantizer, left out of its file: its search reads the
    clusters' centres. The stand-in read from the file (an empty index of a few hundred
    bytes) is left allocated: FAISS's Python wrapper has no safe way to free a member."""
    ivf = ivf_of(companion)
    ivf.quantizer, ivf.own_fields = ivf_of(template).quantizer, False
    companion.referenced_objects = [template]  # the template outlives the companion


def rotate(template, queries: np.ndarray) -> np.ndarray:
    """The queries in the companions' space: through the template's rotation, if any."""
    import faiss

    if not isinstance(template, faiss.IndexPreTransform):
        return queries
    for position in range(template.chain.size()):
        queries = template.chain.at(position).apply(queries)
    return np.ascontiguousarray(queries, dtype=np.float32)


def probe(
    template, companions: list, queries: np.ndarray, fetch: int, nprobe: int | None = None
) -> list:
    """Each companion's best `fetch` (scores, ids), n_queries x fetch each; `companions` are
    (opened IVF, ID selector or None) pairs. `nprobe` lists probed: by default nprobe_for the
    template's lists, so that an index trained by an older askseed probes as many as a new
    one (the manifest's approximate_nprobe records what was chosen when it was trained)."""
    import faiss

    queries = rotate(template, queries)
    # The nearest clusters are found once for all companions, not once per companion.
    quantizer = ivf_of(template).quantizer
    nprobe = min(nprobe, quantizer.ntotal) if nprobe else nprobe_for(quantizer.ntotal)
    coarse_scores, coarse = quantizer.search(queries, nprobe)
    found = []
    for companion, selector in companions:
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)
        scores = np.empty((len(queries), fetch), np.float32)
        ids = np.empty((len(queries), fetch), np.int64)
        # The C++ call: FAISS's Python wrapper of it refuses search parameters, which carry
        # the tombstones.
        ivf_of(companion).search_preassigned_c(
            len(queries),
            faiss.swig_ptr(queries),
            fetch,
            faiss.swig_ptr(coarse),
            faiss.swig_ptr(coarse_scores),
            faiss.swig_ptr(scores),
            faiss.swig_ptr(ids),
            False,
            params,
        )
        found.append((scores, ids))
    return found


def candidates(found: list, row: int, fetch: int) -> list[tuple[int, np.ndarray]]:
    """The best `fetch` of one query's candidates over every companion, by their codes'
    scores, as (companion position, chunk ids) pairs."""
    scores = np.concatenate([scores[row] for scores, _ in found])
    ids = np.concatenate([ids[row] for _, ids in found])
    owner = np.repeat(np.arange(len(found)), fetch)
    best = np.argsort(-scores, kind="stable")[:fetch]
    best = best[ids[best] >= 0]
    return [
        (int(position), ids[best[owner[best] == position]]) for position in np.unique(owner[best])
    ]
