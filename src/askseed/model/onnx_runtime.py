"""Running an exported model folder with onnxruntime: sentence embeddings without torch.

A one-shot `askseed "question"` must embed one query and exit. Loading sentence-transformers
for that costs ~10 s of imports; this encoder needs only numpy, tokenizers and onnxruntime
(~0.4 s) and produces the same vectors (cosine >= 0.9999). Make the folder with
`askseed.model.onnx_export.export_onnx`.

    encoder = OnnxModel(onnx_dir)
    vectors = encoder.encode(["how do I reset it?"])   # shape (1, encoder.dim), unit rows
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from askseed.errors import first_line
from askseed.model.pieces import EncodedTexts, Pieces, unit_pieces
from askseed.model.span_pooling import pool_spans

# The folder onnx_export writes. Named here, on the lean side, so that loading it never
# imports the exporter's own modules.
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
ENCODER_CONFIG_FILE = "encoder_config.json"
# The files whose sizes the export records in its config, so that a truncated copy is caught
# by a stat before onnxruntime reads it.
SIZED_FILES = (ONNX_FILE, WEIGHTS_FILE, TOKENIZER_FILE)


class BrokenExportError(RuntimeError):
    """An export folder whose files are all there but damaged (truncated, unreadable)."""


class OnnxModel:
    """Mean-pooled, L2-normalised embeddings, computed by onnxruntime."""

    def __init__(
        self,
        onnx_dir: Path,
        max_seq_length: int = 256,
        threads: int | None = None,
        prepack: bool = False,
        workers: int = 1,
    ):
        """Open the folder written by export_onnx.

        `threads` defaults to one per CPU, or to one per worker when there are `workers`.
        `prepack` rearranges the weights when the session opens: ~200 ms more to start, ~5%
        faster batches, so it is for indexing, not for one question. `workers` > 1 runs that
        many batches at once, each on one thread of the same session (for indexing, where
        there are many batches): the small matrices of a batch split poorly across threads,
        whole batches split perfectly, and tokenising one batch overlaps running another.
        The vectors are the same either way. Raises FileNotFoundError naming the folder when
        the export is missing or incomplete.
        """
        import onnxruntime
        from tokenizers import Tokenizer

        onnx_dir = Path(onnx_dir)
        missing = [
            name
            for name in (ONNX_FILE, WEIGHTS_FILE, TOKENIZER_FILE, ENCODER_CONFIG_FILE)
            if not (onnx_dir / name).is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"{onnx_dir}: no complete ONNX export (missing {', '.join(missing)})"
            )
        try:
            config = json.loads((onnx_dir / ENCODER_CONFIG_FILE).read_text())
        except (ValueError, OSError) as error:
            raise BrokenExportError(f"{onnx_dir}: unreadable {ENCODER_CONFIG_FILE}") from error
        for name, size in config.get("file_sizes", {}).items():
            if (onnx_dir / name).stat().st_size != size:
                raise BrokenExportError(f"{onnx_dir}: {name} does not have its recorded size")
        self.dim: int = int(config["embedding_dimension"])
        self.normalize: bool = bool(config.get("normalize", True))
        # A copy of another export (int8_export.py): how closely it reads what the original
        # reads, as the lowest cosine of a word piece on fixed texts; None for an original.
        self.agreement: float | None = config.get("agreement")
        self.max_seq_length = max_seq_length
        self.workers = max(1, workers)

        # The shipped tokenizer.json truncates and pads to 128; the model reads up to 256
        # pieces, and padding every query to a fixed length made single queries 4x slower.
        try:
            self._tokenizer = Tokenizer.from_file(str(onnx_dir / TOKENIZER_FILE))
        except Exception as error:  # tokenizers raises plain Exception for a bad file
            raise BrokenExportError(f"{onnx_dir}: unreadable {TOKENIZER_FILE}") from error
        padding = self._tokenizer.padding or {}
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._tokenizer.enable_padding(  # to the longest text in each batch
            pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]")
        )

        options = onnxruntime.SessionOptions()
        # export_onnx already ran the graph optimiser and saved its result.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        if not prepack:
            options.add_session_config_entry("session.disable_prepacking", "1")
        # Idle threads yield the CPU instead of spinning: the machine is often shared with the
        # TUI or other work, and the kernels here are large enough not to miss the spin.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        default_threads = 1 if self.workers > 1 else os.cpu_count() or 1
        options.intra_op_num_threads = threads or default_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: warnings would land in the user's terminal
        try:
            self._session = onnxruntime.InferenceSession(
                str(onnx_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime's errors share no base class but Exception
            first = first_line(error)[:160]
            raise BrokenExportError(f"{onnx_dir}: onnxruntime cannot open it ({first})") from error
        self._input_names = [model_input.name for model_input in self._session.get_inputs()]

    def encode(
        self, texts: list[str], batch_size: int = 32, sort_by_length: bool = True
    ) -> np.ndarray:
        """Embed `texts`; row i of the float32 result belongs to texts[i].

        Texts of similar length are batched together (sort_by_length) so that little time is
        spent on padding; the result is in the caller's order either way.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not a single string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = list(range(len(texts)))
        if sort_by_length:
            order.sort(key=lambda index: len(texts[index]), reverse=True)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        embedded = self._map(self._encode_batch, ([texts[i] for i in batch] for batch in batches))
        for batch, rows in zip(batches, embedded, strict=True):
            vectors[batch] = rows
        return vectors

    def _map(self, function: Callable, items: Iterable) -> Iterator:
        """function(item) for each item, in order; on the workers when there are several
        (onnxruntime and the tokenizer release the GIL while they work)."""
        items = list(items)
        if self.workers == 1 or len(items) < 2:
            yield from map(function, items)
            return
        with ThreadPoolExecutor(min(self.workers, len(items))) as pool:
            yield from pool.map(function, items)

    def encode_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed `texts`, and each character span of each text, in one forward pass
        (span_pooling.py). Returns the texts' rows, as encode() would, and per text one unit
        row per span; a span truncated away is embedded alone, in a second small pass."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        cut: list[tuple[int, int]] = []  # (text, span) pairs to embed alone
        pooled = [np.zeros((len(pairs), self.dim), np.float32) for pairs in spans]
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]), reverse=True)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        runs = self._map(self._run, ([texts[index] for index in batch] for batch in batches))
        for batch, (encodings, token_vectors, mask) in zip(batches, runs, strict=True):
            vectors[batch] = self._pool(token_vectors, mask)
            for row, index in enumerate(batch):
                encoding = encodings[row]
                real = [
                    bool(attended and not special)
                    for attended, special in zip(
                        encoding.attention_mask, encoding.special_tokens_mask, strict=True
                    )
                ]
                pooled[index], missed = pool_spans(
                    token_vectors[row],
                    encoding.offsets,
                    real,
                    spans[index],
                    bool(encoding.overflowing),
                    self.dim,
                )
                cut += [(index, number) for number in missed]
        if cut:
            alone = self.encode([texts[i][slice(*spans[i][n])] for i, n in cut], batch_size)
            for (index, number), vector in zip(cut, alone, strict=True):
                pooled[index][number] = vector
        return vectors, pooled

    def encode_with_pieces(self, texts: list[str]) -> EncodedTexts:
        """Embed `texts` in one batch, as encode() does, and keep each text's word pieces (no
        [CLS], [SEP] or padding) as unit rows: a question is read once, for its search and
        for its token-level alignment (MaxSim) with the sentences it may be answered by."""
        if not texts:
            return EncodedTexts(np.zeros((0, self.dim), dtype=np.float32), [])
        encodings, token_vectors, mask = self._run(list(texts))
        pieces = []
        for encoding, vectors in zip(encodings, token_vectors, strict=True):
            real = [
                index
                for index, (attended, special) in enumerate(
                    zip(encoding.attention_mask, encoding.special_tokens_mask, strict=True)
                )
                if attended and not special
            ]
            pieces.append(unit_pieces(vectors[real], [encoding.offsets[i] for i in real]))
        return EncodedTexts(self._pool(token_vectors, mask).astype(np.float32), pieces)

    def token_vectors(self, texts: list[str]) -> list[Pieces]:
        """Per text, its word pieces as the transformer read them in it (encode_with_pieces):
        what token-level alignment compares. In one batch, or with workers, in one batch a
        worker of about equal lengths, run at once: a text's pieces do not depend on the
        texts batched with it (the padding is masked out), so they are the same either way."""
        if self.workers == 1 or len(texts) < 2:
            return self.encode_with_pieces(texts).pieces
        groups = [group for group in balanced_groups(texts, self.workers) if group]
        runs = self._map(lambda group: self.encode_with_pieces([texts[i] for i in group]), groups)
        pieces: list[Pieces | None] = [None] * len(texts)
        for group, encoded in zip(groups, runs, strict=True):
            for index, text_pieces in zip(group, encoded.pieces, strict=True):
                pieces[index] = text_pieces
        return pieces

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        _, token_vectors, mask = self._run(texts)
        return self._pool(token_vectors, mask)

    def _run(self, texts: list[str]):
        """The tokenizer's encodings, the transformer's token vectors and the padding mask."""
        encodings = self._tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self._input_names}
        (token_vectors,) = self._session.run(None, feed)
        return encodings, token_vectors, np.asarray(columns["attention_mask"], dtype=np.float32)

    def _pool(self, token_vectors: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean over the masked tokens, as the model's Pooling module does (and its clamps),
        then normalised when the model normalises."""
        summed = np.einsum("bsd,bs->bd", token_vectors, mask)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled = summed / counts
        if self.normalize:
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled /= np.maximum(norms, 1e-12)
        return pooled


def balanced_groups(texts: list[str], count: int) -> list[list[int]]:
    """The texts' indices in `count` groups of about equal total length, longest first, each
    group in the texts' order: the batches of one pass split between workers."""
    groups: list[list[int]] = [[] for _ in range(count)]
    totals = [0] * count
    for index in sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i)):
        lightest = totals.index(min(totals))
        groups[lightest].append(index)
        totals[lightest] += len(texts[index])
    return [sorted(group) for group in groups]
