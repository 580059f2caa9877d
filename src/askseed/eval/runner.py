"""`askseed eval`: measure askseed on a benchmark folder in the BEIR layout (see beir.py).

The corpus goes through askseed's own pipeline, not a shortcut: each record becomes one file,
`<id>.txt` holding the title, a blank line and the text, in a cache folder keyed by the
corpus, and that folder is indexed like any documents folder. Files are rewritten only when
their content differs, so a second run re-embeds nothing. Every judged query is then asked
through `Engine.ask`, the code behind `askseed ask`, and scored:

- documents are ranked by the first appearance of each among the returned passages, which
  ranks a document by its best chunk;
- an abstention counts as it looks to a user: only the nearest miss is returned, so it is
  the whole ranking, and it never counts as a found answer;
- answer-sentence@1 asks whether the first passage's quote holds a gold answer string.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from askseed.config import cache_dir
from askseed.eval.beir import BeirError, judged_queries, read_answers, read_corpus, read_qrels
from askseed.eval.metrics import answer_found, mean, mrr_at_k, ndcg_at_k, recall_at_k

# Passages asked for per query: enough distinct documents for Recall@100 even when several
# chunks of one document rank high.
EVAL_PASSAGES = 500
RANKED_DOCUMENTS = 100

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class EvalCorpus:
    folder: Path  # the benchmark folder
    documents: Path  # one .txt file per corpus record
    index: Path
    doc_ids: dict[str, str]  # file name (a passage's `source`) -> corpus _id


@dataclass(frozen=True)
class EvalReport:
    name: str
    queries: int
    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    answer_sentence_1: float | None  # None when the set has no answers.jsonl
    abstained: float  # share of queries answered with "the documents do not answer this"
    seconds: float

    @property
    def queries_per_second(self) -> float:
        return self.queries / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        return {
            "ndcg@10": round(self.ndcg_10, 4),
            "recall@10": round(self.recall_10, 4),
            "recall@100": round(self.recall_100, 4),
            "mrr@10": round(self.mrr_10, 4),
            "answer_sentence@1": None
            if self.answer_sentence_1 is None
            else round(self.answer_sentence_1, 4),
            "abstained": round(self.abstained, 4),
            "queries": self.queries,
            "queries_per_second": round(self.queries_per_second, 2),
        }

    def summary(self) -> str:
        answer = "n/a (no answers.jsonl)"
        if self.answer_sentence_1 is not None:
            answer = f"{self.answer_sentence_1:.4f}"
        rows = [
            ("nDCG@10", f"{self.ndcg_10:.4f}"),
            ("Recall@10", f"{self.recall_10:.4f}"),
            ("Recall@100", f"{self.recall_100:.4f}"),
            ("MRR@10", f"{self.mrr_10:.4f}"),
            ("answer-sentence@1", answer),
            ("abstained", f"{self.abstained:.2%}"),
            ("queries", str(self.queries)),
            ("queries/second", f"{self.queries_per_second:.1f}"),
        ]
        return "\n".join([f"{self.name}:"] + [f"  {label:<18} {value}" for label, value in rows])


# --- the corpus as a documents folder ----------------------------------------------------------


def cache_root() -> Path:
    return cache_dir() / "eval"


def file_name(doc_id: str) -> str:
    """A portable file name for a corpus id: unsafe characters become %XX, long ids a hash."""
    name = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), doc_id)
    if name.startswith(".") or not name:
        name = "%2E" + name[1:] if name else "%00"
    if len(name) > 120:
        name = name[:80] + "~" + hashlib.sha256(doc_id.encode()).hexdigest()[:16]
    return name + ".txt"


def prepare_corpus(folder: Path, index: Path | None = None) -> EvalCorpus:
    """Write the corpus as files into its cache folder (only what is missing or different)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BeirError(f"{folder}: not a folder in the BEIR layout (corpus.jsonl, queries.jsonl)")
    corpus_file = folder / "corpus.jsonl"
    if not corpus_file.is_file():
        raise BeirError(f"{corpus_file}: file not found")
    digest = hashlib.sha256(corpus_file.read_bytes()).hexdigest()[:12]
    root = cache_root() / f"{_UNSAFE.sub('_', folder.resolve().name)}-{digest}"
    documents = root / "docs"
    documents.mkdir(parents=True, exist_ok=True)
    doc_ids: dict[str, str] = {}
    taken: set[str] = set()  # case-folded, for file systems that ignore case
    for doc_id, text in read_corpus(folder):
        name = file_name(doc_id)
        if name.casefold() in taken:
            name = f"{name[:-4]}~{hashlib.sha256(doc_id.encode()).hexdigest()[:8]}.txt"
        taken.add(name.casefold())
        doc_ids[name] = doc_id
        _write_if_different(documents / name, text.encode("utf-8"))
    for stale in documents.glob("*.txt"):
        if stale.name not in doc_ids:
            stale.unlink()
    return EvalCorpus(folder, documents, Path(index) if index else root / "index", doc_ids)


def _write_if_different(path: Path, content: bytes) -> None:
    try:
        if path.stat().st_size == len(content) and path.read_bytes() == content:
            return  # untouched, so its stat data still matches the index
    except FileNotFoundError:
        pass
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


# --- running the queries ---------------------------------------------------------------------


def run_queries(
    engine,
    corpus: EvalCorpus,
    max_queries: int | None = None,
    retrieval=None,
    on_progress: Callable[[int, int], None] | None = None,
    name: str | None = None,
) -> EvalReport:
    """Ask every judged query (or the first max_queries) and score the answers."""
    qrels = read_qrels(corpus.folder)
    queries = judged_queries(corpus.folder)
    if max_queries is not None:
        queries = queries[:max_queries]
    gold = read_answers(corpus.folder)
    ndcg, recall_10, recall_100, mrr, found, abstained = [], [], [], [], [], []
    started = time.perf_counter()
    for done, query in enumerate(queries, start=1):
        answer = engine.ask(query.text, k=EVAL_PASSAGES, retrieval=retrieval)
        ranking = document_ranking(answer.passages, corpus.doc_ids)
        relevance = qrels[query.id]
        ndcg.append(ndcg_at_k(ranking, relevance, 10))
        recall_10.append(recall_at_k(ranking, relevance, 10))
        recall_100.append(recall_at_k(ranking, relevance, RANKED_DOCUMENTS))
        mrr.append(mrr_at_k(ranking, relevance, 10))
        abstained.append(0.0 if answer.answered else 1.0)
        if gold is not None and query.id in gold:
            quote = answer.passages[0].quote if answer.answered and answer.passages else ""
            found.append(1.0 if answer_found(quote, gold[query.id]) else 0.0)
        if on_progress:
            on_progress(done, len(queries))
    return EvalReport(
        name=name or (retrieval.name if retrieval is not None else "askseed"),
        queries=len(queries),
        ndcg_10=mean(ndcg),
        recall_10=mean(recall_10),
        recall_100=mean(recall_100),
        mrr_10=mean(mrr),
        answer_sentence_1=mean(found) if gold is not None else None,
        abstained=mean(abstained),
        seconds=time.perf_counter() - started,
    )


def document_ranking(passages, doc_ids: dict[str, str]) -> list[str]:
    """Corpus ids in order of first appearance among the passages, at most RANKED_DOCUMENTS."""
    ranking: list[str] = []
    for passage in passages:
        doc_id = doc_ids.get(passage.source)
        if doc_id is not None and doc_id not in ranking:
            ranking.append(doc_id)
            if len(ranking) == RANKED_DOCUMENTS:
                break
    return ranking


class QueryProgress:
    """`evaluating 120/300 queries` redrawn on a terminal, a line every 10% elsewhere."""

    def __init__(self, stream, label: str = "evaluating"):
        self.stream = stream
        self.label = label
        self.is_terminal = stream.isatty()
        self._last_tenth = 0

    def __call__(self, done: int, total: int) -> None:
        if self.is_terminal:
            end = "\n" if done == total else ""
            self.stream.write(f"\r{self.label} {done}/{total} queries{end}")
            self.stream.flush()
            return
        tenth = 10 * done // max(total, 1)
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            print(f"{self.label} {done}/{total} queries", file=self.stream, flush=True)
