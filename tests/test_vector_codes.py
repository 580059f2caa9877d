"""Chunk vectors as 8-bit codes: each segment's own range, merges coded again, and float16
segments written by an older askseed still read beside them."""

from __future__ import annotations

import random

import faiss
import numpy as np
import pytest

from askseed.config import Settings
from askseed.engine import Engine
from askseed.ingest.indexer import update_index
from askseed.store import segments
from askseed.store.codes import ValueRange
from askseed.store.reader import IndexReader
from askseed.store.vectors import (
    Segment,
    live_slices,
    read_mapped,
    write_flat,
    write_index,
)
from test_crash import SEED, filler, write_folder


def write_fp16(path, ids, vectors):
    """A flat segment as askseed wrote them before 8-bit codes."""
    inner = faiss.IndexScalarQuantizer(
        vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index = faiss.IndexIDMap(inner)
    index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))
    return write_index(index, path)


def quantizer(path) -> int:
    index = read_mapped(path)  # held: the inner index is freed with it
    return faiss.downcast_index(index.index).sq.qtype


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def constant_column() -> np.ndarray:
    rows = unit_rows(50, 16)
    rows[:, 3] = 0.25
    return rows


def decoded(vectors: np.ndarray) -> np.ndarray:
    span = ValueRange(vectors.shape[1])
    span.update(vectors)
    index = span.flat()
    index.add_with_ids(vectors, np.arange(len(vectors)))
    inner = faiss.downcast_index(index.index)
    return inner.reconstruct_n(0, len(vectors))


@pytest.mark.parametrize(
    "vectors",
    [
        np.eye(3, 8, dtype=np.float32),  # the extremes 0 and 1 decode to themselves
        unit_rows(1, 384),  # one vector: every dimension's range is one value
        constant_column(),  # a dimension with one value among others that vary
        unit_rows(2000, 384),
        -unit_rows(300, 64, seed=3),
    ],
    ids=["identity", "one vector", "a constant dimension", "2000 unit vectors", "negated"],
)
def test_codes_round_to_the_nearest_of_256_values_spanning_each_dimension(vectors):
    once = decoded(vectors)
    step = (vectors.max(axis=0) - vectors.min(axis=0)) / 255
    assert np.all(np.abs(once - vectors) <= step / 2 + 1e-6)
    np.testing.assert_allclose(once.min(axis=0), vectors.min(axis=0), atol=1e-6)
    np.testing.assert_allclose(once.max(axis=0), vectors.max(axis=0), atol=1e-6)
    # Coded again on their own range (a segment compacted alone), they do not move.
    np.testing.assert_allclose(decoded(once), once, atol=1e-6)


@pytest.mark.parametrize(("count", "dim"), [(1, 8), (10, 64), (100, 384)])
def test_a_segment_takes_a_byte_a_dimension(tmp_path, count, dim):
    path = tmp_path / "vectors-1.1.faiss"
    write_flat(path, np.arange(1, count + 1), unit_rows(count, dim))
    index = read_mapped(path)
    assert quantizer(path) == faiss.ScalarQuantizer.QT_8bit
    assert faiss.downcast_index(index.index).code_size == dim
    assert index.ntotal == count


def test_an_empty_segment_is_written_and_read(tmp_path):
    path = tmp_path / "vectors-1.1.faiss"
    write_flat(path, np.zeros(0, np.int64), np.zeros((0, 8), np.float32))
    assert read_mapped(path).ntotal == 0


def test_a_merge_of_float16_and_8_bit_segments_is_coded_in_8_bits(tmp_path):
    vectors = unit_rows(60, 32, seed=7)
    inputs = []
    for number, (write, first, last) in enumerate(
        [(write_fp16, 1, 30), (write_flat, 31, 60)], start=1
    ):
        name = f"vectors-1.{number}.faiss"
        size, digest = write(tmp_path / name, np.arange(first, last + 1), vectors[first - 1 : last])
        inputs.append(Segment(name, last - first + 1, first, last, size, digest))
    assert quantizer(tmp_path / inputs[0].name) == faiss.ScalarQuantizer.QT_fp16
    dead = {inputs[0].name: np.array([2, 5])}

    merged = segments.merge_segments(tmp_path, inputs, dead, "vectors-2.3.faiss", None)

    assert merged.vectors == 58 and (merged.first_id, merged.last_id) == (1, 60)
    assert quantizer(tmp_path / merged.name) == faiss.ScalarQuantizer.QT_8bit
    [(ids, stored)] = list(live_slices(tmp_path / merged.name))
    assert 2 not in ids and 5 not in ids
    # Each value within half a step of the merged range (plus the 8-bit input's own step).
    step = (vectors.max(axis=0) - vectors.min(axis=0)) / 255
    assert np.all(np.abs(stored - vectors[ids - 1]) <= step + 1e-6)


def test_an_index_with_an_old_float16_segment_and_a_new_8_bit_one_answers_from_both(
    tmp_path, monkeypatch, fake_embedder
):
    rng = random.Random(SEED)
    old = {f"notes/{n:02}.txt": filler(rng, 4) for n in range(6)}
    old["ferry.txt"] = "The island ferry leaves the harbour at nine every morning.\n"
    write_folder(tmp_path / "docs", old)
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    with monkeypatch.context() as older_askseed:
        older_askseed.setattr(segments, "write_flat", write_fp16)
        update_index(settings, fake_embedder)
    write_folder(tmp_path / "docs", {"bakery.txt": "The bakery sells rye bread on Sundays.\n"})
    update_index(settings, fake_embedder)

    def check(kinds: list[int]) -> None:
        with IndexReader(settings.index) as reader:
            files = reader.vectors._segments
            assert [quantizer(settings.index / s.segment.name) for s in files] == kinds
            chunks = reader.chunks_by_id(list(range(1, 1000)))
            assert reader.vectors.count == len(chunks)
            texts = [chunk.text for chunk in chunks.values()]
            exact = dict(zip(chunks, fake_embedder.encode(texts), strict=True))
            query = fake_embedder.encode(["ferry bakery harbour bread"])[0]
            cosines = reader.similarities(query, list(chunks))
            for chunk_id, vector in exact.items():
                assert cosines[chunk_id] == pytest.approx(float(vector @ query), abs=1e-2)
        engine = Engine(settings, embedder=fake_embedder)
        try:
            ferry = engine.ask("When does the island ferry leave the harbour?")
            assert "nine" in ferry.passages[0].quote  # from the float16 segment, then merged
            bakery = engine.ask("When does the bakery sell rye bread?")
            assert "Sundays" in bakery.passages[0].quote
        finally:
            engine.close()

    fp16, eight = faiss.ScalarQuantizer.QT_fp16, faiss.ScalarQuantizer.QT_8bit
    check([fp16, eight])
    # The next merge reads the float16 segment and writes the whole as 8-bit codes.
    monkeypatch.setattr(segments, "MERGE_FACTOR", 2)
    write_folder(tmp_path / "docs", {"mill.txt": "The old mill grinds oats in autumn.\n"})
    update_index(settings, fake_embedder)
    check([eight])
