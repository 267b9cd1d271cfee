"""ONNX graphs of a model folder: export with the last layer for [CLS] only, fusion, int8 quantisation, a cache by
weights.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
import transformers
from tqdm.auto import tqdm
from transformers import (
    PreTrainedModel,
)

from helpers.notebook import show_progress

ONNX_OPSET = 17

GRAPH_RECIPE = 1
"""Bump whenever `build_onnx` changes what it writes: cached graphs of another recipe are rebuilt."""

ONNX_CACHE = "onnx-cache"
"""Sub-folder of a model folder where `EmotionClassifier.from_folder` keeps exported graphs."""

CLS_ONLY_TOLERANCE = 1e-4
"""Largest logit difference allowed between the [CLS]-only graph and the full model before export falls back."""


class _ClsOnlyLastLayer(torch.nn.Module):
    """The last encoder layer of a BERT or DistilBERT classifier, computed for the first ([CLS]) position only.

    Both heads read position 0 of the last layer and nothing else, so its query, attention output and
    feed-forward network are needed there alone; keys and values still come from every token. On texts
    of about 23 tokens this skips about a seventh of the model's work and changes no logit.
    """

    def __init__(self, layer: torch.nn.Module, model_type: str) -> None:
        super().__init__()
        self.layer = layer
        self.model_type = model_type
        self.padding_mask: torch.Tensor | None = None  # (batch, tokens), set by _LogitsOnly before each call

    def projections(self) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module, int]:
        if self.model_type == "bert":
            attention = self.layer.attention.self
            return attention.query, attention.key, attention.value, attention.num_attention_heads
        attention = self.layer.attention
        return attention.q_lin, attention.k_lin, attention.v_lin, attention.n_heads

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        query, key, value, heads = self.projections()
        batch, tokens, width = hidden_states.shape
        first = hidden_states[:, :1]
        q = query(first).view(batch, 1, heads, -1).transpose(1, 2)
        k = key(hidden_states).view(batch, tokens, heads, -1).transpose(1, 2)
        v = value(hidden_states).view(batch, tokens, heads, -1).transpose(1, 2)
        keep = None if self.padding_mask is None else self.padding_mask[:, None, None, :].bool()
        context = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        context = context.transpose(1, 2).reshape(batch, 1, width)
        layer = self.layer
        if self.model_type == "bert":
            attended = layer.attention.output(context, first)
            return layer.output(layer.intermediate(attended), attended)
        attended = layer.sa_layer_norm(layer.attention.out_lin(context) + first)
        return layer.output_layer_norm(layer.ffn(attended) + attended)


def _encoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList | None:
    """The layer list of a BERT or DistilBERT sequence classifier (heads that read [CLS] only), else None."""
    kind = type(model).__name__
    if kind == "BertForSequenceClassification":
        return model.bert.encoder.layer
    if kind == "DistilBertForSequenceClassification":
        return model.distilbert.transformer.layer
    return None


class _LogitsOnly(torch.nn.Module):
    """Positional (input_ids, attention_mask) -> logits: the signature the ONNX graph gets.

    With `cls_only`, a copy of the model whose last layer is `_ClsOnlyLastLayer`; the caller's model is untouched.
    """

    def __init__(self, model: PreTrainedModel, cls_only: bool) -> None:
        super().__init__()
        self.last: _ClsOnlyLastLayer | None = None
        layers = _encoder_layers(model) if cls_only else None
        if layers is not None:
            model = copy.deepcopy(model)
            layers = _encoder_layers(model)
            self.last = _ClsOnlyLastLayer(layers[-1], model.config.model_type)
            layers[-1] = self.last
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.last is not None:
            self.last.padding_mask = attention_mask
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def _trace_inputs(model: PreTrainedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """Two rows of 8 tokens, the second padded after 5: the trace keeps the attention mask live."""
    input_ids = torch.randint(5, model.config.vocab_size, (2, 8), generator=torch.Generator().manual_seed(0))
    attention_mask = torch.ones((2, 8), dtype=torch.long)
    attention_mask[1, 5:] = 0
    return input_ids, attention_mask


def export_onnx(model: PreTrainedModel, path: Path, cls_only_last_layer: bool = True, with_mask: bool = True) -> Path:
    """Write the float32 classifier as an ONNX graph with dynamic batch and sequence axes.

    With `cls_only_last_layer` (BERT and DistilBERT classifiers), the last layer runs for [CLS] only; the
    wrapped model is checked against the full one first and, should they ever differ, the full graph is
    written instead, with a warning. Without `with_mask` the graph takes input_ids alone and attends to
    every token: for unpadded texts, it skips the mask arithmetic. The TorchScript exporter
    (`dynamo=False`) is used: the default dynamo exporter needs `onnxscript`, which this project lacks.
    """
    model = model.cpu().eval()
    wrapper = _LogitsOnly(model, cls_only_last_layer).eval()
    input_ids, attention_mask = _trace_inputs(model)
    if not with_mask:
        attention_mask = torch.ones_like(attention_mask)
    inputs = (input_ids, attention_mask) if with_mask else (input_ids,)
    if wrapper.last is not None:
        with torch.inference_mode():
            difference = (
                (wrapper(*inputs) - model(input_ids=input_ids, attention_mask=attention_mask).logits).abs().max()
            )
        if difference > CLS_ONLY_TOLERANCE:
            warnings.warn(
                f"[CLS]-only last layer differs from {type(model).__name__} by {difference:.2g}; "
                "exporting the full model instead",
                stacklevel=2,
            )
            wrapper = _LogitsOnly(model, cls_only=False).eval()
    names = ["input_ids", "attention_mask"][: len(inputs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            inputs,
            str(path),
            dynamo=False,
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in names}, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    return path


PER_CHANNEL = True
"""int8 weight scales per output channel rather than one per tensor, decided on the validation split with
`python -m helpers.serving.quantization runs/cpu/finetune/model`: for the cpu profile's seed-recipe MiniLM (seed 42,
2026-12-05) per-channel scales changed 40 of 2,000 float32 labels (-0.30 accuracy points), per-tensor ones 83
(-0.55). The test split was not read."""


def quantize_onnx(source: Path, target: Path, per_channel: bool = PER_CHANNEL) -> Path:
    """ONNX Runtime's dynamic quantisation: int8 weights (scaled per output channel unless told otherwise),
    activations quantised per call."""
    # loaded late on purpose: ONNX export and its runtime are needed only when a graph is built
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it logs advice to pre-process, whose shape inference fails on BERT graphs
    try:
        # the optimizer's fused operators have no ONNX shape inference: their outputs are float32
        extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=per_channel, extra_options=extra)
    finally:
        logging.disable(disabled)
    return target


def model_fingerprint(model: PreTrainedModel) -> str:
    """A hash of the weights and of everything that shapes the exported graph: names a cached graph."""
    # loaded late on purpose: ONNX export and its runtime are needed only when a graph is built
    import onnxruntime

    digest = hashlib.sha256()
    versions = [torch.__version__, transformers.__version__, onnxruntime.__version__, ONNX_OPSET, GRAPH_RECIPE]
    digest.update(json.dumps([versions, model.config.to_dict()], sort_keys=True, default=str).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def optimize_onnx(source: Path, target: Path) -> Path:
    """ONNX Runtime's transformer optimizer: bias + GELU and residual + LayerNorm fused into single kernels."""
    # loaded late on purpose: ONNX export and its runtime are needed only when a graph is built
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it logs every fusion it did not find
    try:
        optimized = optimizer.optimize_model(
            str(source), model_type="bert", num_heads=0, hidden_size=0, optimization_options=options, use_gpu=False
        )
    finally:
        logging.disable(disabled)
    optimized.save_model_to_file(str(target))
    return target


def build_onnx(
    model: PreTrainedModel,
    target: Path,
    int8: bool,
    cls_only_last_layer: bool = True,
    with_mask: bool | None = None,
    per_channel: bool = PER_CHANNEL,
) -> Path:
    """Export, optimise and (with `int8`) quantise `model` into `target`; intermediate files go next to it.

    `with_mask` defaults to `not int8`: the int8 graph runs one unpadded text per call. The keyword
    arguments exist for the benchmark's ablations and the quantisation comparison.
    """
    with_mask = not int8 if with_mask is None else with_mask
    steps = 3 if int8 else 2  # export, optimise, quantise: a few seconds each on a CPU
    with tqdm(total=steps, desc="ONNX export", unit="step", disable=not show_progress()) as bar:
        exported = export_onnx(model, target.with_suffix(".exported.onnx"), cls_only_last_layer, with_mask)
        bar.update()
        optimized = optimize_onnx(exported, target.with_suffix(".optimized.onnx") if int8 else target)
        exported.unlink()
        bar.update()
        if int8:
            quantize_onnx(optimized, target, per_channel)
            optimized.unlink()
            bar.update()
    return target


def onnx_graph(model: PreTrainedModel, int8: bool, folder: Path) -> Path:
    """The model's ONNX graph (int8 or float32) in `folder`, built only if not there yet.

    Graphs are named by `model_fingerprint`; graphs of other weights are removed, and a graph is built in
    a scratch folder and then moved in, so another process never reads half a graph.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = model_fingerprint(model)
    target = folder / f"{stem}{'.int8' if int8 else ''}.onnx"
    if target.is_file():
        return target
    for stale in folder.glob("*.onnx"):
        if not stale.name.startswith(stem):
            stale.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        build_onnx(model, Path(scratch) / target.name, int8).replace(target)
    return target
