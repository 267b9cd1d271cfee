"""Uncertainty of scores: means over seeds, bootstrap intervals over texts, a t interval over seeds and texts,
McNemar, confusion counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import bootstrap
from scipy.stats import t as student_t
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


def seed_and_text_interval(
    references: Sequence[int],
    predictions_a: Sequence[Sequence[int]],
    predictions_b: Sequence[Sequence[int]],
) -> dict[str, float]:
    """How much configuration A's mean accuracy over its seeds exceeds B's, with both sources of chance.

    The difference of the two seed means has two variance parts, added as independent:
    - seeds: Welch's `s_a²/n_a + s_b²/n_b` from each configuration's per-seed accuracies on the test set, so the
      seed part is the unbiased sample variance at any number of seeds (a bootstrap over 3 seeds draws only 10
      distinct seed sets and shrinks it by a third);
    - texts: the variance of the mean of the per-text differences (A's seeds' mean correctness minus B's on the
      same text), which is how much another test set of this size would move the difference for these seeds.
    The 95% interval and the two-sided p-value use Student's t with Welch–Satterthwaite degrees of freedom, so
    that with 3 seeds a wide seed spread gives a wide interval. Assumed: seeds are independent draws of the
    training randomness, test texts independent draws of the texts, the two parts additive, and the mean of a
    few seeds near normal. Written by hand: scipy's Welch test has no second, per-text variance part.
    """
    refs = np.asarray(references)
    right_a = (np.asarray(predictions_a) == refs).astype(float)  # (seeds, texts)
    right_b = (np.asarray(predictions_b) == refs).astype(float)
    seeds_a, seeds_b, texts = len(right_a), len(right_b), len(refs)
    parts = []  # (variance of the difference, its degrees of freedom)
    for right in (right_a, right_b):
        if len(right) > 1:
            parts.append((right.mean(axis=1).var(ddof=1) / len(right), len(right) - 1))
    per_text = right_a.mean(axis=0) - right_b.mean(axis=0)
    parts.append((per_text.var(ddof=1) / texts, texts - 1))
    variance = sum(v for v, _ in parts)
    difference = float(right_a.mean() - right_b.mean())
    if variance == 0:
        low = high = difference
        p_value = 1.0 if difference == 0 else 0.0
        dof = float("inf")
    else:
        dof = variance**2 / sum(v**2 / d for v, d in parts if v > 0)
        error = float(np.sqrt(variance))
        half = float(student_t.ppf(0.975, dof)) * error
        low, high = difference - half, difference + half
        p_value = float(2 * student_t.sf(abs(difference) / error, dof))
    return {
        "difference": difference,
        "standard_error": float(np.sqrt(variance)),
        "seed_variance": float(sum(v for v, _ in parts[:-1])),
        "text_variance": float(parts[-1][0]),
        "degrees_of_freedom": float(dof),
        "ci95_low": float(low),
        "ci95_high": float(high),
        "p_value": p_value,
        "seeds_a": seeds_a,
        "seeds_b": seeds_b,
        "texts": texts,
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
