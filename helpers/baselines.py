"""Baselines that every fine-tuning claim is measured against.

- majority class: the floor any model must clear;
- TF-IDF + logistic regression, its regularisation chosen on validation: the classical strong baseline;
- frozen encoder embeddings + logistic regression: the feature-extraction approach, no fine-tuning;
- the classification model with an untrained head: what some reports call a "pre-trained baseline".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from helpers.device import best_device
from helpers.inference import length_sorted_batches
from helpers.metrics import classification_scores
from helpers.modeling import build_model
from helpers.notebook import show_progress
from helpers.profiles import Profile

REGULARISATION_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass
class FittedBaseline:
    """A fitted scikit-learn model with the validation search that picked it."""

    model: Pipeline | DummyClassifier
    chosen_c: float | None
    search: list[dict[str, float]]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.model, path)
        return path


def fit_majority(train_labels: Sequence[int]) -> FittedBaseline:
    model = DummyClassifier(strategy="prior").fit(np.zeros((len(train_labels), 1)), train_labels)
    return FittedBaseline(model=model, chosen_c=None, search=[])


def _choose_c(
    build: Callable[[float], Pipeline],
    train_x: object,
    train_y: Sequence[int],
    val_x: object,
    val_y: Sequence[int],
    grid: Sequence[float],
) -> FittedBaseline:
    """Fit one pipeline per C and keep the one with the best validation weighted F1."""
    search, best = [], None
    for c in grid:
        model = build(c).fit(train_x, train_y)
        score = classification_scores(val_y, model.predict(val_x))["f1_weighted"]
        search.append({"C": c, "f1_weighted": score})
        if best is None or score > best[0]:
            best = (score, c, model)
    return FittedBaseline(model=best[2], chosen_c=best[1], search=search)


def fit_tfidf_logreg(
    train_texts: Sequence[str],
    train_labels: Sequence[int],
    val_texts: Sequence[str],
    val_labels: Sequence[int],
    grid: Sequence[float] = REGULARISATION_GRID,
    seed: int = 42,
) -> FittedBaseline:
    """Word uni- and bigram TF-IDF into a multinomial logistic regression."""

    def build(c: float) -> Pipeline:
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            LogisticRegression(C=c, max_iter=2000, random_state=seed),
        )

    return _choose_c(build, list(train_texts), train_labels, list(val_texts), val_labels, grid)


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

    return _choose_c(build, train_embeddings, train_labels, val_embeddings, val_labels, grid)


def load_baseline(path: Path) -> Pipeline | DummyClassifier:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no saved baseline; run notebooks/02_baselines.ipynb first")
    return joblib.load(path)
