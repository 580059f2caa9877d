"""An int8 copy of the export, for reading the alignment's sentences (query/alignment.py) and
the sentences indexing stores.

After the question's own pass, a question costs one more pass through the model: the few
sentences the calibrator re-ranks, read for their token alignment with the question. At a
million chunks that pass is the largest step of a warm question. onnxruntime's dynamic int8
quantisation of the transformer's weights (its 18 MatMuls and the 6 attention layers' input
projections, per output channel; the embeddings and layer norms stay float32) runs it in
a little over half the time on a CPU with AVX-512 VNNI, with word-piece vectors at cosine
0.99 to the float32 ones, and the calibrator's held-out figures do not move (BENCHMARKS.md,
"An int8 model for the chat's alignment pass"). The question's vector and the chunk vectors
stay float32: the search compares them, and the question's word pieces come from that same
float32 pass.

Indexing reads the sentence vectors it stores with the same copy (embedder.SENTENCES_INT8), in
about 0.4x the float32 model's time: half of indexing's model time is the sentences, each read
alone. Chunk vectors read by it cost SciFact's ranking 0.005 of nDCG@10, so chunks stay
float32 (BENCHMARKS.md, "Indexing with the int8 copy").

Made from the float32 export in a few seconds, without torch, once per machine, into the same
cache (export_cache.py), and renamed into place as the export is. When it is made it reads a
few fixed texts beside the float32 model and records how close it came (`agreement`), since
int8 kernels differ by CPU; the embedder uses it only when that is close enough
(embedder.MIN_INT8_AGREEMENT).

    onnx-<model fingerprint>-v<export version>-<INT8_VERSION>/    the files export_onnx writes
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from askseed.model.onnx_export import preoptimise, replace_dir
from askseed.model.onnx_runtime import (
    ENCODER_CONFIG_FILE,
    ONNX_FILE,
    SIZED_FILES,
    TOKENIZER_FILE,
    OnnxModel,
)

# What the copy is checked on when it is made: prose, numbers and dates, names, other scripts.
# The int8 kernels differ by CPU (AVX-512 VNNI, AVX2, ARM), and without VNNI onnxruntime's
# int8 products can saturate; a copy that reads these far from the float32 model is not used.
CHECK_TEXTS = [
    "The single-dose therapy modifies a patient's own immune cells in a laboratory.",
    "Five out of six patients achieved remission within months of treatment.",
    "Experts describe the findings as truly groundbreaking, though larger studies are needed.",
    "Call +44 20 7946 0958 before 09:30 on 2024-03-14; it costs £1,299.99.",
    "Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.",
    "Die Therapie könnte das Immunsystem zurücksetzen.",
    "这种疗法可能为狼疮患者提供治愈方法。",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
]


def quantize_export(
    source: Path, out_dir: Path, op_types: tuple[str, ...] = ("MatMul", "Attention")
) -> Path:
    """Write the int8 copy of the export folder `source` to `out_dir`, and return `out_dir`.
    `op_types` are the operators quantised (benchmarks/int8_indexing.py tries others)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, out_dir = Path(source), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as scratch:
        scratch = Path(scratch)
        staging = scratch / "staging"
        staging.mkdir()
        quantized = scratch / "quantized.onnx"
        # The quantiser suggests pre-processing the graph, on the root logger, which would
        # reach the user's terminal; the export is already optimised.
        quiet = _Unless("pre-processing before quantization")
        logging.getLogger().addFilter(quiet)
        try:
            quantize_dynamic(
                source / ONNX_FILE,
                quantized,
                op_types_to_quantize=list(op_types),
                per_channel=True,
                weight_type=QuantType.QInt8,
                use_external_data_format=True,
                # Shape inference cannot type the outputs of onnxruntime's fused operators.
                extra_options={
                    "MatMulConstBOnly": True,
                    "DefaultTensorType": onnx.TensorProto.FLOAT,
                },
            )
        finally:
            logging.getLogger().removeFilter(quiet)
        # Fuses each quantise-multiply-rescale chain into one DynamicQuantizeMatMul kernel.
        # (Attention becomes QAttention: its input is quantised once, its projections int8.)
        preoptimise(quantized, staging / ONNX_FILE)
        shutil.copyfile(source / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        config = json.loads((source / ENCODER_CONFIG_FILE).read_text())
        config["file_sizes"] = {name: (staging / name).stat().st_size for name in SIZED_FILES}
        config["quantized"] = f"int8 {', '.join(op_types)}, per channel"
        (staging / ENCODER_CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        config["agreement"] = agreement(OnnxModel(staging), OnnxModel(source))
        (staging / ENCODER_CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        replace_dir(staging, out_dir)
    return out_dir


def agreement(copy: OnnxModel, original: OnnxModel) -> float:
    """The lowest cosine of a word piece of CHECK_TEXTS as `copy` reads it to the same piece
    as `original` reads it (both unit rows)."""
    lowest = 1.0
    for ours, theirs in zip(
        copy.token_vectors(CHECK_TEXTS), original.token_vectors(CHECK_TEXTS), strict=True
    ):
        lowest = min(lowest, float((ours.vectors * theirs.vectors).sum(axis=1).min()))
    return round(lowest, 4)


class _Unless(logging.Filter):
    """Drops the records whose message holds `words`."""

    def __init__(self, words: str):
        super().__init__()
        self.words = words

    def filter(self, record: logging.LogRecord) -> bool:
        return self.words not in record.getMessage()
