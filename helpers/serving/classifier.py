"""The public classifier: a model folder's labels and probabilities on its chosen back end, and a seed ensemble."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from helpers import LABEL_NAMES
from helpers.hardware import best_device
from helpers.models.batching import sorted_batch_logits
from helpers.models.folder import load_model_folder
from helpers.probabilities import softmax
from helpers.serving.backends import build_backend, default_backend
from helpers.serving.onnx_export import ONNX_CACHE


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
