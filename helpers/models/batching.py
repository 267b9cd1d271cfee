"""Logits for many texts in length-sorted batches, so padding stays short and results return in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from helpers.notebook import show_progress

LogitsFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(input_ids, attention_mask), both int64 of shape (batch, tokens) -> float32 logits (batch, labels)."""


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
