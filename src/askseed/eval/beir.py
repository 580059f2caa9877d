"""Readers for benchmark folders in the BEIR layout.

A folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``), ``qrels/<split>.tsv`` (a header line, then ``query-id<TAB>corpus-id<TAB>score``)
and, for question-answering sets, ``answers.jsonl`` (``_id``, ``answers``). A set may also
hold ``unanswerable.jsonl`` (``_id``, ``kind``): queries of ``queries.jsonl`` that the documents
do not answer, each with the kind of unanswerable question it is (e.g. ``off-corpus``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from askseed.errors import AskseedError


class BeirError(AskseedError):
    """A benchmark file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class BeirQuery:
    id: str
    text: str


def _open(path: Path):
    try:
        return path.open(encoding="utf-8")
    except FileNotFoundError:
        raise BeirError(f"{path}: file not found") from None
    except OSError as error:
        raise BeirError(f"{path}: cannot read ({error.strerror})") from None


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) for every non-blank line, streamed."""
    with _open(path) as lines:
        number = 0
        try:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield number, line
        except UnicodeDecodeError:
            raise BeirError(f"{path}:{number + 1}: not valid UTF-8") from None


def _json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line, streamed."""
    for number, line in _numbered_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise BeirError(f"{path}:{number}: bad JSON ({error.msg})") from None
        if not isinstance(record, dict) or "_id" not in record:
            raise BeirError(f"{path}:{number}: expected an object with an _id")
        yield number, record


def _text_field(path: Path, number: int, record: dict, name: str) -> str:
    value = record.get(name, "")
    if not isinstance(value, str):
        raise BeirError(f"{path}:{number}: {name} must be a string")
    return value


def read_corpus(folder: Path) -> Iterator[tuple[str, str]]:
    """(doc_id, "title\\n\\ntext") for each document, or just the text when it has no title."""
    path = Path(folder) / "corpus.jsonl"
    for number, record in _json_lines(path):
        title = _text_field(path, number, record, "title").strip()
        text = _text_field(path, number, record, "text")
        yield str(record["_id"]), f"{title}\n\n{text}" if title else text


def read_queries(folder: Path) -> dict[str, str]:
    """Query text by query id."""
    path = Path(folder) / "queries.jsonl"
    return {
        str(record["_id"]): _text_field(path, number, record, "text")
        for number, record in _json_lines(path)
    }


def read_qrels(folder: Path, split: str = "test") -> dict[str, dict[str, int]]:
    """Relevance grade by document id, by query id, in file order."""
    path = Path(folder) / "qrels" / f"{split}.tsv"
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _numbered_lines(path):
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 3:
            raise BeirError(f"{path}:{number}: expected query-id, corpus-id, score")
        query_id, doc_id, score = fields
        if number == 1:
            if score.strip().lstrip("-").isdigit():
                raise BeirError(f"{path}:1: expected the header line, found a judgment")
            continue
        try:
            qrels.setdefault(query_id, {})[doc_id] = int(score)
        except ValueError:
            raise BeirError(f"{path}:{number}: score {score!r} is not a whole number") from None
    return qrels


def read_answers(folder: Path) -> dict[str, list[str]] | None:
    """Gold answer strings by query id, or None when the set has no answers.jsonl."""
    path = Path(folder) / "answers.jsonl"
    if not path.exists():
        return None
    answers: dict[str, list[str]] = {}
    for number, record in _json_lines(path):
        values = record.get("answers")
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise BeirError(f"{path}:{number}: answers must be a list of strings")
        answers[str(record["_id"])] = values
    return answers


def judged_queries(folder: Path, split: str = "test") -> list[BeirQuery]:
    """The queries that have judgments in the split, in the order the qrels file lists them."""
    queries = read_queries(folder)
    judged = []
    for query_id in read_qrels(folder, split):
        if query_id not in queries:
            raise BeirError(f"{Path(folder) / 'queries.jsonl'}: no query {query_id!r} (in qrels)")
        judged.append(BeirQuery(query_id, queries[query_id]))
    return judged


def read_unanswerable(folder: Path) -> dict[str, str] | None:
    """The kind of each unanswerable query by id, in file order; None without the file."""
    path = Path(folder) / "unanswerable.jsonl"
    if not path.exists():
        return None
    queries = read_queries(folder)
    kinds: dict[str, str] = {}
    for number, record in _json_lines(path):
        kind = record.get("kind")
        if not isinstance(kind, str) or not kind.strip():
            raise BeirError(f"{path}:{number}: kind must be a non-empty string")
        query_id = str(record["_id"])
        if query_id not in queries:
            raise BeirError(f"{path}:{number}: no query {query_id!r} in queries.jsonl")
        kinds[query_id] = kind.strip()
    return kinds


def unanswerable_queries(folder: Path, kinds: dict[str, str]) -> list[BeirQuery]:
    """The unanswerable queries, in the order unanswerable.jsonl lists them."""
    queries = read_queries(folder)
    return [BeirQuery(query_id, queries[query_id]) for query_id in kinds]
