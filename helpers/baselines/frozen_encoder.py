"""The pre-trained encoder left frozen: mean-pooled embeddings and a logistic regression on them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from helpers.baselines.fitted import REGULARISATION_GRID, FittedBaseline, choose_c
from helpers.hardware import best_device
from helpers.models.batching import length_sorted_batches
from helpers.models.building import build_model
from helpers.notebook import show_progress
from helpers.profiles import Profile


def encoder_embeddings(
    profile: Profile,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 128,
) -> np.ndarray:
    """Mean-pooled last hidden states of the profile's frozen encoder (no head), one row per text."""
    device = best_device()
    encoder = build_model(profile, vocab_size=len(tokenizer)).base_model.to(device).eval()
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    bar = tqdm(total=len(texts), desc="embeddings", unit="text", disable=not show_progress())
    with torch.inference_mode(), bar:
        for chosen, input_ids, attention_mask in length_sorted_batches(
            tokenizer, texts, batch_size, profile.max_length
        ):
            mask = torch.from_numpy(attention_mask).to(device)
            hidden = encoder(input_ids=torch.from_numpy(input_ids).to(device), attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            out[chosen] = ((hidden * weights).sum(1) / weights.sum(1).clamp(min=1)).cpu().numpy()
            bar.update(len(chosen))
    return out


def fit_embedding_logreg(
    train_embeddings: np.ndarray,
    train_labels: Sequence[int],
    val_embeddings: np.ndarray,
    val_labels: Sequence[int],
    grid: Sequence[float] = REGULARISATION_GRID,
    seed: int = 42,
) -> FittedBaseline:
    """Standardised frozen embeddings into a logistic regression."""

    def build(c: float) -> Pipeline:
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, random_state=seed))

    return choose_c(build, train_embeddings, train_labels, val_embeddings, val_labels, grid)
