"""Predict emotions with a saved model folder: names and probabilities, in length-sorted batches.

A classifier runs on one of several CPU back ends (`BACKENDS`), measured side by side by `helpers.bench`.
`DEFAULT_BACKEND` is the fastest that kept test accuracy within 0.3 points of float32 and gives a text the
same probabilities (within 1e-4) whatever batch it is in. The int8 back ends are faster still, but scale
activations per batch, so a text's probabilities move by ~1e-3 with its batch-mates.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from helpers import LABEL_NAMES

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
BACKENDS = ("fp32", "int8", "onnx", "onnx-int8")
"""fp32: the PyTorch model as saved; int8: PyTorch dynamic int8 quantisation of every linear layer;
onnx: the float32 graph in ONNX Runtime; onnx-int8: that graph with ONNX Runtime's dynamic int8 quantisation."""
DEFAULT_BACKEND = "onnx"
ONNX_OPSET = 17

LogitsFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(input_ids, attention_mask), both int64 of shape (batch, tokens) -> float32 logits (batch, labels)."""


class ModelFolderError(FileNotFoundError):
    """A model folder is missing or lacks what prediction needs."""


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
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder; train one (notebook 03 or 04) or fix the path")
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("config.json")
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES[:2]))
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        missing.append(" or ".join(TOKENIZER_FILES))
    if missing:
        raise ModelFolderError(f"{folder}: incomplete model folder, missing {', '.join(missing)}")
    return folder


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
    """Logits for `texts` in their order, from any back end, computed in length-sorted batches."""
    logits = np.zeros((len(texts), num_labels), dtype=np.float32)
    for chosen, input_ids, attention_mask in length_sorted_batches(tokenizer, texts, batch_size, max_length):
        logits[chosen] = logits_of(input_ids, attention_mask)
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


def torch_backend(model: torch.nn.Module) -> LogitsFunction:
    """Logits from a PyTorch classifier (float32 or quantised), without autograd bookkeeping."""
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


class _LogitsOnly(torch.nn.Module):
    """Positional (input_ids, attention_mask) -> logits: the signature the ONNX graph gets."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def export_onnx(model: PreTrainedModel, path: Path) -> Path:
    """Write the float32 classifier as an ONNX graph with dynamic batch and sequence axes.

    The TorchScript exporter (`dynamo=False`) is used: the default dynamo exporter needs `onnxscript`,
    which this project does not install. The trace sees a padded row, so the attention mask stays live.
    """
    wrapper = _LogitsOnly(model.cpu()).eval()  # eval: the exporter restores the wrapper's mode afterwards
    input_ids = torch.full((2, 8), 1000, dtype=torch.long)
    attention_mask = torch.ones((2, 8), dtype=torch.long)
    attention_mask[1, 5:] = 0
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (input_ids, attention_mask),
            str(path),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    return path


def quantize_onnx(source: Path, target: Path) -> Path:
    """ONNX Runtime's dynamic quantisation: int8 weights per output channel, activations quantised per call.

    Per-channel scales kept MiniLM's test accuracy within 0.2 points of float32, per-tensor ones did not.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it logs advice to pre-process, whose shape inference fails on BERT graphs
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(disabled)
    return target


def onnx_backend(path: Path, threads: int | None = None) -> LogitsFunction:
    """Logits from an ONNX graph in ONNX Runtime on the CPU, with as many threads as PyTorch uses by default."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits_of(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})[0]

    return logits_of


def build_backend(model: PreTrainedModel, backend: str) -> LogitsFunction:
    """The logits function of `model` on one of `BACKENDS` (the ONNX ones are built in a temporary folder)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if backend == "fp32":
        return torch_backend(model)
    if backend == "int8":
        return torch_backend(quantize_int8(model))
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(model, Path(folder) / "model.onnx")
        if backend == "onnx-int8":
            path = quantize_onnx(path, Path(folder) / "model.int8.onnx")
        return onnx_backend(path)  # the session holds the graph in memory; the files may go


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


class EmotionClassifier:
    """A saved fine-tuned model, ready to name the emotion of any list of texts."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        max_length: int = 128,
        backend: str = "fp32",
    ) -> None:
        """Wrap a loaded model; `backend` other than fp32 converts it for fast CPU inference (see `BACKENDS`)."""
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if names != list(LABEL_NAMES):
            raise ValueError(f"model labels {names} are not the six emotions {list(LABEL_NAMES)}")
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.backend = backend
        self._logits_of = build_backend(model, backend)

    @classmethod
    def from_folder(
        cls, folder: str | Path, max_length: int = 128, backend: str = DEFAULT_BACKEND
    ) -> EmotionClassifier:
        """Load a saved model on the CPU, by default on the fastest back end that keeps its answers."""
        folder = check_model_folder(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        return cls(model, tokenizer, max_length, backend)

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
