"""The back ends a model folder can be served on, and the choice of the default one on validation."""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from helpers import LABEL_NAMES
from helpers.models.batching import LogitsFunction, batched_logits, sorted_batch_logits, torch_backend
from helpers.models.folder import ModelFolderError
from helpers.probabilities import softmax
from helpers.serving.onnx_export import onnx_graph

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


def quantize_int8(model: PreTrainedModel) -> torch.nn.Module:
    """A copy whose linear layers hold int8 weights and quantise activations on the fly (CPU only).

    `torch.ao.quantization.quantize_dynamic` is deprecated in favour of torchao but still works in torch 2.13.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model.cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)


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
    # loaded late on purpose: ONNX export and its runtime are needed only when a graph is built
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
