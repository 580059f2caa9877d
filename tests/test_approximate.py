"""The approximate index (IVF companions of large segments) and the memory-mapped one-shot path.

The size thresholds are forced low, so that a corpus of a few hundred chunks gets an IVF."""

from __future__ import annotations

import os
import random
import resource
import sqlite3

import faiss
import numpy as np
import pytest

from askseed import engine as engine_module
from askseed.config import Settings
from askseed.engine import Engine
from askseed.ingest import indexer
from askseed.ingest.indexer import update_index
from askseed.store import approximate, probing, segments
from askseed.store.reader import IndexReader
from askseed.store.schema import StoreError
from askseed.store.vectors import Segment, VectorSet, write_flat
from conftest import FakeEmbedder
from test_crash import SEED, filler, named_files, vector_files, write_folder

QUERIES = ("lantern meadow copper", "juniper kettle ledger", "granite falcon", "saddle rafter")


@pytest.fixture
def approximate_index(tmp_path, monkeypatch):
    """160 files of filler, several commits, merged segments with IVF companions."""
    monkeypatch.setattr(indexer, "EMBED_BATCH", 16)
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 32)
    monkeypatch.setattr(indexer, "SAVE_SHARE", 0)
    monkeypatch.setattr(segments, "BASE_SEGMENT_VECTORS", 32)
    monkeypatch.setattr(approximate, "MIN_CHUNKS", 100)
    monkeypatch.setattr(approximate, "MIN_SEGMENT_VECTORS", 64)
    rng = random.Random(SEED)
    documents = {f"notes/{n:03}.txt": filler(rng, 4) for n in range(160)}
    documents["ferry.txt"] = "The island ferry leaves the harbour at nine every morning.\n"
    write_folder(tmp_path / "docs", documents)
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    update_index(settings, FakeEmbedder())
    return settings


def test_the_approximate_index_answers_as_exact_search(approximate_index, monkeypatch):
    embedder = FakeEmbedder()
    with IndexReader(approximate_index.index) as reader:
        assert reader.has_approximate
        assert reader.chunks >= 160
        for query in QUERIES:
            vector = embedder.encode([query])
            [exact] = reader.search(vector, 10, mode="exact")
            [approx] = reader.search(vector, 10, mode="approximate")
            [auto] = reader.search(vector, 10)
            assert approx == auto
            # A few lists, all probed: the same chunks with the same cosines (scored from the
            # flat vectors), up to the order of ties.
            assert [round(s, 5) for _, s in approx] == [round(s, 5) for _, s in exact]
            assert {i for i, _ in approx} == {i for i, _ in exact}
    assert vector_files(approximate_index.index) == named_files(approximate_index.index)
    approximate_engine = Engine(approximate_index, embedder=embedder)
    exact_engine = Engine(approximate_index, embedder=embedder)
    question = "When does the island ferry leave the harbour?"
    try:
        approximate_quote = approximate_engine.ask(question).passages[0].quote
        # The engine opens its reader at the first question, in the mode of that moment.
        monkeypatch.setattr(engine_module, "SEARCH_MODE", "exact")
        assert approximate_quote == exact_engine.ask(question).passages[0].quote
        assert "nine" in approximate_engine.ask(question).passages[0].quote
    finally:
        approximate_engine.close()
        exact_engine.close()


def test_probing_a_few_lists_of_clustered_vectors_keeps_recall(tmp_path, monkeypatch):
    """Vectors in topics, as real ones are: probing 8 of ~150 lists of 32-byte codes and
    rescoring the best RESCORE still finds 9 of the 10 exact nearest, and every cosine
    returned is the exact one. A companion holds 40 bytes a vector (code and id) and the
    codebooks, not the template's coarse quantizer or rotation."""
    monkeypatch.setattr(approximate, "MIN_SEGMENT_VECTORS", 1000)
    # Two rounds of OPQ, on one thread (as askseed searches): 10 take 13 s of CPU here.
    monkeypatch.setattr(approximate, "OPQ_ROUNDS", 2)
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(SEED)
    dim, topics = 384, 64
    centres = rng.standard_normal((topics, dim), dtype=np.float32)
    vectors = centres[rng.integers(0, topics, 6000)] + 0.6 * rng.standard_normal(
        (6000, dim), dtype=np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    parts = [(1, 3000), (3001, 6000)]
    built = []
    for number, (first, last) in enumerate(parts, start=1):
        name = f"vectors-1.{number}.faiss"
        ids = np.arange(first, last + 1)
        size, digest = write_flat(tmp_path / name, ids, vectors[first - 1 : last])
        built.append(Segment(name, len(ids), first, last, size, digest))
    dead = {built[0].name: np.arange(1, 3000, 7)}  # tombstones, hidden in both searches
    nlist, *_ = approximate.train(tmp_path, built, dead, "vectors-1.9.ivf")
    assert nlist > 100
    for position, segment in enumerate(built):
        name = f"vectors-1.{position + 3}.ivf"
        size, digest = approximate.build(
            tmp_path, segment, dead.get(segment.name), tmp_path / "vectors-1.9.ivf", name
        )
        built[position] = segment._replace(
            approximate=name, approximate_size=size, approximate_sha256=digest
        )
    nprobe = probing.nprobe_for(nlist)
    assert nprobe < nlist / 10
    template = tmp_path / "vectors-1.9.ivf"
    # The codes are rotated first (OPQ); the rotation is the template's alone.
    assert isinstance(faiss.read_index(str(tmp_path / "vectors-1.9.ivf")), faiss.IndexPreTransform)
    for segment in built:
        companion = faiss.read_index(str(tmp_path / segment.approximate))
        assert isinstance(companion, faiss.IndexIVFPQ)
        assert companion.quantizer.ntotal == 0 and companion.code_size == 32
        live = segment.vectors - len(dead.get(segment.name, ()))
        codebooks = 4 * dim * 256
        assert segment.approximate_size < live * (32 + 8) + codebooks + 64 * 1024
    rescore = approximate.RESCORE
    store = VectorSet(tmp_path, built, dead, dim, nprobe=nprobe, rescore=rescore, template=template)
    queries = vectors[rng.integers(0, 6000, 50)] + 0.3 * rng.standard_normal((50, dim))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = store.search(queries, 10, mode="exact")
    approx = store.search(queries, 10, mode="approximate")
    recall = np.mean(
        [
            len({i for i, _ in a} & {i for i, _ in e}) / 10
            for a, e in zip(approx, exact, strict=True)
        ]
    )
    assert recall >= 0.9
    hidden = set(dead[built[0].name].tolist())
    for query, hits in zip(queries, approx, strict=True):
        assert not {i for i, _ in hits} & hidden
        decoded = store.similarities(query, [i for i, _ in hits])  # from the 8-bit codes
        for chunk_id, score in hits:
            assert score == pytest.approx(decoded[chunk_id], abs=1e-5)
            assert score == pytest.approx(float(vectors[chunk_id - 1] @ query), abs=5e-3)


def test_an_update_keeps_the_approximate_index_consistent(approximate_index):
    """Removed chunks are tombstoned in the IVF too; new ones land in small flat segments."""
    docs = approximate_index.seeds
    for n in range(0, 160, 4):
        (docs / f"notes/{n:03}.txt").unlink()
    (docs / "bakery.txt").write_text("The bakery sells rye bread on Sundays only.\n")
    update_index(approximate_index, FakeEmbedder())
    embedder = FakeEmbedder()
    with IndexReader(approximate_index.index) as reader:
        assert reader.has_approximate
        alive = reader.chunks_by_id(list(range(1, 5000))).keys()
        for query in (*QUERIES, "bakery rye bread sundays"):
            vector = embedder.encode([query])
            [exact] = reader.search(vector, 10, mode="exact")
            [approx] = reader.search(vector, 10, mode="approximate")
            assert {i for i, _ in approx} <= alive
            assert len({i for i, _ in approx} & {i for i, _ in exact}) >= 9
        [top] = reader.search(embedder.encode(["bakery rye bread sundays"]), 1)
        assert "bakery" in reader.chunks_by_id([top[0][0]])[top[0][0]].text


@pytest.mark.parametrize(
    ("nlist", "probed"),
    [(1024, 64), (2048, 128), (160, 10), (100, 8), (5, 5), (1, 1)],
)
def test_lists_probed(nlist, probed):
    assert probing.nprobe_for(nlist) == probed


def test_an_index_trained_with_another_nprobe_probes_as_many_lists_as_a_new_one(
    approximate_index, monkeypatch
):
    """The lists probed are a search setting: the manifest's approximate_nprobe records the
    choice when the template was trained, and an older index follows today's choice."""
    vectors = FakeEmbedder().encode(list(QUERIES))
    with IndexReader(approximate_index.index) as reader:
        before = reader.search(vectors, 10, mode="approximate")
    _set_manifest(approximate_index.index, "approximate_nprobe", "1")
    probed = []
    real_probe = probing.probe

    def probe(template, companions, queries, fetch, nprobe=None):
        probed.append(nprobe or probing.nprobe_for(probing.ivf_of(template).nlist))
        return real_probe(template, companions, queries, fetch, nprobe)

    monkeypatch.setattr(probing, "probe", probe)
    with IndexReader(approximate_index.index) as reader:
        assert reader.search(vectors, 10, mode="approximate") == before
    assert probed and all(count > 1 for count in probed)


def _set_manifest(index, key: str, value: str | None) -> None:
    conn = sqlite3.connect(index / "meta.sqlite")
    with conn:
        conn.execute("DELETE FROM manifest WHERE key = ?", (key,))
        if value is not None:
            conn.execute("INSERT INTO manifest (key, value) VALUES (?, ?)", (key, value))
    conn.close()


@pytest.mark.parametrize("old_format", [None, "1"])
def test_an_ivf_of_another_format_is_searched_exactly_then_rebuilt(approximate_index, old_format):
    """An index whose IVF predates the compact codes (no approximate_format, or another) is
    not misread: questions search it exactly, and `askseed index` trains a new IVF, rebuilds
    every companion and deletes the old files, even with no document changed."""
    index = approximate_index.index
    old = named_files(index)
    _set_manifest(index, "approximate_format", old_format)
    vector = FakeEmbedder().encode([QUERIES[0]])
    with IndexReader(index) as reader:
        assert not reader.has_approximate
        assert reader.search(vector, 10) == reader.search(vector, 10, mode="exact")
    report = update_index(approximate_index, FakeEmbedder())
    assert report.embedded_files == 0
    with IndexReader(index) as reader:
        assert reader.manifest["approximate_format"] == approximate.FORMAT
        assert reader.has_approximate
        [approx] = reader.search(vector, 10, mode="approximate")
        [exact] = reader.search(vector, 10, mode="exact")
        assert {i for i, _ in approx} == {i for i, _ in exact}
    ivf = {name for name in named_files(index) if name.endswith(".ivf")}
    assert ivf and not ivf & old
    assert vector_files(index) == named_files(index)


def test_a_damaged_template_is_reported_in_one_line_and_rebuilt(approximate_index):
    """The reader now opens the template (the companions' quantizer): a truncated one is
    damage named with its remedy, and `askseed index` replaces the index."""
    index = approximate_index.index
    with IndexReader(index) as reader:
        template = index / reader.manifest["approximate_template"]
    template.write_bytes(template.read_bytes()[:100])
    with pytest.raises(StoreError, match=f"{template.name} does not have its recorded size"):
        IndexReader(index)
    assert update_index(approximate_index, FakeEmbedder()).chunks > 0
    with IndexReader(index) as reader:
        assert reader.has_approximate


def test_search_modes_are_checked_and_fall_back_without_an_ivf(tmp_path):
    write_folder(tmp_path / "docs", {"a.txt": "Copper lanterns light the meadow.\n"})
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    update_index(settings, FakeEmbedder())
    vector = FakeEmbedder().encode(["copper lantern"])
    with IndexReader(settings.index) as reader:
        assert not reader.has_approximate
        assert reader.search(vector, 3, mode="approximate") == reader.search(vector, 3, "exact")
        with pytest.raises(ValueError, match="mode must be one of"):
            reader.search(vector, 3, mode="fast")


def _mapped(path) -> bool:
    with open("/proc/self/maps") as maps:
        return any(line.rstrip().endswith(str(path)) for line in maps)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux's /proc")
def test_a_memory_mapped_segment_answers_without_being_read(tmp_path):
    """Opening a 60 MB segment maps it: RSS grows by far less than the file, and the file
    shows among the process's mappings; a search then answers from the mapping."""
    rng = np.random.default_rng(SEED)
    count, dim = 80_000, 384
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    path = tmp_path / "vectors-1.1.faiss"
    size, digest = write_flat(path, np.arange(1, count + 1), vectors)
    query = vectors[1234].copy()
    del vectors
    before = _rss_mb()
    mapped = VectorSet(tmp_path, [Segment(path.name, count, 1, count, size, digest)], {}, dim)
    mapped.open_files()
    assert _mapped(path)
    cosines = mapped.similarities(query, [1235, 7])
    grown = _rss_mb() - before
    assert grown < size / 2**20 / 4, f"RSS grew by {grown:.0f} MB for a {size >> 20} MB file"
    assert cosines[1235] == pytest.approx(1.0, abs=1e-3)
    [hits] = mapped.search(query.reshape(1, -1), 3)
    assert hits[0][0] == 1235
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_a_question_is_answered_from_memory_mapped_segments(approximate_index):
    engine = Engine(approximate_index, embedder=FakeEmbedder())
    try:
        answer = engine.ask("When does the island ferry leave the harbour?")
        reader = engine._reader
        for name in named_files(approximate_index.index):
            if name.endswith(".faiss"):
                assert _mapped(approximate_index.index / name), name
        assert reader.has_approximate and "nine" in answer.passages[0].quote
    finally:
        engine.close()
