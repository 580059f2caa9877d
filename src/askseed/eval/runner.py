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
- answer-sentence@1 asks whether the first passage's quote holds a gold answer string;
- with unanswerable.jsonl, its queries are asked too: the report adds the share abstained on
  them (overall and by kind), the AUROC of the confidence (answerable against unanswerable)
  and its expected calibration error, where an answer is correct when its first quote holds
  a gold answer and an unanswerable question is never correct.
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
from askseed.eval.beir import (
    BeirError,
    BeirQuery,
    judged_queries,
    read_answers,
    read_corpus,
    read_qrels,
    read_unanswerable,
    unanswerable_queries,
)
from askseed.eval.metrics import (
    answer_found,
    auroc,
    expected_calibration_error,
    mean,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
)

# Passages asked for per query: enough distinct documents for Recall@100 even when several
# chunks of one document rank high.
EVAL_PASSAGES = 500
RANKED_DOCUMENTS = 100

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
ANSWERABLE = "answerable"  # the kind of a judged query, beside unanswerable.jsonl's kinds


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
    abstained: float  # share of judged queries answered with "the documents do not answer"
    seconds: float
    # With unanswerable.jsonl (else None / empty):
    abstained_unanswerable: float | None = None  # share of unanswerable queries abstained
    abstained_by_kind: dict[str, float] | None = None
    unanswerable: int = 0  # unanswerable queries asked
    auroc: float | None = None  # of the confidence, answerable against unanswerable
    ece: float | None = None  # of the confidence; needs answers.jsonl

    @property
    def answered(self) -> float:
        """The share of judged (answerable) queries answered."""
        return 1.0 - self.abstained if self.queries else 0.0

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
            "answered": round(self.answered, 4),
            "abstained_unanswerable": _rounded(self.abstained_unanswerable),
            "abstained_by_kind": None
            if self.abstained_by_kind is None
            else {kind: round(share, 4) for kind, share in self.abstained_by_kind.items()},
            "auroc": _rounded(self.auroc),
            "ece": _rounded(self.ece),
            "queries": self.queries,
            "unanswerable": self.unanswerable,
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
            ("answered", f"{self.answered:.2%}"),
            ("abstained", f"{self.abstained:.2%}"),
        ]
        if self.abstained_by_kind is not None:
            rows.append(("abstained, unanswerable", f"{self.abstained_unanswerable:.2%}"))
            rows += [
                (f"  {kind}", f"{share:.2%}") for kind, share in self.abstained_by_kind.items()
            ]
            rows.append(("AUROC", "n/a" if self.auroc is None else f"{self.auroc:.4f}"))
        rows += [
            ("ECE", "n/a (no answers.jsonl)" if self.ece is None else f"{self.ece:.4f}"),
            ("queries", str(self.queries)),
            ("unanswerable queries", str(self.unanswerable)),
            ("queries/second", f"{self.queries_per_second:.1f}"),
        ]
        if self.abstained_by_kind is None:
            rows.pop(-2)
        return "\n".join([f"{self.name}:"] + [f"  {label:<24} {value}" for label, value in rows])


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


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


def sample_by_kind(groups: dict[str, list], limit: int | None) -> dict[str, list]:
    """At most `limit` items, each group's share in proportion to its size (largest remainders
    round up), spread evenly over the group: the first items of a set are often one topic."""
    total = sum(len(items) for items in groups.values())
    if limit is None or limit >= total:
        return {kind: list(items) for kind, items in groups.items()}
    exact = {kind: limit * len(items) / total for kind, items in groups.items()}
    counts = {kind: int(share) for kind, share in exact.items()}
    left = limit - sum(counts.values())
    for kind in sorted(exact, key=lambda kind: counts[kind] - exact[kind])[:left]:
        counts[kind] += 1
    return {
        kind: [items[index * len(items) // counts[kind]] for index in range(counts[kind])]
        for kind, items in groups.items()
    }


def run_queries(
    engine,
    corpus: EvalCorpus,
    max_queries: int | None = None,
    retrieval=None,
    on_progress: Callable[[int, int], None] | None = None,
    name: str | None = None,
) -> EvalReport:
    """Ask every judged and unanswerable query (or a sample of max_queries, each kind in
    proportion) and score the answers."""
    qrels = read_qrels(corpus.folder)
    kinds = read_unanswerable(corpus.folder)
    groups: dict[str, list[BeirQuery]] = {ANSWERABLE: judged_queries(corpus.folder)}
    if kinds is not None:
        for query in unanswerable_queries(corpus.folder, kinds):
            groups.setdefault(kinds[query.id], []).append(query)
    groups = sample_by_kind(groups, max_queries)
    asked = [(kind, query) for kind, queries in groups.items() for query in queries]
    gold = read_answers(corpus.folder)
    ndcg, recall_10, recall_100, mrr, found, abstained = [], [], [], [], [], []
    abstained_by_kind: dict[str, list[float]] = {kind: [] for kind in groups if kind != ANSWERABLE}
    confidences: dict[str, list[float]] = {ANSWERABLE: [], "unanswerable": []}
    calibration: list[tuple[float, bool]] = []
    started = time.perf_counter()
    for done, (kind, query) in enumerate(asked, start=1):
        answer = engine.ask(query.text, k=EVAL_PASSAGES, retrieval=retrieval)
        first_quote = answer.passages[0].quote if answer.passages else ""
        if kind == ANSWERABLE:
            ranking = document_ranking(answer.passages, corpus.doc_ids)
            relevance = qrels[query.id]
            ndcg.append(ndcg_at_k(ranking, relevance, 10))
            recall_10.append(recall_at_k(ranking, relevance, 10))
            recall_100.append(recall_at_k(ranking, relevance, RANKED_DOCUMENTS))
            mrr.append(mrr_at_k(ranking, relevance, 10))
            abstained.append(0.0 if answer.answered else 1.0)
            confidences[ANSWERABLE].append(answer.confidence)
            if gold is not None and query.id in gold:
                holds = answer_found(first_quote, gold[query.id])
                found.append(1.0 if answer.answered and holds else 0.0)
                calibration.append((answer.confidence, holds))
        else:
            abstained_by_kind[kind].append(0.0 if answer.answered else 1.0)
            confidences["unanswerable"].append(answer.confidence)
            calibration.append((answer.confidence, False))
        if on_progress:
            on_progress(done, len(asked))
    unanswerable = [share for shares in abstained_by_kind.values() for share in shares]
    return EvalReport(
        name=name or (retrieval.name if retrieval is not None else "askseed"),
        queries=len(groups[ANSWERABLE]),
        ndcg_10=mean(ndcg),
        recall_10=mean(recall_10),
        recall_100=mean(recall_100),
        mrr_10=mean(mrr),
        answer_sentence_1=mean(found) if gold is not None else None,
        abstained=mean(abstained),
        seconds=time.perf_counter() - started,
        abstained_unanswerable=mean(unanswerable) if kinds is not None else None,
        abstained_by_kind=None
        if kinds is None
        else {kind: mean(shares) for kind, shares in abstained_by_kind.items()},
        unanswerable=len(unanswerable),
        auroc=auroc(confidences[ANSWERABLE], confidences["unanswerable"]),
        ece=expected_calibration_error(
            [confidence for confidence, _ in calibration],
            [correct for _, correct in calibration],
        )
        if gold is not None
        else None,
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
