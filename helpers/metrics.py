"""Classification metrics as a local `evaluate.Metric` (hub metrics cannot be loaded offline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from helpers import LABEL_NAMES

HEADLINE = ("accuracy", "f1_weighted", "f1_macro")


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
        labels = list(range(len(LABEL_NAMES)))
        result = {
            "accuracy": float(accuracy_score(references, predictions)),
            "f1_weighted": float(f1_score(references, predictions, labels=labels, average="weighted", zero_division=0)),
            "f1_macro": float(f1_score(references, predictions, labels=labels, average="macro", zero_division=0)),
        }
        precision, recall, f1, _ = precision_recall_fscore_support(
            references, predictions, labels=labels, zero_division=0
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
