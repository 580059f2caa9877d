"""An int8 copy of the export, for reading the alignment's sentences (query/alignment.py).

After the question's own pass, a question costs one more pass through the model: the few
sentences the calibrator re-ranks, read for their token alignment with the question. At a
million chunks that pass is the largest step of a warm question. onnxruntime's dynamic int8
quantisation of the transformer's 18 MatMuls (per output channel; the fused attention stays
float32, where quantising it lost too much) runs it in about two thirds of the time on a CPU
with AVX-512 VNNI, with word-piece vectors at cosine 0.99 to the float32 ones, and the
calibrator refitted on them keeps its held-out figures (BENCHMARKS.md, "An int8 model for
the alignment pass"). The question's vector and every stored vector stay float32: the search
compares them, and the question's word pieces come from that same float32 pass.

Made from the float32 export in a few seconds, without torch, once per machine, into the same
cache (export_cache.py), and renamed into place as the export is:

    onnx-<model fingerprint>-v<export version>-<INT8_VERSION>/    the files export_onnx writes
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from askseed.model.onnx_export import preoptimise, replace_dir
from askseed.model.onnx_runtime import ENCODER_CONFIG_FILE, ONNX_FILE, SIZED_FILES, TOKENIZER_FILE


def quantize_export(source: Path, out_dir: Path) -> Path:
    """Write the int8 copy of the export folder `source` to `out_dir`, and return `out_dir`."""
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
                op_types_to_quantize=["MatMul"],
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
        preoptimise(quantized, staging / ONNX_FILE)
        shutil.copyfile(source / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        config = json.loads((source / ENCODER_CONFIG_FILE).read_text())
        config["file_sizes"] = {name: (staging / name).stat().st_size for name in SIZED_FILES}
        config["quantized"] = "int8 MatMuls, per channel"
        (staging / ENCODER_CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        replace_dir(staging, out_dir)
    return out_dir


class _Unless(logging.Filter):
    """Drops the records whose message holds `words`."""

    def __init__(self, words: str):
        super().__init__()
        self.words = words

    def filter(self, record: logging.LogRecord) -> bool:
        return self.words not in record.getMessage()
