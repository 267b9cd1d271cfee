"""Test-split evaluation: confidence intervals, paired tests and calibration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from tqdm.auto import tqdm

from helpers import LABEL_NAMES
from helpers.metrics import cross_entropy
from helpers.notebook import show_progress
from helpers.paths import run_dir
from helpers.profiles import Profile

MODELS = (
    "majority_class",
    "tfidf",
    "frozen_encoder_logreg",
    "untrained_head",
    "finetune_seed_recipe",
    "finetune_tuned",
)
"""Every model the report compares, from the floor to the tuned fine-tune, in that order."""
TRAINED_FOLDERS = {"finetune_seed_recipe": "finetune", "finetune_tuned": "tuned"}
"""The two fine-tuned configurations and the run folder of their profile-seed run (other seeds: `<folder>-seed<n>`)."""
SERVED = "finetune_tuned_served"
"""The tuned model as `EmotionClassifier.from_folder` serves it: on the back end chosen on validation."""
ENSEMBLES = {"ensemble_seed_recipe": "finetune_seed_recipe", "ensemble_tuned": "finetune_tuned"}
"""Each configuration's seeds as one model: their class probabilities averaged."""


def seed_model_name(configuration: str, seed: int, profile: Profile) -> str:
    """`finetune_tuned` for the profile's own seed, `finetune_tuned_seed43` for the others."""
    return configuration if seed == profile.seed else f"{configuration}_seed{seed}"


def fine_tuned_folders(profile: Profile) -> dict[str, dict[str, Path]]:
    """{configuration: {model name: run folder}} for every seed of both fine-tuned configurations."""
    from helpers.training import seed_run_dir, seeds_of

    return {
        configuration: {
            seed_model_name(configuration, seed, profile): seed_run_dir(profile, kind, seed)
            for seed in seeds_of(profile)
        }
        for configuration, kind in TRAINED_FOLDERS.items()
    }


TFIDF = "tfidf"
"""The TF-IDF baseline, the yardstick of every claim."""


def seed_summary(
    scores: dict[str, dict[str, dict[str, float]]], folders: dict[str, dict[str, Path]], metrics: Sequence[str]
) -> dict[str, Any]:
    """Per configuration: each seed's `metrics` on each split, then their mean and sample standard deviation."""
    summary: dict[str, Any] = {}
    for configuration, members in folders.items():
        per_seed = {
            name: {split: {m: scores[name][split][m] for m in metrics} for split in scores[name]} for name in members
        }
        splits = next(iter(per_seed.values()))
        summary[configuration] = {
            "seeds": per_seed,
            **{
                statistic: {
                    split: {m: float(function([per_seed[n][split][m] for n in members])) for m in metrics}
                    for split in splits
                }
                for statistic, function in (
                    ("mean", np.mean),
                    ("sd", lambda v: np.std(v, ddof=1) if len(v) > 1 else 0.0),
                )
            },
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
                    f"mean ± sd {metric}": f"{result['mean'][split][metric]:.4f} ± {result['sd'][split][metric]:.4f}"
                    for metric in result["mean"][split]
                },
            }
    return pd.DataFrame(rows).T.fillna("")


def chosen_classifier(chosen: dict[str, Any], max_length: int) -> Any:
    """The model notebook 05 chose (`metrics.json`'s "chosen"), in float32: one saved model, or its seeds'
    ensemble."""
    from helpers.inference import EmotionClassifier, SeedEnsemble

    members = [
        EmotionClassifier.from_folder(Path(folder) / "model", max_length=max_length, backend="fp32")
        for folder in chosen["folders"]
    ]
    return members[0] if len(members) == 1 else SeedEnsemble(members)


def ensemble_probabilities(
    probabilities: dict[str, dict[str, np.ndarray]], members: dict[str, list[str]]
) -> dict[str, dict[str, np.ndarray]]:
    """{ensemble: {split: mean of its members' probabilities}} (`members`: ensemble name to model names)."""
    return {
        ensemble: {
            split: np.mean([probabilities[m][split] for m in names], axis=0) for split in probabilities[names[0]]
        }
        for ensemble, names in members.items()
    }


def choose_model(validation_scores: dict[str, dict[str, float]], candidates: Sequence[str], metric: str) -> str:
    """The candidate with the best validation `metric` (ties: the first listed): the model notebooks 05 and 06
    analyse. Only validation scores are passed in, so the test split cannot take part in the choice."""
    return max(candidates, key=lambda name: (validation_scores[name][metric], -list(candidates).index(name)))


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


def model_probabilities(
    profile: Profile, tokenizer: Any, texts: dict[str, list[str]]
) -> dict[str, dict[str, np.ndarray]]:
    """Class probabilities of every saved model, every seed of the fine-tuned ones included, on each split in
    `texts`: {model: {split: array}}.

    The fine-tuned models read their texts with the tokenizer saved beside their weights (checked to fit
    them); `tokenizer`, the profile's, serves the frozen encoder and the untrained head, as in notebook 02.
    """
    from helpers.baselines import encoder_embeddings, load_baseline
    from helpers.device import best_device
    from helpers.inference import batched_logits, load_model_folder, softmax
    from helpers.modeling import build_model

    folder = run_dir(profile.name, "baselines")
    majority = load_baseline(folder / "majority_class.joblib")
    tfidf = load_baseline(folder / "tfidf.joblib")
    frozen = load_baseline(folder / "frozen_encoder_logreg.joblib")
    device = best_device()
    networks = {"untrained_head": (build_model(profile, vocab_size=len(tokenizer)).to(device), tokenizer)}
    for folders in fine_tuned_folders(profile).values():
        for name, folder in folders.items():
            model, own_tokenizer = load_model_folder(folder / "model")
            networks[name] = (model.to(device), own_tokenizer)
    result: dict[str, dict[str, np.ndarray]] = {name: {} for name in (*MODELS, *networks)}
    for split, rows in tqdm(texts.items(), desc="evaluation", unit="split", disable=not show_progress()):
        result["majority_class"][split] = majority.predict_proba(np.zeros((len(rows), 1)))
        result["tfidf"][split] = tfidf.predict_proba(rows)
        result["frozen_encoder_logreg"][split] = frozen.predict_proba(encoder_embeddings(profile, tokenizer, rows))
        for name, (network, own_tokenizer) in networks.items():
            logits = batched_logits(network, own_tokenizer, rows, profile.eval_batch_size, profile.max_length)
            result[name][split] = softmax(logits)
    return result


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


def fit_temperature(logits: np.ndarray, labels: Sequence[int]) -> float:
    """The temperature that minimises validation cross-entropy (Guo et al., 2017)."""
    from scipy.optimize import minimize_scalar

    from helpers.inference import softmax

    refs = np.asarray(labels)
    result = minimize_scalar(
        lambda log_t: cross_entropy(refs, softmax(logits, float(np.exp(log_t)))), bounds=(-3, 3), method="bounded"
    )
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, labels: Sequence[int], bins: int = 15) -> float:
    """Gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(gap)


def reliability_curve(
    probabilities: np.ndarray, labels: Sequence[int], bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Mean confidence and accuracy per confidence bin of the top class (for the reliability diagram)."""
    from sklearn.calibration import calibration_curve

    correct = (probabilities.argmax(axis=1) == np.asarray(labels)).astype(int)
    accuracy, confidence = calibration_curve(correct, probabilities.max(axis=1), n_bins=bins, strategy="uniform")
    return confidence, accuracy


def confusion(labels: Sequence[int], predictions: Sequence[int], normalise: bool = False) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(
        labels, predictions, labels=list(range(len(LABEL_NAMES))), normalize="true" if normalise else None
    )
