"""Export the sentence-transformers model to an ONNX folder that loads without torch.

Importing sentence_transformers takes ~10 s; numpy + tokenizers + onnxruntime take ~0.4 s. So we
pay for torch once, here, and `askseed.model.onnx_runtime.OnnxModel` answers later queries with only
the folder this module writes:

    model.onnx            the transformer, fused and pre-optimised by onnxruntime
    model.onnx.data       its weights, stored outside the graph (loads in ~10 ms, not ~300 ms)
    tokenizer.json        copied from the model
    encoder_config.json   how to turn token vectors into one sentence vector (pooling, normalise)

Only the transformer is exported: pooling and normalisation are two lines of numpy in the
encoder, done exactly as the model's own config files describe.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from askseed.model.onnx_runtime import (
    ENCODER_CONFIG_FILE,
    ONNX_FILE,
    SIZED_FILES,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
)

# Inputs a BERT-style transformer may take, in the order the exported graph expects them.
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT_NAME = "token_embeddings"
_OPSET = 17
_SAMPLE_TEXTS = ["A short sentence.", "A longer sentence, so that the first one is padded."]


def export_onnx(model_dir: Path, out_dir: Path) -> Path:
    """Export the model in `model_dir` into `out_dir` and return `out_dir`.

    Everything is written to a scratch folder beside `out_dir` and renamed into place, so no
    reader ever sees a half-written export (while an old export is swapped out there is a
    moment with no folder at all, which reads as "not exported yet"). Takes ~25 s on two
    cores, mostly importing torch and loading the model.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    encoder_config = read_encoder_config(model_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as scratch:
        scratch = Path(scratch)
        staging = scratch / "staging"
        staging.mkdir()
        traced = scratch / "traced.onnx"
        input_names, hidden_size, num_heads = _trace_transformer(model_dir, traced)
        fused = scratch / "fused.onnx"
        _fuse_bert_operators(traced, fused, num_heads=num_heads, hidden_size=hidden_size)
        preoptimise(fused, staging / ONNX_FILE)
        shutil.copyfile(model_dir / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        encoder_config["input_names"] = input_names
        encoder_config["embedding_dimension"] = hidden_size
        encoder_config["file_sizes"] = {
            name: (staging / name).stat().st_size for name in SIZED_FILES
        }
        (staging / ENCODER_CONFIG_FILE).write_text(json.dumps(encoder_config, indent=2) + "\n")
        replace_dir(staging, out_dir)
    return out_dir


def read_encoder_config(model_dir: Path) -> dict:
    """What the encoder must do after the transformer, read from the model's own files.

    Raises ValueError for models whose pooling OnnxModel does not implement.
    """
    model_dir = Path(model_dir)
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise ValueError(f"{model_dir}: not a sentence-transformers model (no modules.json)")
    modules = json.loads(modules_file.read_text())
    module_types = [module["type"].rsplit(".", 1)[-1] for module in modules]
    pooling = next((m for m in modules if m["type"].endswith(".Pooling")), None)
    if pooling is None:
        raise ValueError(f"{modules_file}: no Pooling module")
    pooling_file = model_dir / pooling["path"] / "config.json"
    pooling_config = json.loads(pooling_file.read_text())
    if _pooling_mode(pooling_config) != "mean":
        raise ValueError(f"{pooling_file}: only mean pooling is supported")
    sentence_config_file = model_dir / "sentence_bert_config.json"
    sentence_config = (
        json.loads(sentence_config_file.read_text()) if sentence_config_file.is_file() else {}
    )
    return {
        "pooling": "mean",
        "normalize": "Normalize" in module_types,
        "max_seq_length": sentence_config.get("max_seq_length", 256),
    }


def _pooling_mode(pooling_config: dict) -> str | None:
    """The single pooling mode a config asks for, in either the old or the new key style."""
    if "pooling_mode" in pooling_config:  # sentence-transformers >= 5 writes this
        return pooling_config["pooling_mode"]
    modes = [
        key.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token")
        for key, enabled in pooling_config.items()
        if key.startswith("pooling_mode_") and enabled
    ]
    return modes[0] if len(modes) == 1 else None


def _trace_transformer(model_dir: Path, onnx_path: Path) -> tuple[list[str], int, int]:
    """Trace the model's transformer to ONNX; return its input names, hidden size and heads."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    # Eager attention traces to plain MatMul/Softmax nodes, which onnxruntime fuses into its
    # Attention kernel; the default (sdpa) traces to a shape the fuser does not recognise.
    model = SentenceTransformer(
        str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"}
    )
    transformer = model[0].auto_model.eval()
    accepted = inspect.signature(transformer.forward).parameters
    input_names = [name for name in _INPUT_NAMES if name in accepted]

    # Trace with a padded batch: on an all-ones mask transformers may skip masking entirely,
    # and the traced graph would then ignore attention_mask forever.
    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    padding = tokenizer.padding or {}
    tokenizer.no_truncation()
    tokenizer.enable_padding(  # to the longest text
        pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]")
    )
    encodings = tokenizer.encode_batch(_SAMPLE_TEXTS)
    columns = {
        "input_ids": [e.ids for e in encodings],
        "attention_mask": [e.attention_mask for e in encodings],
        "token_type_ids": [e.type_ids for e in encodings],
    }
    sample = tuple(torch.tensor(columns[name], dtype=torch.int64) for name in input_names)

    class TokenEmbeddings(torch.nn.Module):
        """The transformer with positional inputs and one output, as the exporter wants."""

        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(input_names, inputs, strict=True))).last_hidden_state

    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, _OUTPUT_NAME]}
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about shape checks it freezes; they hold for every batch we feed.
        warnings.simplefilter("ignore")
        # dynamo=False: the TorchScript exporter needs no extra packages (the dynamo one
        # needs onnxscript) and handles this plain encoder well.
        torch.onnx.export(
            TokenEmbeddings(transformer),
            sample,
            str(onnx_path),
            dynamo=False,
            input_names=input_names,
            output_names=[_OUTPUT_NAME],
            dynamic_axes=dynamic_axes,
            opset_version=_OPSET,
            do_constant_folding=True,
        )
    config = transformer.config
    return input_names, int(config.hidden_size), int(config.num_attention_heads)


def _fuse_bert_operators(source: Path, target: Path, *, num_heads: int, hidden_size: int) -> None:
    """Fuse attention, layer norms and GELU into onnxruntime's BERT kernels (~7% less CPU).

    The vectors stay at cosine 1.0000 to sentence-transformers (tests/test_onnx_parity.py).
    """
    from onnxruntime.transformers.optimizer import optimize_model

    # opt_level=0: pattern fusions only; the onnxruntime graph optimiser runs next.
    fused = optimize_model(
        str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
    )
    fused.save_model_to_file(str(target))


def preoptimise(source: Path, target: Path) -> None:
    """Let onnxruntime optimise the graph once and save it, weights in a separate file.

    Saves ~300 ms per session later. EXTENDED rather than ALL: ALL adds layout changes tied to
    this CPU and measured no faster for this model.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", WEIGHTS_FILE
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    options.add_session_config_entry("session.disable_prepacking", "1")
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing any previous folder there."""
    if not target.exists():
        os.replace(new, target)
        return
    retired = new.parent / "retired"
    os.replace(target, retired)  # a directory cannot be renamed over a non-empty one
    os.replace(new, target)
    shutil.rmtree(retired, ignore_errors=True)
