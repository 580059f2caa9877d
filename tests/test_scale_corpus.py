"""benchmarks/scale.py's corpus and stand-in embedder: every sentence written survives askseed's
dedup, and each text always gets the same vector (tiny sizes; the benchmark itself is slow)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from askseed.config import Settings
from askseed.ingest.indexer import update_index
from askseed.ingest.sentences import split_sentences
from askseed.store.reader import IndexReader

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from scale_corpus import (  # noqa: E402
    StandInEmbedder,
    document_text,
    read_vectors,
    scifact_pool,
    sentence_pool,
    vector_indexes,
    write_corpus,
)

SCIFACT_CORPUS = REPO.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"

ABSTRACTS = [
    "The river carried fine silt from the northern hills down to the wide delta during every "
    "single spring. Farmers along both banks planted barley as soon as the floods had drained "
    "away from their fields. Old records kept by the monastery describe three long years in "
    "which the floods never came at all.",
    "A survey of forty village wells found nitrate levels above the national limit in most of "
    "the wells tested. Children living near the largest farms were tested for anaemia at twice "
    "the usual national rate. The regional council promised new pipes for every village but "
    "delayed the work until after the vote.",
    "Measurements taken on the glacier over twelve summers show the ice front retreating "
    "steadily uphill every year. Researchers placed wooden stakes across the surface to follow "
    "how quickly the snow melted each month. Their simple numerical model predicts that the lower "
    "tongue will vanish within the next thirty years.",
]


def _count_words(texts: list[str]) -> list[int]:
    return [len(text.split()) + 2 for text in texts]


def _stand_in(seed: int = 0) -> StandInEmbedder:
    pool = np.random.default_rng(5).standard_normal((50, 384)).astype(np.float16)
    return StandInEmbedder(pool, "stand-in", "stand-in-1", _count_words, seed=seed)


def _assert_survives(tmp_path: Path, pool, files: int, per_file: int) -> None:
    docs = tmp_path / "docs"
    write_corpus(docs, pool, files, per_file)
    written = [pool.sentence(n) for n in range(files * per_file)]
    assert len(set(written)) == len(written)
    read = [
        sentence.text
        for path in sorted(docs.rglob("*.txt"))
        for sentence in split_sentences(path.read_text(encoding="utf-8"))
    ]
    assert read == written  # each written sentence is one sentence to askseed's splitter
    report = update_index(Settings(seeds=docs, index=tmp_path / "index"), _stand_in())
    assert report.duplicates_dropped == 0
    assert report.files == files
    with IndexReader(tmp_path / "index") as reader:
        chunks = reader.chunks_by_id(list(range(1, reader.chunks + 1)))
    stored = {chunk.sentence_text(span) for chunk in chunks.values() for span in chunk.sentences}
    assert stored == set(written)


def test_recombined_sentences_survive_dedup(tmp_path):
    pool = sentence_pool(ABSTRACTS)
    assert len(pool.lefts) == 9
    _assert_survives(tmp_path, pool, files=4, per_file=12)


def test_scifact_sentences_survive_dedup(tmp_path):
    if not SCIFACT_CORPUS.exists():
        pytest.skip(f"{SCIFACT_CORPUS} is absent")
    pool = scifact_pool(SCIFACT_CORPUS, limit=150)
    _assert_survives(tmp_path, pool, files=6, per_file=60)


def test_near_twin_halves_are_not_both_kept():
    twins = [
        "Patients treated with the new drug recovered faster than those in the control group "
        "at 6 months, 24% at 1 year and 24% at 5 years.",
        "Volunteers given the placebo reported more headaches than expected during the trial "
        "at 6 months, 40% at 1 year and 40% at 5 years.",
    ]
    pool = sentence_pool(twins)
    assert len(pool.lefts) == 2
    assert len(pool.rights) == 1  # the second, one number apart, would make near-twins


def test_sentences_sharing_a_half_differ_in_the_other():
    pool = sentence_pool(ABSTRACTS)
    size = len(pool.lefts)
    same_left = [pool.sentence(n) for n in range(3, size * size, size)]
    rights = [sentence.removeprefix(pool.lefts[3]) for sentence in same_left]
    assert len(set(rights)) == size


def test_documents_are_paragraphs_of_the_numbered_sentences():
    pool = sentence_pool(ABSTRACTS)
    text = document_text(pool, 5, 6)
    assert text.count("\n\n") == 1
    assert text.startswith(pool.sentence(5)) and text.rstrip().endswith(pool.sentence(10))


def test_stand_in_vectors_are_fixed_by_the_text():
    texts = ["first text", "second text", "first text"]
    vectors = _stand_in().encode(texts)
    again = _stand_in().encode(list(reversed(texts)))
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, again[::-1])
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert float(vectors[0] @ vectors[1]) < 0.99


def test_stand_in_spans_are_the_span_texts_vectors():
    embedder = _stand_in()
    texts, spans = ["One two. Three four."], [[(0, 8), (9, 20)]]
    pooled = embedder.encode_spans(texts, spans)
    np.testing.assert_array_equal(pooled.texts, embedder.encode(texts))
    np.testing.assert_array_equal(pooled.spans[0], embedder.encode(["One two.", "Three four."]))
    assert embedder.texts == 3 + 1 + 2 and embedder.seconds > 0


def test_stand_in_reports_what_it_was_given():
    embedder = _stand_in()
    assert (embedder.name, embedder.fingerprint, embedder.dim) == ("stand-in", "stand-in-1", 384)
    assert embedder.count_tokens(["a b c"]) == [5]


def test_the_real_model_finds_a_stand_in_index_fresh(tmp_path):
    """The stand-in reports the real model's name and fingerprint, so that `askseed` with the
    real model answers from the benchmark's index instead of re-embedding it (hours at 1M)."""
    from askseed.engine import Engine
    from askseed.model.embedder import MODEL_NAME, MiniLMEmbedder, WordPieceCounter, model_dir

    real = MiniLMEmbedder()
    pool = np.random.default_rng(5).standard_normal((50, 384)).astype(np.float16)
    stand_in = StandInEmbedder(pool, MODEL_NAME, real.fingerprint, WordPieceCounter(model_dir()))
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    write_corpus(settings.seeds, sentence_pool(ABSTRACTS), files=3, sentences_per_file=10)
    update_index(settings, stand_in)
    assert Engine(settings, embedder=real).status().fresh
    again = update_index(settings, real)  # embeds nothing: no model run, no export
    assert (again.embedded_chunks, again.warnings) == (0, ())


def test_real_vectors_are_read_from_every_segment_of_a_finished_index(tmp_path):
    """The stand-in's pool comes from an index's segment files (8-bit codes, decoded), and
    only from a finished build: one with the model in its manifest and no writer at work."""
    from askseed.model.embedder import MODEL_NAME, WordPieceCounter, model_dir

    pool = np.random.default_rng(6).standard_normal((50, 384)).astype(np.float16)
    stand_in = StandInEmbedder(pool, MODEL_NAME, "stand-in-1", WordPieceCounter(model_dir()))
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "source")
    write_corpus(settings.seeds, sentence_pool(ABSTRACTS), files=3, sentences_per_file=10)
    update_index(settings, stand_in)
    assert vector_indexes((settings.index, tmp_path / "nowhere")) == [settings.index]
    assert vector_indexes((tmp_path / "nowhere",)) == []
    # In askseed's eval cache, SciFact's index (the benchmark asks SciFact claims) comes first.
    cache = tmp_path / "eval"
    for name in ("squad-a-abstain-1", "scifact-1"):
        shutil.copytree(settings.index, cache / name / "index")
    assert vector_indexes((cache,)) == [cache / "scifact-1" / "index"]
    shutil.rmtree(cache / "scifact-1")
    assert vector_indexes((cache,)) == [cache / "squad-a-abstain-1" / "index"]
    read = read_vectors(settings.index)
    with IndexReader(settings.index) as reader:
        assert read.dtype == np.float16 and read.shape == (reader.chunks, 384)
        found = reader.search(read.astype(np.float32), 1, mode="exact")
    # Each is the stored vector of its own chunk, in id order (8-bit codes, then float16).
    assert [hits[0][0] for hits in found] == list(range(1, len(read) + 1))
    assert min(hits[0][1] for hits in found) > 0.99
