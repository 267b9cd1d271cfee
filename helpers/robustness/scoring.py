"""Every candidate on every evaluation set: probabilities once per model and set, scores with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from helpers.data.text_form import normalise_like_training
from helpers.evaluation.statistics import bootstrap_intervals
from helpers.metrics import scores_from_probabilities
from helpers.notebook import show_progress

SET_METRICS = ("accuracy", "f1_macro", "f1_weighted")
"""What each set reports; macro F1 first among equals out of domain, where the emotions are far from balanced."""


class Scorer(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


class NormalisedInput:
    """A classifier that reads every text written the way the training tweets are (`normalise_like_training`):
    the remedy that changes the input, not the model."""

    def __init__(self, classifier: Scorer) -> None:
        self.classifier = classifier

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba([normalise_like_training(text) for text in texts])


def probabilities_on(candidates: dict[str, Scorer], sets: dict[str, Sequence[str]]) -> dict[str, dict[str, np.ndarray]]:
    """{candidate: {set: class probabilities}}, each model run once over each set's texts."""
    return {
        name: {split: np.asarray(model.predict_proba(list(texts))) for split, texts in sets.items()}
        for name, model in tqdm(candidates.items(), desc="scoring", unit="model", disable=not show_progress())
    }


def set_scores(labels: Sequence[int], probabilities: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    """Accuracy, macro and weighted F1 with 95% percentile bootstrap intervals over the set's texts."""
    labels = np.asarray(labels)
    scores = scores_from_probabilities(labels, probabilities)
    intervals = bootstrap_intervals(labels, probabilities.argmax(1), resamples=resamples, seed=seed)
    return {
        "texts": len(labels),
        **{metric: scores[metric] for metric in SET_METRICS},
        "ci95": {metric: list(intervals[metric]) for metric in SET_METRICS},
    }
