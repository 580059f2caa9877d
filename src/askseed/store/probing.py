"""Searching the IVF companions: the clusters found once, every companion probed, and the
best candidates over all of them picked for exact rescoring (vectors.VectorSet).

Every companion is built from one trained template (approximate.py) and shares its clusters
and, when it has one, its rotation: a companion's file holds only its lists and codebooks,
and borrows the template's coarse quantizer when opened (`attach_quantizer`).
"""

from __future__ import annotations

import numpy as np


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


def probe(template, companions: list, queries: np.ndarray, fetch: int, nprobe: int) -> list:
    """Each companion's best `fetch` (scores, ids), n_queries x fetch each; `companions` are
    (opened IVF, ID selector or None) pairs."""
    import faiss

    queries = rotate(template, queries)
    # The nearest clusters are found once for all companions, not once per companion.
    quantizer = ivf_of(template).quantizer
    nprobe = min(nprobe, quantizer.ntotal)
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
