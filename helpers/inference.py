"""Predict emotions with a saved model folder: names and probabilities, in length-sorted batches."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
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


def batched_logits(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 128,
) -> np.ndarray:
    """Logits for `texts` in their order, computed in batches of similar length (little padding)."""
    order = np.argsort([len(text) for text in texts], kind="stable")
    logits = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in chosen], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(model.device)
            logits[chosen] = model(**batch).logits.float().cpu().numpy()
    return logits


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


class EmotionClassifier:
    """A saved fine-tuned model, ready to name the emotion of any list of texts."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, max_length: int = 128) -> None:
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if names != list(LABEL_NAMES):
            raise ValueError(f"model labels {names} are not the six emotions {list(LABEL_NAMES)}")
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def from_folder(cls, folder: str | Path, max_length: int = 128) -> EmotionClassifier:
        folder = check_model_folder(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        return cls(model, tokenizer, max_length)

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
        return softmax(batched_logits(self.model, self.tokenizer, checked, batch_size, self.max_length))

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
