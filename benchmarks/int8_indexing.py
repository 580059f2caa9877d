"""The model pass of indexing, read each way: float32 or an int8 copy, in batches of 32 texts or
fewer. Time, and each vector's cosine to float32's in batches of 32 (the twelfth round's way).

    PYTHONPATH=src .venv/bin/python benchmarks/int8_indexing.py INDEX [--chunks 400]

INDEX is an askseed index (SQuAD-A's: `~/.cache/askseed/eval/squad-a-*/index` after `askseed
eval ../shared/eval/squad-a`): every n-th chunk is taken, as searched (after its heading), with
its sentences, each distinct text once, as `askseed index` embeds them. Each way reads the same
texts on the indexing session (prepacked, a batch per CPU at once), in turns, --rounds times;
the fastest round is kept. Copies: "int8-2", the one askseed makes (int8_export.py: MatMuls and
attention); "int8 MatMuls only", made here in a scratch folder. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from askseed.model.embedder import INDEX_WORKERS, MAX_SEQ_LENGTH, MiniLMEmbedder
from askseed.model.int8_export import quantize_export
from askseed.model.onnx_runtime import OnnxModel
from askseed.store.chunk_codec import decode_spans

BATCHES = (32, 8, 1)


def texts_of(index: Path, count: int) -> tuple[list[str], list[str]]:
    """Every n-th chunk's search text, and the distinct sentences of those chunks."""
    with sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT c.text, c.start, c.start_line, c.sentences, s.text AS search "
            "FROM chunks c JOIN chunk_search s ON s.id = c.id ORDER BY c.id"
        ).fetchall()
    rows = rows[:: max(1, len(rows) // count)][:count]
    chunks = list(dict.fromkeys(row["search"] for row in rows))
    sentences = dict.fromkeys(
        row["text"][span.start : span.end]
        for row in rows
        for span in decode_spans(row["sentences"], row["start"], row["start_line"])
    )
    whole = set(chunks)  # a chunk of one sentence is embedded once, as a chunk
    return chunks, [text for text in sentences if text not in whole]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.index / "meta.sqlite").is_file():
        print(f"skipped: {args.index} holds no askseed index", file=sys.stderr)
        return 0
    chunks, sentences = texts_of(args.index, args.chunks)
    texts = chunks + sentences
    embedder = MiniLMEmbedder()
    embedder.load()  # the float32 export and askseed's int8 copy, made if missing
    scratch = Path(tempfile.mkdtemp(prefix="askseed-int8-"))
    copies = {
        "float32": embedder.export_dir,
        "int8-2 (askseed's copy)": embedder.int8_dir,
        "int8, MatMuls only": quantize_export(
            embedder.export_dir, scratch / "matmul", op_types=("MatMul",)
        ),
    }
    models = {
        name: OnnxModel(folder, max_seq_length=MAX_SEQ_LENGTH, prepack=True, workers=INDEX_WORKERS)
        for name, folder in copies.items()
    }
    reference = models["float32"].encode(texts, batch_size=32)
    seconds: dict[tuple[str, int], float] = {}
    vectors: dict[tuple[str, int], np.ndarray] = {}
    for _ in range(args.rounds):
        for name, model in models.items():
            for batch in BATCHES:
                started = time.perf_counter()
                vectors[name, batch] = model.encode(texts, batch_size=batch)
                took = time.perf_counter() - started
                seconds[name, batch] = min(took, seconds.get((name, batch), took))
    base = seconds["float32", 32]
    rows = [
        f"{len(chunks)} chunks and {len(sentences)} sentences of them; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| model | texts a batch | seconds | time / float32 in 32s | cosine to float32, chunks: "
        "mean, 1st percentile | sentences: mean, 1st percentile |",
        "|---|---|---|---|---|---|",
    ]
    for name, batch in seconds:
        cosines = (vectors[name, batch] * reference).sum(axis=1)
        ours, theirs = cosines[: len(chunks)], cosines[len(chunks) :]
        rows.append(
            f"| {name} | {batch} | {seconds[name, batch]:.1f} | {seconds[name, batch] / base:.2f} "
            f"| {ours.mean():.4f}, {np.percentile(ours, 1):.4f} "
            f"| {theirs.mean():.4f}, {np.percentile(theirs, 1):.4f} |"
        )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
