"""Build an index through the real indexer with the vectors of an index already built.

    PYTHONPATH=src .venv/bin/python benchmarks/replay_index.py SOURCE_INDEX DOCS NEW_INDEX

For measuring the store (bytes per chunk, SciFact's figures) when the machine is too busy to
embed 22,000 chunks again: the documents are read, split, deduplicated, chunked and stored by
the real indexer and writer, and the model counts the word pieces as in a real build, but
each chunk and sentence vector comes from SOURCE_INDEX, an index of the same documents (in the
schema-4 format, float16 sentence vectors, or in this tree's), where the model made them.
Those vectors are the model's rounded to float16 (or int8, which stores again to the same
bytes), so the new index differs from a real build by that rounding only. (Chunk vectors
taken from 8-bit segments are coded again on the new segments' ranges, as a merge does.) A text that
SOURCE_INDEX lacks is embedded by the model; the count of those is printed, and should be 0.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
from _common import stored_chunks

from askseed.config import Settings
from askseed.ingest.indexer import update_index
from askseed.model.embedder import MiniLMEmbedder


def _schema_4_sentences(db: sqlite3.Connection):
    """(sentence text, vector) of an index in the schema-4 format."""
    for text, spans, blob in db.execute("SELECT text, sentences, sentence_vectors FROM chunks"):
        spans = json.loads(spans)
        rows = np.frombuffer(blob, np.float16).reshape(len(spans), -1)
        for (start, end, *_), row in zip(spans, rows, strict=True):
            yield text[start:end], row.astype(np.float32)


def _sentences(db: sqlite3.Connection, dim: int):
    """(sentence text, vector) of an index in this tree's format (int8 vectors: storing them
    again gives the same bytes)."""
    for chunk in stored_chunks(db, dim):
        for span, vector in zip(chunk.sentences, chunk.sentence_vectors, strict=True):
            yield chunk.sentence_text(span), vector


class ReplayEmbedder:
    """MiniLM's word-piece counts and fingerprint, and the vectors SOURCE_INDEX stored."""

    def __init__(self, source: Path, model: MiniLMEmbedder):
        import faiss

        self.model = model
        self.name, self.dim, self.fingerprint = model.name, model.dim, model.fingerprint
        self.count_tokens = model.count_tokens
        self.missed = 0
        by_id = {}
        for path in source.glob("vectors-*.faiss"):  # every segment's (schema 5)
            index = faiss.read_index(str(path))
            ids = faiss.vector_to_array(index.id_map)
            flat = faiss.downcast_index(index.index).reconstruct_n(0, index.ntotal)
            by_id.update(zip(ids.tolist(), flat, strict=True))
        self.vectors: dict[str, np.ndarray] = {}
        with sqlite3.connect(f"file:{source / 'meta.sqlite'}?mode=ro", uri=True) as db:
            for chunk_id, text in db.execute("SELECT id, text FROM chunk_search"):
                self.vectors[text] = by_id[chunk_id]
            (version,) = db.execute(
                "SELECT value FROM manifest WHERE key = 'schema_version'"
            ).fetchone()
            sentences = _schema_4_sentences(db) if version == "4" else _sentences(db, self.dim)
            for text, vector in sentences:
                self.vectors.setdefault(text, vector)

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in self.vectors))
        if missing:
            self.missed += len(missing)
            self.vectors.update(zip(missing, self.model.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vectors[text] for text in texts])

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("docs", type=Path)
    parser.add_argument("index", type=Path)
    args = parser.parse_args(argv)
    embedder = ReplayEmbedder(args.source, MiniLMEmbedder())
    report = update_index(Settings(seeds=args.docs, index=args.index), embedder)
    print(f"{report.chunks} chunks; {embedder.missed} texts embedded by the model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
