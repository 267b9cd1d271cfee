"""Classification metrics as a local `evaluate.Metric` (hub metrics cannot be loaded offline)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from helpers import LABEL_NAMES

LABEL_IDS = list(range(len(LABEL_NAMES)))


def accuracy(references: Sequence[int], predictions: Sequence[int]) -> float:
    return float(accuracy_score(references, predictions))


def f1_weighted(references: Sequence[int], predictions: Sequence[int]) -> float:
    """F1 per class weighted by its support: the search's objective and the selection metric."""
    return float(f1_score(references, predictions, labels=LABEL_IDS, average="weighted", zero_division=0))


def f1_macro(references: Sequence[int], predictions: Sequence[int]) -> float:
    """F1 averaged over the six classes alike, so the rare ones (surprise, love) count as much as joy."""
    return float(f1_score(references, predictions, labels=LABEL_IDS, average="macro", zero_division=0))


HEADLINE_METRICS: dict[str, Callable[[Sequence[int], Sequence[int]], float]] = {
    "accuracy": accuracy,
    "f1_weighted": f1_weighted,
    "f1_macro": f1_macro,
}
"""The headline metrics, defined once: the Trainer's, the tables' and the bootstrap intervals' alike."""
HEADLINE = tuple(HEADLINE_METRICS)


class EmotionMetrics(evaluate.Metric):
    """Accuracy, weighted and macro F1, and per-class precision, recall and F1 for the six emotions."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="Accuracy, weighted/macro F1 and per-class precision, recall and F1.",
            citation="",
            inputs_description="predictions and references: emotion ids 0-5",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions: Sequence[int], references: Sequence[int]) -> dict[str, float]:
        result = {name: metric(references, predictions) for name, metric in HEADLINE_METRICS.items()}
        precision, recall, f1, _ = precision_recall_fscore_support(
            references, predictions, labels=LABEL_IDS, zero_division=0
        )
        for index, name in enumerate(LABEL_NAMES):
            result[f"precision_{name}"] = float(precision[index])
            result[f"recall_{name}"] = float(recall[index])
            result[f"f1_{name}"] = float(f1[index])
        return result


_METRIC: EmotionMetrics | None = None


def emotion_metrics() -> EmotionMetrics:
    """One shared instance: building an `evaluate.Metric` costs more than computing it."""
    global _METRIC
    if _METRIC is None:
        _METRIC = EmotionMetrics()
    return _METRIC


def classification_scores(references: Sequence[int], predictions: Sequence[int]) -> dict[str, float]:
    return emotion_metrics().compute(predictions=list(map(int, predictions)), references=list(map(int, references)))


def cross_entropy(references: Sequence[int], probabilities: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels, clipped so a zero probability stays finite."""
    picked = np.asarray(probabilities)[np.arange(len(references)), np.asarray(references)]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


def trainer_metrics(eval_prediction: Any) -> dict[str, float]:
    """`compute_metrics` for the `Trainer`: logits in, the metric dictionary out."""
    logits, references = eval_prediction.predictions, eval_prediction.label_ids
    if isinstance(logits, tuple):
        logits = logits[0]
    return classification_scores(references, np.argmax(logits, axis=-1))


def scores_from_probabilities(references: Sequence[int], probabilities: np.ndarray) -> dict[str, float]:
    """The metric dictionary for a probabilistic classifier, with its cross-entropy as `loss`."""
    scores = classification_scores(references, np.argmax(probabilities, axis=1))
    scores["loss"] = cross_entropy(references, probabilities)
    return scores


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof=1) of a score over seeds. One seed's spread is undefined, so its
    sd is None (null in JSON, left out in tables), never 0 or NaN."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("mean_sd needs at least one value")
    return float(array.mean()), (float(array.std(ddof=1)) if array.size > 1 else None)


def format_mean_sd(mean: float, sd: float | None) -> str:
    """'0.9280 ± 0.0012', or the mean alone where the sd is undefined (one seed)."""
    return f"{mean:.4f}" if sd is None else f"{mean:.4f} ± {sd:.4f}"
