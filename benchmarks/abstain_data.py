"""squad-a-abstain for the calibrator: its questions, their articles, and their features.

Shared by calibrate.py (which fits) and abstain.py (which measures). Each question gets the
article it is about, so that cross-validation can hold whole articles out:

- an answerable question: the article of its gold paragraph (answers.jsonl `corpus_id`, whose
  title prefix names the article: `Super_Bowl_50_3` -> `Super_Bowl_50`);
- an off-corpus question: the article of its paragraph in ../squad-a (the 4 left-out ones);
- an adversarial question (SQuAD 2.0 no-answer) has no paragraph in the data. Its questions
  come in runs with consecutive ids, one run per paragraph; a run's article is the one most
  of its questions retrieve first. Only the grouping uses retrieval, never the labels.

The features of every question (features.py over the first 5 passages, exactly as
find_answer computes them) are cached in ~/.cache/askseed/calibrate/, keyed by the code and
the data, so that refitting takes seconds. alignment_data.py adds the token alignments.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from askseed.config import load_settings
from askseed.engine import Engine
from askseed.eval.metrics import answer_found, auroc, expected_calibration_error
from askseed.eval.runner import cache_root, prepare_corpus
from askseed.query.answer import SUPPORT_PASSAGES
from askseed.query.features import FEATURES, QUESTION_FEATURES, question_words, sentence_features
from askseed.query.retrieve import ASKSEED, load_candidates, rank_chunks
from askseed.store.reader import IndexReader
from askseed.text import NOT_TOPIC_WORDS, STOPWORDS, fold

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "eval"
SET = DATA / "squad-a-abstain"
ANSWERABLE, OFF_CORPUS, ADVERSARIAL = "answerable", "off-corpus", "adversarial"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # answerable, off-corpus or adversarial
    article: str
    answers: tuple[str, ...]  # gold strings; empty when unanswerable
    statement: bool = False  # the question rewritten as keywords (keyword_form)


@dataclass
class FeatureTable:
    """One row per candidate sentence; `question` says whose (an index into questions)."""

    questions: list[Question]
    x: np.ndarray  # rows x len(FEATURES)
    y: np.ndarray  # 1 when the sentence holds a gold answer
    question: np.ndarray  # row -> question index
    q: np.ndarray  # questions x len(QUESTION_FEATURES)
    texts: list[str] | None = None  # the distinct candidate sentences
    text: np.ndarray | None = None  # row -> index into texts
    # rows x len(alignment.ALIGNMENT_FEATURES): each row's alignment with its question
    # (alignment_data.py), of which askseed computes only the top candidates'
    z: np.ndarray | None = None


_TOKEN = re.compile(r"[^\W_]+")
_DROPPED = (
    STOPWORDS
    | NOT_TOPIC_WORDS
    | frozenset(["is", "are", "was", "were", "has", "have", "had", "will", "the"])
)


def keyword_form(question: str) -> str:
    """The question as a user might type it as keywords: its words in order, without the
    question words, auxiliaries and stopwords ("Which NFL team represented the AFC at Super
    Bowl 50?" -> "NFL team represented AFC Super Bowl 50"). SQuAD holds no statements, and
    a statement's answerability is fitted on these (calibrate.py)."""
    return " ".join(t for t in _TOKEN.findall(question) if fold(t) not in _DROPPED)


def jsonl_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def article_of(corpus_id: str) -> str:
    return corpus_id.rsplit("_", 1)[0]


def require_data() -> None:
    if not (SET / "unanswerable.jsonl").is_file():
        sys.exit(f"skipped: {SET} is absent (the benchmark data lives in ../shared/eval)")


def open_engine() -> tuple[Engine, dict[str, str]]:
    """The engine over squad-a-abstain's documents (indexed on first use) and file -> doc id."""
    corpus = prepare_corpus(SET)
    engine = Engine(load_settings(seeds=corpus.documents, index=corpus.index))
    engine.ensure_fresh()
    return engine, corpus.doc_ids


def load_questions(
    reader: IndexReader, doc_ids: dict[str, str], vectors: np.ndarray
) -> list[Question]:
    raw = jsonl_rows(SET / "queries.jsonl")
    kinds = {row["_id"]: row["kind"] for row in jsonl_rows(SET / "unanswerable.jsonl")}
    gold = {row["_id"]: row for row in jsonl_rows(SET / "answers.jsonl")}
    left_out = {
        row["_id"]: row["corpus_id"] for row in jsonl_rows(DATA / "squad-a" / "answers.jsonl")
    }
    articles: dict[str, str] = {}
    runs: list[list[str]] = []
    for index, row in enumerate(raw):
        qid = row["_id"]
        kind = kinds.get(qid, ANSWERABLE)
        if kind == ANSWERABLE:
            articles[qid] = article_of(gold[qid]["corpus_id"])
        elif kind == OFF_CORPUS:
            articles[qid] = article_of(left_out[qid])
        else:
            ranked, _ = rank_chunks(reader, row["text"], vectors[index], ASKSEED)
            top = reader.chunks_by_id([ranked[0][0]])[ranked[0][0]].source if ranked else "?"
            articles[qid] = article_of(doc_ids.get(top, "?_0"))
            if runs and runs[-1][-1][:20] == qid[:20]:
                runs[-1].append(qid)
            else:
                runs.append([qid])
    for run in runs:
        vote = Counter(articles[qid] for qid in run).most_common(1)[0][0]
        for qid in run:
            articles[qid] = vote
    return [
        Question(
            row["_id"],
            row["text"],
            kinds.get(row["_id"], ANSWERABLE),
            articles[row["_id"]],
            tuple(gold[row["_id"]]["answers"]) if row["_id"] in gold else (),
        )
        for row in raw
    ]


class TableBuilder:
    """A FeatureTable, one question at a time: its candidate sentences and features, exactly
    as find_answer computes them over the first passages of `reader`'s index."""

    def __init__(self) -> None:
        self.xs: list[tuple[float, ...]] = []
        self.ys: list[float] = []
        self.owners: list[int] = []
        self.qs: list[tuple[float, ...]] = []
        self.row_texts: list[int] = []
        self.text_ids: dict[str, int] = {}

    def add(self, reader: IndexReader, question: Question, vector: np.ndarray) -> None:
        ranked, cosines = rank_chunks(reader, question.text, vector, ASKSEED)
        candidates = load_candidates(reader, ranked[: SUPPORT_PASSAGES + 5], cosines)
        words = question_words(reader, question.text)
        rows, question_values = sentence_features(
            words, vector, candidates, SUPPORT_PASSAGES, cosines.values()
        )
        owner = len(self.qs)
        self.qs.append(question_values)
        for row in rows:
            self.xs.append(row.values)
            self.ys.append(1.0 if answer_found(row.text, list(question.answers)) else 0.0)
            self.owners.append(owner)
            self.row_texts.append(self.text_ids.setdefault(row.text, len(self.text_ids)))

    def table(self, questions: list[Question]) -> FeatureTable:
        """The table of the questions added, which are `questions`, in that order."""
        return FeatureTable(
            questions,
            np.asarray(self.xs, dtype=np.float64).reshape(-1, len(FEATURES)),
            np.asarray(self.ys),
            np.asarray(self.owners),
            np.asarray(self.qs, dtype=np.float64).reshape(-1, len(QUESTION_FEATURES)),
            list(self.text_ids),
            np.asarray(self.row_texts),
        )


def _cache_file() -> Path:
    digest = hashlib.sha256()
    for path in (
        SET / "queries.jsonl",
        REPO / "src/askseed/query/features.py",
        Path(__file__),
    ):
        digest.update(path.read_bytes())
    return cache_root().parent / "calibrate" / f"features-{digest.hexdigest()[:12]}.npz"


def query_vectors(engine: Engine, texts: list[str]) -> np.ndarray:
    print(f"embedding {len(texts)} queries", file=sys.stderr)
    return engine.embedder.encode(texts)


def sentence_table() -> tuple[FeatureTable, Engine, np.ndarray]:
    """Every question's candidate sentences and features, from the cache when it is current."""
    require_data()
    engine, doc_ids = open_engine()
    cache = _cache_file()
    if cache.exists():
        saved = np.load(cache, allow_pickle=False)
        questions = [
            Question(**{**row, "answers": tuple(row["answers"])})
            for row in json.loads(str(saved["questions"]))
        ]
        return load_table(saved, questions), engine, saved["vectors"]
    texts = [row["text"] for row in jsonl_rows(SET / "queries.jsonl")]
    vectors = query_vectors(engine, texts)
    reader = IndexReader(engine.settings.index)
    questions = load_questions(reader, doc_ids, vectors)
    statements = [
        Question(f"{q.id}~keywords", keyword_form(q.text), q.kind, q.article, q.answers, True)
        for q in questions
    ]
    vectors = np.vstack([vectors, query_vectors(engine, [q.text for q in statements])])
    questions += statements
    builder = TableBuilder()
    for index, question in enumerate(questions):
        builder.add(reader, question, vectors[index])
        if (index + 1) % 1000 == 0:
            print(f"features {index + 1}/{len(questions)}", file=sys.stderr)
    table = builder.table(questions)
    questions_json = json.dumps([q.__dict__ for q in questions])
    save_table(cache, table, vectors=vectors, questions=questions_json)
    return table, engine, vectors


def save_table(path: Path, table: FeatureTable, **extra) -> None:
    """The table's arrays and texts (not its questions, nor z) in one .npz, with `extra`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        x=table.x,
        y=table.y,
        question=table.question,
        q=table.q,
        texts=json.dumps(table.texts),
        text=table.text,
        **extra,
    )


def load_table(saved, questions: list[Question]) -> FeatureTable:
    """The table save_table wrote (`saved`: its np.load), for these questions."""
    return FeatureTable(
        questions,
        saved["x"],
        saved["y"],
        saved["question"],
        saved["q"],
        json.loads(str(saved["texts"])),
        saved["text"],
    )


def share(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def questions_summary(results) -> dict:
    """summarise of the questions alone, leaving out their keyword forms (statements)."""
    return summarise([result for result in results if not result.statement])


def summarise(results, score: str = "confidence", calibrated: bool = True) -> dict:
    """The figures a benchmark row reports of a list of results, each with `kind`, `answered`,
    `correct` and a score attribute named by `score`; ECE only for a calibrated score."""
    answerable = [r for r in results if r.kind == ANSWERABLE]
    scores = [getattr(r, score) for r in results]
    correct = [r.correct for r in results]
    return {
        "answered": share(r.answered for r in answerable),
        "answer_sentence@1": share(r.answered and r.correct for r in answerable),
        # askseed eval's answer-sentence@1: the first quote holds the answer, answered or not
        "quote_right": share(r.correct for r in answerable),
        "abstained off-corpus": share(not r.answered for r in results if r.kind == OFF_CORPUS),
        "abstained adversarial": share(not r.answered for r in results if r.kind == ADVERSARIAL),
        "ece": expected_calibration_error(scores, correct) if calibrated else None,
        "auroc": auroc(
            [getattr(r, score) for r in answerable],
            [getattr(r, score) for r in results if r.kind != ANSWERABLE],
        ),
    }
