"""Uncertainty of scores: means over seeds, bootstrap intervals over seeds and texts, McNemar, confusion counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import bootstrap
from sklearn.metrics import confusion_matrix
from statsmodels.stats.contingency_tables import mcnemar

from helpers import LABEL_NAMES
from helpers.metrics import HEADLINE_METRICS, cross_entropy, format_mean_sd, mean_sd


def seed_summary(
    scores: dict[str, dict[str, dict[str, float]]], folders: dict[str, dict[str, Path]], metrics: Sequence[str]
) -> dict[str, Any]:
    """Per configuration: each seed's `metrics` on each split, then their mean and sample standard deviation
    (`helpers.metrics.mean_sd`: None with one seed)."""
    summary: dict[str, Any] = {}
    for configuration, members in folders.items():
        per_seed = {
            name: {split: {m: scores[name][split][m] for m in metrics} for split in scores[name]} for name in members
        }
        splits = next(iter(per_seed.values()))
        spread = {split: {m: mean_sd([per_seed[n][split][m] for n in members]) for m in metrics} for split in splits}
        summary[configuration] = {
            "seeds": per_seed,
            "mean": {split: {m: pair[0] for m, pair in pairs.items()} for split, pairs in spread.items()},
            "sd": {split: {m: pair[1] for m, pair in pairs.items()} for split, pairs in spread.items()},
        }
    return summary


def seeds_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """`seed_summary` as a table: a row per configuration and split, each seed's accuracy (seeds in the profile's
    order), then mean ± sd of each metric."""
    rows = {}
    for configuration, result in summary.items():
        for split in result["mean"]:
            rows[(configuration, split)] = {
                **{
                    f"seed {index} accuracy": f"{scores[split]['accuracy']:.4f}"
                    for index, scores in enumerate(result["seeds"].values(), start=1)
                },
                **{
                    f"mean ± sd {metric}": format_mean_sd(result["mean"][split][metric], result["sd"][split][metric])
                    for metric in result["mean"][split]
                },
            }
    return pd.DataFrame(rows).T.fillna("")


def seed_and_sample_bootstrap(
    references: Sequence[int],
    predictions_a: Sequence[Sequence[int]],
    predictions_b: Sequence[Sequence[int]],
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """How much configuration A's mean accuracy over its seeds exceeds B's, accounting for both sources of chance.

    Each resample draws the test texts with replacement (the same texts for both, since they are scored on one
    test set) and, independently, each configuration's seeds with replacement; the statistic is the difference of
    the mean accuracies of the drawn seeds on the drawn texts. Returns the observed difference, the 95% percentile
    interval and the share of resamples in which A does not beat B. Written by hand: scipy's `bootstrap` resamples
    one axis of paired data, not two nested sources at once.
    """
    refs = np.asarray(references)
    right_a = np.asarray(predictions_a) == refs  # (seeds, texts)
    right_b = np.asarray(predictions_b) == refs
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    for index in range(resamples):
        texts = rng.integers(0, len(refs), len(refs))
        seeds_a = rng.integers(0, len(right_a), len(right_a))
        seeds_b = rng.integers(0, len(right_b), len(right_b))
        differences[index] = right_a[seeds_a][:, texts].mean() - right_b[seeds_b][:, texts].mean()
    low, high = np.percentile(differences, [2.5, 97.5])
    return {
        "difference": float(right_a.mean() - right_b.mean()),
        "ci95_low": float(low),
        "ci95_high": float(high),
        "share_not_better": float((differences <= 0).mean()),
        "seeds_a": len(right_a),
        "seeds_b": len(right_b),
        "resamples": resamples,
    }


def bootstrap_intervals(
    references: Sequence[int],
    predictions: Sequence[int],
    probabilities: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of the headline metrics (and the loss when probabilities are given)."""

    refs = np.asarray(references)
    preds = np.asarray(predictions)
    statistics: dict[str, Callable[[np.ndarray], float]] = {
        name: (lambda i, metric=metric: metric(refs[i], preds[i])) for name, metric in HEADLINE_METRICS.items()
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


def confusion(labels: Sequence[int], predictions: Sequence[int], normalise: bool = False) -> np.ndarray:

    return confusion_matrix(
        labels, predictions, labels=list(range(len(LABEL_NAMES))), normalize="true" if normalise else None
    )
