"""`askseed eval` end to end on a tiny BEIR folder made here, with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askseed.eval.runner import file_name, prepare_corpus, run_queries
from askseed.ui import cli

REPO = Path(__file__).resolve().parent.parent
SHARED_EVAL = REPO.parent / "shared" / "eval"
KEYS = {
    "ndcg@10",
    "recall@10",
    "recall@100",
    "mrr@10",
    "answer_sentence@1",
    "abstained",
    "queries",
    "queries_per_second",
}

CORPUS = [
    {"_id": "io", "title": "Io", "text": "Volcanoes on Io erupt with lava fountains. "
     "The fountains reach three hundred kilometres above the surface."},
    {"_id": "europa/ice", "title": "Europa", "text": "Europa has an icy crust. "
     "An ocean of salt water lies beneath the ice of Europa."},
    {"_id": "titan", "title": "Titan", "text": "Titan has lakes of liquid methane. "
     "Its thick orange haze hides the surface."},
    {"_id": "mars", "title": "Mars", "text": "Mars has the tallest volcano, Olympus Mons. "
     "Dust storms on Mars can cover the whole planet."},
]  # fmt: skip
QUERIES = [
    ("q1", "How far above the surface of Io do the fountains reach?", "io", "three hundred"),
    ("q2", "What lies beneath the ice of Europa?", "europa/ice", "ocean of salt water"),
    ("q3", "What are the lakes on Titan made of?", "titan", "liquid methane"),
]


def make_beir(folder: Path, with_answers: bool = True) -> Path:
    (folder / "qrels").mkdir(parents=True)
    lines = [json.dumps(record) for record in CORPUS]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    queries = [json.dumps({"_id": qid, "text": text}) for qid, text, _, _ in QUERIES]
    (folder / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    qrels = ["query-id\tcorpus-id\tscore"] + [f"{qid}\t{doc}\t1" for qid, _, doc, _ in QUERIES]
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    if with_answers:
        answers = [json.dumps({"_id": qid, "answers": [gold]}) for qid, _, _, gold in QUERIES]
        (folder / "answers.jsonl").write_text("\n".join(answers) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def beir(tmp_path):
    return make_beir(tmp_path / "moons")


@pytest.fixture
def fake_cli(monkeypatch, fake_embedder):
    from askseed.engine import Engine

    monkeypatch.setattr(
        cli, "_make_engine", lambda settings: Engine(settings, embedder=fake_embedder)
    )
    return fake_embedder


def run(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_json_has_every_key_and_finds_the_documents(beir, fake_cli, capsys):
    code, out, err = run(capsys, "eval", beir, "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert set(figures) == KEYS
    assert figures["queries"] == 3
    assert figures["ndcg@10"] == pytest.approx(1.0)
    assert figures["recall@100"] == pytest.approx(1.0)
    assert figures["abstained"] == 0.0
    assert figures["answer_sentence@1"] == pytest.approx(1.0)


def test_every_system_runs_through_the_same_harness(beir, fake_cli, capsys):
    from askseed.query.retrieve import SYSTEMS

    assert set(SYSTEMS) == set(cli.EVAL_SYSTEMS)
    for system in cli.EVAL_SYSTEMS:
        code, out, err = run(capsys, "eval", beir, "--json", "--system", system)
        assert code == 0, err
        assert set(json.loads(out)) == KEYS


def test_second_run_re_embeds_nothing(beir, fake_cli, capsys):
    assert run(capsys, "eval", beir, "--json")[0] == 0
    documents = prepare_corpus(beir).documents
    stamps = {path.name: path.stat().st_mtime_ns for path in documents.iterdir()}
    code, out, err = run(capsys, "eval", beir, "--json", "--max-queries", "1")
    assert code == 0
    assert "nothing re-embedded" in err
    assert json.loads(out)["queries"] == 1
    assert {path.name: path.stat().st_mtime_ns for path in documents.iterdir()} == stamps


def test_plain_output_and_explicit_index(beir, fake_cli, capsys, tmp_path):
    code, out, err = run(capsys, "eval", beir, "--index", tmp_path / "my-index")
    assert code == 0, err
    assert "nDCG@10" in out and "answer-sentence@1" in out
    assert (tmp_path / "my-index" / "meta.sqlite").exists()


def test_without_answers_the_answer_figure_is_null(tmp_path, fake_cli, capsys):
    folder = make_beir(tmp_path / "no-answers", with_answers=False)
    code, out, err = run(capsys, "eval", folder, "--json")
    assert code == 0, err
    assert json.loads(out)["answer_sentence@1"] is None


def test_documents_map_back_to_corpus_ids(beir):
    corpus = prepare_corpus(beir)
    assert sorted(corpus.doc_ids.values()) == sorted(record["_id"] for record in CORPUS)
    io = corpus.documents / file_name("io")
    assert io.read_text(encoding="utf-8").startswith("Io\n\nVolcanoes on Io")
    assert corpus.index.parent == corpus.documents.parent


@pytest.mark.parametrize(
    ("doc_id", "name"),
    [
        ("4983", "4983.txt"),
        ("Super_Bowl_50_0", "Super_Bowl_50_0.txt"),
        ("europa/ice", "europa%2Fice.txt"),
        (".hidden", "%2Ehidden.txt"),
        ("café", "caf%C3%A9.txt"),
        ("a b", "a%20b.txt"),
    ],
)
def test_file_names_are_safe(doc_id, name):
    assert file_name(doc_id) == name


def test_long_ids_are_shortened_but_stay_distinct():
    first, second = file_name("x" * 300 + "1"), file_name("x" * 300 + "2")
    assert first != second and len(first) < 130


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "no-such-folder"], "no-such-folder"),
        (["eval", "{beir}", "--max-queries", "0"], "--max-queries"),
        (["eval", "{beir}", "--system", "bm25"], "--system"),
    ],
)
def test_bad_input_is_one_line(beir, fake_cli, capsys, argv, message):
    argv = [arg.replace("{beir}", str(beir)) for arg in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_a_missing_qrels_file_is_named(beir, fake_cli, capsys):
    (beir / "qrels" / "test.tsv").unlink()
    code, out, err = run(capsys, "eval", beir)
    assert code == 2 and "test.tsv" in err


def test_run_queries_is_deterministic(beir, fake_engine_factory, make_settings):
    from askseed.config import Settings

    corpus = prepare_corpus(beir)
    engine = fake_engine_factory(Settings(seeds=corpus.documents, index=corpus.index))
    engine.refresh()
    first = run_queries(engine, corpus)
    second = run_queries(engine, corpus)
    assert first.to_json() | {"queries_per_second": 0} == second.to_json() | {
        "queries_per_second": 0
    }


@pytest.mark.model
def test_real_model_on_the_tiny_folder(beir, capsys, monkeypatch):
    code, out, err = run(capsys, "eval", beir, "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["ndcg@10"] == pytest.approx(1.0)
    assert figures["answer_sentence@1"] == pytest.approx(1.0)
    assert figures["abstained"] == 0.0


@pytest.mark.skipif(
    not (SHARED_EVAL / "squad-a").is_dir(),
    reason=f"the shared benchmark sets are not here ({SHARED_EVAL / 'squad-a'} is missing)",
)
def test_shared_squad_corpus_becomes_one_file_per_paragraph():
    corpus = prepare_corpus(SHARED_EVAL / "squad-a")
    assert len(corpus.doc_ids) == 1048
    assert len(list(corpus.documents.glob("*.txt"))) == 1048
    assert "Super_Bowl_50_0" in corpus.doc_ids.values()
