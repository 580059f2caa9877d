"""`askseed eval` end to end on a tiny BEIR folder made here, with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askseed.eval.runner import file_name, prepare_corpus, run_queries, sample_by_kind
from askseed.query.answer import Answer, Passage
from askseed.ui import arguments, cli

REPO = Path(__file__).resolve().parent.parent
SHARED_EVAL = REPO.parent / "shared" / "eval"
KEYS = {
    "ndcg@10",
    "recall@10",
    "recall@100",
    "mrr@10",
    "answer_sentence@1",
    "abstained",
    "answered",
    "abstained_unanswerable",
    "abstained_by_kind",
    "auroc",
    "ece",
    "queries",
    "unanswerable",
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
    # The fake embedder's vectors mean nothing, so whether it answers is left to the real
    # model's test below; the figures only have to agree.
    assert figures["answered"] + figures["abstained"] == pytest.approx(1.0)
    assert figures["answer_sentence@1"] <= figures["answered"]


def test_every_system_runs_through_the_same_harness(beir, fake_cli, capsys):
    from askseed.query.retrieve import SYSTEMS

    assert set(SYSTEMS) == set(arguments.EVAL_SYSTEMS)
    for system in arguments.EVAL_SYSTEMS:
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


# --- unanswerable questions ------------------------------------------------------------------

UNANSWERABLE = [
    ("u1", "What is the capital of Peru?", "off-corpus"),
    ("u2", "How deep is the ocean under the crust of Io?", "adversarial"),
    ("u3", "What colour are the lakes of Mars?", "adversarial"),
]
# query id -> (answered, confidence, the first quote holds the gold answer)
SCRIPTED = {
    "q1": (True, 0.9, True),
    "q2": (True, 0.6, False),
    "q3": (False, 0.1, True),  # refused, though its nearest miss quotes the answer
    "u1": (False, 0.05, False),
    "u2": (True, 0.7, False),
    "u3": (False, 0.2, False),
}


class ScriptedEngine:
    """Answers each query as SCRIPTED says, quoting its gold document."""

    def __init__(self):
        self.texts = {text: qid for qid, text, _, _ in QUERIES}
        self.texts |= {text: qid for qid, text, _ in UNANSWERABLE}
        self.gold = {qid: (doc, answer) for qid, _, doc, answer in QUERIES}

    def ask(self, question, k=None, query=None, refreshed=False, retrieval=None):
        qid = self.texts[question]
        answered, confidence, holds = SCRIPTED[qid]
        doc, gold = self.gold.get(qid, ("mars", "nothing"))
        quote = gold if holds else "Something else entirely."
        passage = Passage(1, quote, quote, 0, file_name(doc), 1, 1, 0.5, confidence=confidence)
        return Answer(question, question, answered, [passage], confidence=confidence)


def add_unanswerable(folder: Path) -> Path:
    with (folder / "queries.jsonl").open("a", encoding="utf-8") as queries:
        for qid, text, _ in UNANSWERABLE:
            queries.write(json.dumps({"_id": qid, "text": text}) + "\n")
    rows = [json.dumps({"_id": qid, "kind": kind}) for qid, _, kind in UNANSWERABLE]
    (folder / "unanswerable.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_unanswerable_questions_are_scored_against_hand_computed_figures(beir):
    report = run_queries(ScriptedEngine(), prepare_corpus(add_unanswerable(beir)))
    figures = report.to_json()
    assert figures["queries"] == 3 and figures["unanswerable"] == 3
    assert figures["answered"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["abstained"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["answer_sentence@1"] == pytest.approx(1 / 3, abs=1e-4)  # q1 only: q3 was refused
    assert figures["abstained_unanswerable"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["abstained_by_kind"] == {"off-corpus": 1.0, "adversarial": 0.5}
    # answerable 0.9, 0.6, 0.1 against unanswerable 0.05, 0.7, 0.2: 3 + 2 + 1 wins of 9
    assert figures["auroc"] == pytest.approx(6 / 9, abs=1e-4)
    # every answer alone in its bin: |1-.9| + |0-.6| + |1-.1| + .05 + .7 + .2, over 6
    assert figures["ece"] == pytest.approx(2.55 / 6, abs=1e-4)
    assert "abstained, unanswerable" in report.summary() and "adversarial" in report.summary()


def test_without_unanswerable_questions_their_figures_are_null(beir):
    figures = run_queries(ScriptedEngine(), prepare_corpus(beir)).to_json()
    assert figures["abstained_unanswerable"] is None and figures["abstained_by_kind"] is None
    assert figures["auroc"] is None and figures["unanswerable"] == 0
    assert figures["ece"] is not None


SAMPLES = [
    pytest.param({"a": list(range(10)), "b": list(range(5))}, None, None, id="everything"),
    pytest.param(
        {"a": list(range(10)), "b": list(range(5))},
        6,
        {"a": [0, 2, 5, 7], "b": [0, 2]},
        id="in proportion, spread",
    ),
    pytest.param(
        {"a": list(range(10)), "b": list(range(5))}, 3, {"a": [0, 5], "b": [0]}, id="small"
    ),
    # exact shares 1.2, 0.4, 0.4: a gets 1, the one left goes to the first largest remainder
    pytest.param({"a": [1, 2, 3], "b": [4], "c": [5]}, 2, {"a": [1], "b": [4], "c": []}, id="ties"),
    pytest.param({"a": [1, 2]}, 5, {"a": [1, 2]}, id="more than there are"),
]


@pytest.mark.parametrize(("groups", "limit", "expected"), SAMPLES)
def test_sample_by_kind(groups, limit, expected):
    assert sample_by_kind(groups, limit) == (groups if expected is None else expected)


def test_max_queries_samples_each_kind_in_proportion(beir):
    report = run_queries(ScriptedEngine(), prepare_corpus(add_unanswerable(beir)), max_queries=4)
    # 3 answerable, 1 off-corpus, 2 adversarial of 6: shares 2, 0.67, 1.33 -> 2, 1, 1
    assert report.queries == 2 and report.unanswerable == 2
    assert set(report.abstained_by_kind) == {"off-corpus", "adversarial"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"_id": "u1"}\n', "kind must be a non-empty string"),
        ('{"_id": "nope", "kind": "off-corpus"}\n', "no query 'nope'"),
    ],
)
def test_a_bad_unanswerable_file_is_named(beir, content, message):
    from askseed.eval.beir import BeirError, read_unanswerable

    add_unanswerable(beir)
    (beir / "unanswerable.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(BeirError, match=message):
        read_unanswerable(beir)
