import json
from pathlib import Path

import pytest

from askseed.errors import AskseedError
from askseed.eval.beir import (
    BeirError,
    BeirQuery,
    judged_queries,
    read_answers,
    read_corpus,
    read_qrels,
    read_queries,
)

SHARED_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_jsonl(
        tmp_path / "corpus.jsonl",
        [
            {"_id": "d1", "title": "Cats", "text": "Cats purr.", "metadata": {}},
            {"_id": "d2", "title": "", "text": "Dogs bark."},
            {"_id": 3, "text": "No title field."},
        ],
    )
    write_jsonl(
        tmp_path / "queries.jsonl",
        [
            {"_id": "q1", "text": "Do cats purr?", "metadata": {}},
            {"_id": "q2", "text": "Do dogs bark?"},
            {"_id": "q3", "text": "Not judged."},
        ],
    )
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq2\td2\t1\nq1\td1\t2\nq1\td2\t0\n", encoding="utf-8"
    )
    return tmp_path


def test_read_corpus_joins_title_and_text(folder):
    assert list(read_corpus(folder)) == [
        ("d1", "Cats\n\nCats purr."),
        ("d2", "Dogs bark."),
        ("3", "No title field."),
    ]


def test_read_queries(folder):
    assert read_queries(folder) == {
        "q1": "Do cats purr?",
        "q2": "Do dogs bark?",
        "q3": "Not judged.",
    }


def test_read_qrels_skips_header_and_keeps_grades(folder):
    assert read_qrels(folder) == {"q2": {"d2": 1}, "q1": {"d1": 2, "d2": 0}}


def test_judged_queries_follow_qrels_order(folder):
    assert judged_queries(folder) == [
        BeirQuery("q2", "Do dogs bark?"),
        BeirQuery("q1", "Do cats purr?"),
    ]


def test_read_answers_absent_is_none(folder):
    assert read_answers(folder) is None


def test_read_answers(folder):
    write_jsonl(folder / "answers.jsonl", [{"_id": "q1", "corpus_id": "d1", "answers": ["purr"]}])
    assert read_answers(folder) == {"q1": ["purr"]}


@pytest.mark.parametrize(
    ("relative", "content", "message"),
    [
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "ok"}\n{"_id": "d2", "te\n',
            r"corpus.jsonl:2: bad JSON",
        ),
        ("corpus.jsonl", '["not", "an", "object"]\n', r"corpus.jsonl:1: expected an object"),
        ("corpus.jsonl", '{"_id": "d1", "text": 5}\n', r"corpus.jsonl:1: text must be a string"),
        ("corpus.jsonl", b"\xff\xfe\n", r"corpus.jsonl:1: not valid UTF-8"),
        (
            "queries.jsonl",
            '{"text": "no id"}\n',
            r"queries.jsonl:1: expected an object with an _id",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1 d1 1\n",
            r"test.tsv:2: expected query-id",
        ),
        (
            "qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\thigh\n",
            r"test.tsv:2: score 'high'",
        ),
        ("qrels/test.tsv", "q1\td1\t1\n", r"test.tsv:1: expected the header line"),
        (
            "answers.jsonl",
            '{"_id": "q1", "answers": "purr"}\n',
            r"answers.jsonl:1: answers must be",
        ),
    ],
)
def test_malformed_files_name_file_and_line(folder, relative, content, message):
    path = folder / relative
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    reader = {
        "corpus.jsonl": lambda: list(read_corpus(folder)),
        "queries.jsonl": lambda: read_queries(folder),
        "qrels/test.tsv": lambda: read_qrels(folder),
        "answers.jsonl": lambda: read_answers(folder),
    }[relative]
    with pytest.raises(BeirError, match=message):
        reader()


@pytest.mark.parametrize(
    ("missing", "reader"),
    [
        ("corpus.jsonl", lambda folder: list(read_corpus(folder))),
        ("queries.jsonl", read_queries),
        ("qrels/test.tsv", read_qrels),
    ],
)
def test_missing_file_is_named(folder, missing, reader):
    (folder / missing).unlink()
    with pytest.raises(BeirError, match=rf"{missing}: file not found"):
        reader(folder)


def test_unknown_split_is_named(folder):
    with pytest.raises(BeirError, match=r"qrels/dev.tsv: file not found"):
        read_qrels(folder, "dev")


def test_judged_query_missing_from_queries(folder):
    with (folder / "qrels" / "test.tsv").open("a", encoding="utf-8") as qrels:
        qrels.write("q9\td1\t1\n")
    with pytest.raises(BeirError, match=r"queries.jsonl: no query 'q9'"):
        judged_queries(folder)


def test_beir_error_is_a_value_error():
    assert issubclass(BeirError, AskseedError)


def shared_set(name: str) -> Path:
    path = SHARED_EVAL / name
    if not (path / "corpus.jsonl").exists():
        pytest.skip(f"benchmark data not found at {path} (public eval sets live beside the repo)")
    return path


def test_scifact_counts_match_its_readme():
    folder = shared_set("scifact")
    qrels = read_qrels(folder)
    assert len(judged_queries(folder)) == 300
    assert sum(len(judgments) for judgments in qrels.values()) == 339
    assert sum(1 for _ in read_corpus(folder)) == 5183


def test_squad_answers_cover_every_judged_query():
    folder = shared_set("squad-a")
    answers = read_answers(folder)
    queries = judged_queries(folder)
    assert len(queries) == 5696
    assert all(answers[query.id] for query in queries)
