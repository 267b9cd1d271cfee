"""Predict emotions with a saved model folder: names and probabilities, in length-sorted batches.

A classifier runs on one of several CPU back ends (`BACKENDS`), measured side by side by `helpers.bench`.
Which one a model folder serves by default is decided per model on the validation split (`decide_backend`,
run by notebook 05 and saved as `backend.json` in the folder): `onnx-int8` when it changes at most 0.5% of
float32's validation labels and moves validation accuracy by at most 0.3 points either way, else the exact
`onnx`. A folder without that decision gets `onnx`. What makes `onnx-int8` fast, each step exact or bounded:
the ONNX graph computes the last layer for the [CLS] position only (the classifier reads nothing else);
ONNX Runtime's transformer optimizer fuses bias + GELU and residual + LayerNorm; dynamic int8
quantisation of every matrix product with weights; each text runs alone and unpadded (no mask arithmetic,
and int8's per-call activation scales never mix texts); one single-threaded call per core instead of one
call spread over all cores. `helpers.bench` undoes some of these steps to show what they are worth.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from helpers import LABEL_NAMES
from helpers.device import best_device
from helpers.lora import is_adapter_folder, load_adapter_model
from helpers.notebook import show_progress

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
ADAPTER_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
BACKENDS = ("fp32", "int8", "onnx", "onnx-int8")
"""fp32: the PyTorch model as saved; int8: PyTorch dynamic int8 quantisation of every linear layer;
onnx: the float32 graph (last layer for [CLS] only) in ONNX Runtime, each batch shared among the cores;
onnx-int8: that graph with ONNX Runtime's dynamic int8 quantisation, one text per call, texts shared among the cores."""
FAST_BACKEND = "onnx-int8"
"""The fastest back end whose answers can differ from float32's: served only where validation allows it."""
EXACT_BACKEND = "onnx"
"""The float32 ONNX graph: float32's answers up to rounding, served when int8 fails the bounds or is undecided."""
BACKEND_DECISION = "backend.json"
"""File in a model folder holding the validation-split decision of `decide_backend`."""
MAX_CHANGED_LABELS = 0.005
"""Largest share of validation texts whose label a back end may change against float32."""
MAX_ACCURACY_CHANGE_POINTS = 0.3
"""Largest change of validation accuracy against float32, in points, in either direction."""
ONNX_OPSET = 17
GRAPH_RECIPE = 1
"""Bump whenever `build_onnx` changes what it writes: cached graphs of another recipe are rebuilt."""
ONNX_CACHE = "onnx-cache"
"""Sub-folder of a model folder where `EmotionClassifier.from_folder` keeps exported graphs."""
CLS_ONLY_TOLERANCE = 1e-4
"""Largest logit difference allowed between the [CLS]-only graph and the full model before export falls back."""

LogitsFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(input_ids, attention_mask), both int64 of shape (batch, tokens) -> float32 logits (batch, labels)."""


class ModelFolderError(FileNotFoundError):
    """A model folder is missing or lacks what prediction needs."""


class TokenizerMismatchError(ValueError):
    """A model folder's tokenizer would feed its weights ids they were not trained on."""


def check_texts(texts: Any, argument: str = "texts") -> list[str]:
    """A list of non-empty strings, or an error that names the offending item."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence) or isinstance(texts, bytes):
        raise TypeError(f"{argument} must be a string or a list of strings, got {type(texts).__name__}")
    if not texts:
        raise ValueError(f"{argument} is empty: give at least one text")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{argument}[{index}] must be a string, got {type(text).__name__} {text!r}")
        if not text.strip():
            raise ValueError(f"{argument}[{index}] is empty or only white space")
    return list(texts)


def check_model_folder(folder: str | Path) -> Path:
    """`folder` if it holds what prediction needs, weights readable to their end; else a ModelFolderError."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder; train one (notebook 03 or 04) or fix the path")
    missing = []
    adapter = is_adapter_folder(folder)
    if not adapter and not (folder / "config.json").is_file():
        missing.append("config.json")
    weight_files = ADAPTER_WEIGHT_FILES if adapter else WEIGHT_FILES
    if not any((folder / name).is_file() for name in weight_files):
        missing.append(" or ".join(weight_files[:2]))
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        missing.append(" or ".join(TOKENIZER_FILES))
    if missing:
        raise ModelFolderError(f"{folder}: incomplete model folder, missing {', '.join(missing)}")
    weights = folder / ("adapter_model.safetensors" if adapter else "model.safetensors")
    if weights.is_file():
        from safetensors import SafetensorError, safe_open

        try:  # reads only the header, which the library checks against the file's size
            with safe_open(weights, framework="pt"):
                pass
        except SafetensorError as error:
            raise ModelFolderError(
                f"{folder}: incomplete model folder, {weights.name} is empty, truncated or damaged ({error}); "
                "copy or save the model again"
            ) from None
    return folder


def check_tokenizer_fits(config: Any, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """Refuse a tokenizer whose ids the model's weights were not trained on: more tokens than embedding rows,
    another padding id, or a tokenizer made for another model type."""
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

    tokenizer_name = type(tokenizer).__name__
    problems = []
    if len(tokenizer) > config.vocab_size:
        problems.append(f"{len(tokenizer)} tokens against {config.vocab_size} embedding rows")
    pad = getattr(config, "pad_token_id", None)
    if pad is not None and tokenizer.pad_token_id is not None and pad != tokenizer.pad_token_id:
        problems.append(f"padding id {tokenizer.pad_token_id} against {pad}")
    expected = TOKENIZER_MAPPING_NAMES.get(config.model_type)
    generic = {"PreTrainedTokenizerFast", "TokenizersBackend", "PythonBackend"}
    lineage = {
        kind.__name__.removesuffix("Fast") for kind in type(tokenizer).__mro__
    }  # DistilBertTokenizer is a Bert one
    if expected and tokenizer_name not in generic and expected not in lineage:
        problems.append(f"a {tokenizer_name} where model type {config.model_type!r} takes a {expected}")
    if problems:
        raise TokenizerMismatchError(
            f"{folder}: the tokenizer ({tokenizer_name}, {len(tokenizer)} tokens) does not fit the model "
            f"({config.model_type}, vocabulary {config.vocab_size}): {'; '.join(problems)}"
        )


def load_model_folder(
    folder: str | Path, base: str | Path | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and the tokenizer saved in `folder` (never another's), checked to fit each other.

    A LoRA adapter folder loads onto its base model (`base`, else the one it names), merged into plain weights:
    what follows (back ends, ONNX export) sees an ordinary model."""
    from transformers import AutoConfig

    folder = check_model_folder(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if is_adapter_folder(folder):
        model = load_adapter_model(folder, base)
        check_tokenizer_fits(model.config, tokenizer, folder)
        return model, tokenizer
    if base is not None:
        raise ValueError(f"{folder}: a full model folder, not an adapter; it takes no base model (got {base})")
    config = AutoConfig.from_pretrained(folder)
    check_tokenizer_fits(config, tokenizer, folder)
    return AutoModelForSequenceClassification.from_pretrained(folder), tokenizer


def length_sorted_batches(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], batch_size: int = 64, max_length: int = 128
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(positions in `texts`, input_ids, attention_mask) per batch of similar-length texts (little padding)."""
    order = np.argsort([len(text) for text in texts], kind="stable")
    for start in range(0, len(texts), batch_size):
        chosen = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in chosen], padding=True, truncation=True, max_length=max_length, return_tensors="np"
        )
        yield chosen, batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)


def sorted_batch_logits(
    logits_of: LogitsFunction,
    num_labels: int,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 128,
) -> np.ndarray:
    """Logits for `texts` in their order, from any back end, computed in length-sorted batches.

    The progress bar appears only after a second, so the many short calls (one text, occlusion) draw none.
    """
    logits = np.zeros((len(texts), num_labels), dtype=np.float32)
    batches = length_sorted_batches(tokenizer, texts, batch_size, max_length)
    with tqdm(total=len(texts), desc="predict", unit="text", delay=1, disable=not show_progress()) as bar:
        for chosen, input_ids, attention_mask in batches:
            logits[chosen] = logits_of(input_ids, attention_mask)
            bar.update(len(chosen))
    return logits


def batched_logits(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 128,
) -> np.ndarray:
    """Logits of a PyTorch model for `texts` in their order, computed in batches of similar length."""
    return sorted_batch_logits(torch_backend(model), model.config.num_labels, tokenizer, texts, batch_size, max_length)


def torch_backend(model: torch.nn.Module, device: str | None = None) -> LogitsFunction:
    """Logits from a PyTorch classifier (float32 or quantised), without autograd bookkeeping.

    With `device`, the model is moved there first; else it runs where its weights are.
    """
    if device is not None:
        model.to(device)
    model.eval()
    device = next(model.parameters()).device

    def logits_of(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            output = model(
                input_ids=torch.from_numpy(input_ids).to(device),
                attention_mask=torch.from_numpy(attention_mask).to(device),
            )
        return output.logits.float().cpu().numpy()

    return logits_of


def quantize_int8(model: PreTrainedModel) -> torch.nn.Module:
    """A copy whose linear layers hold int8 weights and quantise activations on the fly (CPU only).

    `torch.ao.quantization.quantize_dynamic` is deprecated in favour of torchao but still works in torch 2.13.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model.cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)


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


def quantize_onnx(source: Path, target: Path) -> Path:
    """ONNX Runtime's dynamic quantisation: int8 weights per output channel, activations quantised per call.

    Per-channel scales kept MiniLM's test accuracy within 0.2 points of float32, per-tensor ones did not.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it logs advice to pre-process, whose shape inference fails on BERT graphs
    try:
        # the optimizer's fused operators have no ONNX shape inference: their outputs are float32
        extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, extra_options=extra)
    finally:
        logging.disable(disabled)
    return target


def onnx_backend(
    path: Path, workers: int | None = None, threads: int = 1, one_text_per_call: bool = False
) -> LogitsFunction:
    """Logits from an ONNX graph in ONNX Runtime on the CPU.

    `workers` calls (default: as many as PyTorch has threads, i.e. cores) run at once on one session, each
    with `threads` threads: one single-threaded call per core keeps every core busy on its own GEMMs, where
    one call spread over the cores waits for the slowest at every operator. Each batch is dealt out among
    the workers; with `one_text_per_call`, every text runs alone and unpadded, so what it gets cannot depend
    on the other texts (dynamic int8 scales its activations per call).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])  # safe to share
    masked = "attention_mask" in {graph_input.name for graph_input in session.get_inputs()}
    if not masked and not one_text_per_call:
        raise ValueError(f"{path} has no attention_mask input: it can only run one unpadded text per call")
    workers = workers or torch.get_num_threads()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="onnx") if workers > 1 else None

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})[0]

    def run_text(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        kept = ids[mask.astype(bool)][None, :]
        feed = {"input_ids": kept, "attention_mask": np.ones_like(kept)} if masked else {"input_ids": kept}
        return session.run(["logits"], feed)[0][0]

    def logits_of(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        if one_text_per_call:  # the workers take texts from one queue as they come free
            return np.stack(list((pool.map if pool else map)(run_text, input_ids, attention_mask)))
        if pool is None or len(input_ids) == 1:
            return run(input_ids, attention_mask)
        shares = np.array_split(np.arange(len(input_ids)), min(workers, len(input_ids)))
        return np.concatenate(list(pool.map(lambda rows: run(input_ids[rows], attention_mask[rows]), shares)))

    return logits_of


def model_fingerprint(model: PreTrainedModel) -> str:
    """A hash of the weights and of everything that shapes the exported graph: names a cached graph."""
    import onnxruntime
    import transformers

    digest = hashlib.sha256()
    versions = [torch.__version__, transformers.__version__, onnxruntime.__version__, ONNX_OPSET, GRAPH_RECIPE]
    digest.update(json.dumps([versions, model.config.to_dict()], sort_keys=True, default=str).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def optimize_onnx(source: Path, target: Path) -> Path:
    """ONNX Runtime's transformer optimizer: bias + GELU and residual + LayerNorm fused into single kernels."""
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
) -> Path:
    """Export, optimise and (with `int8`) quantise `model` into `target`; intermediate files go next to it.

    `with_mask` defaults to `not int8`: the int8 graph runs one unpadded text per call. The keyword
    arguments exist for the benchmark's ablations.
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
            quantize_onnx(optimized, target)
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


def build_backend(
    model: PreTrainedModel, backend: str, cache: Path | None = None, device: str | None = None
) -> LogitsFunction:
    """The logits function of `model` on one of `BACKENDS`.

    ONNX graphs are kept in `cache` (reused while the weights stay the same), else built in a temporary folder.
    `device` places the fp32 back end (None: where the model is); the others run on the CPU only.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if backend == "fp32":
        return torch_backend(model, device)
    if device not in (None, "cpu"):
        raise ValueError(f"backend {backend!r} runs on the CPU only, not on {device!r}; use 'fp32' there")
    if backend == "int8":
        return torch_backend(quantize_int8(model))
    int8 = backend == "onnx-int8"
    if cache is not None:
        try:
            return onnx_backend(onnx_graph(model, int8, cache), one_text_per_call=int8)
        except OSError as error:  # a read-only model folder: build the graph afresh below
            warnings.warn(f"cannot keep ONNX graphs in {cache} ({error}); using a temporary folder", stacklevel=2)
    with tempfile.TemporaryDirectory() as folder:
        path = onnx_graph(model, int8, Path(folder))
        return onnx_backend(path, one_text_per_call=int8)  # the session holds the graph; the files may go


def backend_agreement(labels: Sequence[int], reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """How far a back end's probabilities (`candidate`) stray from float32's (`reference`) on labelled texts."""
    labels = np.asarray(labels)
    ours, theirs = candidate.argmax(axis=1), reference.argmax(axis=1)
    return {
        "texts": int(len(labels)),
        "changed_labels": int((ours != theirs).sum()),
        "changed_label_share": float((ours != theirs).mean()),
        "accuracy_change_points": float(100 * ((ours == labels).mean() - (theirs == labels).mean())),
        "max_probability_change": float(np.abs(candidate - reference).max()),
    }


def within_bounds(agreement: dict[str, float]) -> bool:
    """Both bounds: few changed labels, and accuracy moved little in either direction (a value on a bound is
    within it, whatever the float rounding of the share or the points)."""
    slack = 1e-9
    return (
        agreement["changed_label_share"] <= MAX_CHANGED_LABELS + slack
        and abs(agreement["accuracy_change_points"]) <= MAX_ACCURACY_CHANGE_POINTS + slack
    )


def choose_backend(agreement: dict[str, float]) -> str:
    """`FAST_BACKEND` when its validation agreement with float32 is within bounds, else `EXACT_BACKEND`."""
    return FAST_BACKEND if within_bounds(agreement) else EXACT_BACKEND


def decide_backend(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int],
    max_length: int = 128,
    cache: Path | None = None,
    reference: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score `FAST_BACKEND` against float32 on the validation texts and choose the default back end.

    `reference` is float32's probabilities on those texts when the caller has them already (notebook 05)."""
    if reference is None:
        reference = softmax(batched_logits(model, tokenizer, texts, max_length=max_length))
    fast = build_backend(model, FAST_BACKEND, cache)
    candidate = softmax(sorted_batch_logits(fast, len(LABEL_NAMES), tokenizer, texts, max_length=max_length))
    agreement = backend_agreement(labels, reference, candidate)
    return {
        "backend": choose_backend(agreement),
        "candidate": FAST_BACKEND,
        "split": "validation",
        "agreement": agreement,
        "bounds": {
            "max_changed_label_share": MAX_CHANGED_LABELS,
            "max_accuracy_change_points": MAX_ACCURACY_CHANGE_POINTS,
        },
    }


def save_backend_decision(folder: Path, decision: dict[str, Any]) -> Path:
    path = Path(folder) / BACKEND_DECISION
    path.write_text(json.dumps(decision, indent=2) + "\n", encoding="utf-8")
    return path


def default_backend(folder: str | Path) -> str:
    """The back end decided for this model folder on validation, else the exact `EXACT_BACKEND`."""
    path = Path(folder).expanduser() / BACKEND_DECISION
    if not path.is_file():
        return EXACT_BACKEND
    chosen = json.loads(path.read_text(encoding="utf-8")).get("backend")
    if chosen not in BACKENDS:
        raise ModelFolderError(f"{path}: unknown back end {chosen!r}; expected one of {list(BACKENDS)}")
    return chosen


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


class RankedPredictions:
    """`predict` for anything with `predict_proba`: the top emotions of each text with their probabilities."""

    def predict_proba(self, texts: str | Sequence[str], batch_size: int = 64) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: str | Sequence[str], top_k: int = 1, batch_size: int = 64) -> list[list[dict[str, Any]]]:
        """For each text, the `top_k` emotions with their probabilities, most likely first."""
        if not isinstance(top_k, int) or not 1 <= top_k <= len(LABEL_NAMES):
            raise ValueError(f"top_k must be an integer from 1 to {len(LABEL_NAMES)}, got {top_k!r}")
        probabilities = self.predict_proba(texts, batch_size)
        ranked = np.argsort(-probabilities, axis=1)[:, :top_k]
        return [
            [{"label": LABEL_NAMES[j], "score": float(row[j])} for j in order]
            for row, order in zip(probabilities, ranked)
        ]


class EmotionClassifier(RankedPredictions):
    """A saved fine-tuned model, ready to name the emotion of any list of texts."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        max_length: int = 128,
        backend: str = "fp32",
        cache: Path | None = None,
        device: str | None = None,
    ) -> None:
        """Wrap a loaded model; `backend` other than fp32 converts it for fast CPU inference (see `BACKENDS`),
        keeping ONNX graphs in `cache` if given. fp32 runs on `device` (None: where the model is)."""
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if names != list(LABEL_NAMES):
            raise ValueError(f"model labels {names} are not the six emotions {list(LABEL_NAMES)}")
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.backend = backend
        self._logits_of = build_backend(model, backend, cache, device)

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        max_length: int = 128,
        backend: str | None = None,
        device: str | None = None,
        base: str | Path | None = None,
    ) -> EmotionClassifier:
        """Load a saved model with its own tokenizer, by default on the back end that notebook 05 chose for it
        on the validation split (`backend.json`), else the exact `onnx`; `fp32` runs on `device`, by default
        the best one here.

        The fp32 back end runs on `device`, by default `best_device()` (a GPU when there is one); the others on
        the CPU. ONNX graphs are kept in the folder's `onnx-cache/`, so only the first load pays for export
        and quantisation. A LoRA adapter folder loads onto `base`, else the base model it names.
        """
        model, tokenizer = load_model_folder(folder, base)
        chosen = backend or default_backend(folder)
        if chosen == "fp32" and device is None:
            device = best_device()
        return cls(model, tokenizer, max_length, chosen, Path(folder).expanduser() / ONNX_CACHE, device)

    def _warn_truncation(self, texts: Sequence[str]) -> None:
        lengths = [len(ids) for ids in self.tokenizer(list(texts), truncation=False)["input_ids"]]
        cut = [i for i, n in enumerate(lengths) if n > self.max_length]
        if cut:
            warnings.warn(
                f"{len(cut)} text(s) longer than {self.max_length} tokens were truncated (first at index {cut[0]})",
                stacklevel=3,
            )

    def predict_proba(self, texts: str | Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of `LABEL_NAMES`."""
        checked = check_texts(texts)
        self._warn_truncation(checked)
        logits = sorted_batch_logits(
            self._logits_of, len(LABEL_NAMES), self.tokenizer, checked, batch_size, self.max_length
        )
        return softmax(logits)


class SeedEnsemble(RankedPredictions):
    """Several seeds of one configuration as one model, their probabilities averaged: notebook 05's ensembles."""

    def __init__(self, members: Sequence[EmotionClassifier]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.tokenizer = self.members[0].tokenizer
        self.max_length = self.members[0].max_length

    def predict_proba(self, texts: str | Sequence[str], batch_size: int = 64) -> np.ndarray:
        return np.mean([member.predict_proba(texts, batch_size) for member in self.members], axis=0)
