"""Test-split evaluation: confidence intervals, paired tests and calibration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from helpers import LABEL_NAMES
from helpers.metrics import cross_entropy


def bootstrap_intervals(
    references: Sequence[int],
    predictions: Sequence[int],
    probabilities: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of the headline metrics (and the loss when probabilities are given)."""
    from scipy.stats import bootstrap

    refs = np.asarray(references)
    preds = np.asarray(predictions)
    labels = list(range(len(LABEL_NAMES)))
    statistics: dict[str, Callable[[np.ndarray], float]] = {
        "accuracy": lambda i: accuracy_score(refs[i], preds[i]),
        "f1_weighted": lambda i: f1_score(refs[i], preds[i], labels=labels, average="weighted", zero_division=0),
        "f1_macro": lambda i: f1_score(refs[i], preds[i], labels=labels, average="macro", zero_division=0),
    }
    if probabilities is not None:
        statistics["loss"] = lambda i: cross_entropy(refs[i], probabilities[i])
    indices = np.arange(len(refs))
    intervals = {}
    for name, statistic in statistics.items():
        result = bootstrap(
            (indices,),
            statistic,
            n_resamples=resamples,
            confidence_level=confidence,
            method="percentile",
            vectorized=False,
            random_state=np.random.default_rng(seed),
        )
        intervals[name] = (float(result.confidence_interval.low), float(result.confidence_interval.high))
    return intervals


def mcnemar_test(
    references: Sequence[int], predictions_a: Sequence[int], predictions_b: Sequence[int]
) -> dict[str, Any]:
    """McNemar's exact test on the examples where exactly one of two models is right."""
    from statsmodels.stats.contingency_tables import mcnemar

    refs = np.asarray(references)
    right_a = np.asarray(predictions_a) == refs
    right_b = np.asarray(predictions_b) == refs
    table = [
        [int(np.sum(right_a & right_b)), int(np.sum(right_a & ~right_b))],
        [int(np.sum(~right_a & right_b)), int(np.sum(~right_a & ~right_b))],
    ]
    result = mcnemar(table, exact=True)
    return {
        "only_a_right": table[0][1],
        "only_b_right": table[1][0],
        "statistic": float(result.statistic),
        "p_value": float(result.pvalue),
    }
