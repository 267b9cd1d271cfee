"""Which models notebook 05 compares, their probabilities on a split, and the choice among them on validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from datasets import DatasetDict
from scipy.stats import bootstrap
from tqdm.auto import tqdm

from helpers.baselines.fitted import baseline_record, load_baseline
from helpers.baselines.frozen_encoder import encoder_embeddings
from helpers.evaluation.names import MODELS, TRAINED_FOLDERS
from helpers.hardware import best_device
from helpers.metrics import HEADLINE_METRICS
from helpers.models.batching import batched_logits
from helpers.models.building import build_model
from helpers.models.folder import load_model_folder
from helpers.notebook import show_progress
from helpers.paths import run_dir
from helpers.probabilities import softmax
from helpers.profiles import Profile
from helpers.serving.classifier import EmotionClassifier, SeedEnsemble
from helpers.training.finetune import seed_run_dir, seeds_of


def seed_model_name(configuration: str, seed: int, profile: Profile) -> str:
    """`finetune_tuned` for the profile's own seed, `finetune_tuned_seed43` for the others."""
    return configuration if seed == profile.seed else f"{configuration}_seed{seed}"


def fine_tuned_folders(profile: Profile) -> dict[str, dict[str, Path]]:
    """{configuration: {model name: run folder}} for every seed of both fine-tuned configurations."""
    return {
        configuration: {
            seed_model_name(configuration, seed, profile): seed_run_dir(profile, kind, seed)
            for seed in seeds_of(profile)
        }
        for configuration, kind in TRAINED_FOLDERS.items()
    }


def chosen_classifier(chosen: dict[str, Any], max_length: int) -> Any:
    """The model notebook 05 chose (`metrics.json`'s "chosen"), in float32: one saved model, or its seeds'
    ensemble."""
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


def paired_standard_error(
    labels: np.ndarray, predictions_a: np.ndarray, predictions_b: np.ndarray, metric: str, resamples: int, seed: int
) -> float:
    """The bootstrap standard error of `metric(a) - metric(b)` over resampled texts, the same texts for both
    models (they are scored on one split, so their errors are paired)."""
    score = HEADLINE_METRICS[metric]
    result = bootstrap(
        (np.arange(len(labels)),),
        lambda rows: score(labels[rows], predictions_a[rows]) - score(labels[rows], predictions_b[rows]),
        n_resamples=resamples,
        method="percentile",
        vectorized=False,
        random_state=np.random.default_rng(seed),
    )
    return float(result.standard_error)


def choose_model(
    labels: np.ndarray,
    predictions: dict[str, np.ndarray],
    costs: dict[str, int],
    metric: str,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """The model notebooks 05 and 06 analyse, from validation `labels` and `predictions` only.

    The best `metric` among the cheapest candidates (cost: forward passes per text) is the start; a costlier
    candidate, the best of its cost, replaces it only if it wins by more than one paired bootstrap standard
    error of the difference. A gain inside that noise is not worth paying for twice or three times the compute,
    and a choice by a few texts would be decided by which texts the validation split happens to hold. Ties at
    one cost go to the first listed.
    """
    names = list(predictions)
    score = {name: HEADLINE_METRICS[metric](labels, predictions[name]) for name in names}
    by_cost: dict[int, list[str]] = {}
    for name in names:
        by_cost.setdefault(costs[name], []).append(name)
    best_of = {cost: max(group, key=lambda n: (score[n], -names.index(n))) for cost, group in by_cost.items()}
    tiers = sorted(best_of)
    chosen = best_of[tiers[0]]
    comparisons = []
    for cost in tiers[1:]:
        challenger = best_of[cost]
        gain = score[challenger] - score[chosen]
        error = paired_standard_error(labels, predictions[challenger], predictions[chosen], metric, resamples, seed)
        adopted = gain > error
        comparisons.append(
            {"candidate": challenger, "against": chosen, "gain": gain, "standard_error": error, "adopted": adopted}
        )
        chosen = challenger if adopted else chosen
    return {
        "name": chosen,
        "metric": metric,
        "validation_score": score[chosen],
        "cost": costs[chosen],
        "candidates": {name: {"validation_score": score[name], "cost": costs[name]} for name in names},
        "comparisons": comparisons,
        "resamples": resamples,
    }


def served_model(chosen: str, members: list[str], validation_scores: dict[str, float]) -> str:
    """The one model folder the demo and the command line serve for the chosen model: the model itself, or for
    an ensemble (which would need every member per text) its member with the best validation score."""
    if len(members) == 1:
        return members[0]
    return max(members, key=lambda name: (validation_scores[name], -members.index(name)))


SAVED_BASELINES = ("majority_class", "tfidf", "frozen_encoder_logreg")
"""The baselines notebook 02 saves in `runs/<profile>/baselines/<name>.joblib`."""


def baseline_records(profile: Profile, data: DatasetDict) -> dict[str, dict[str, Any]]:
    """{baseline: its fingerprint record}, each refused (`BaselineMismatchError`) if it was fitted on other
    training or validation data than `data`, or, for the frozen encoder's, over another encoder's embeddings."""
    folder = run_dir(profile.name, "baselines")
    return {name: baseline_record(folder / f"{name}.joblib", data, _encoder(name, profile)) for name in SAVED_BASELINES}


def _encoder(baseline: str, profile: Profile) -> str | None:
    return profile.model_name_or_path if baseline == "frozen_encoder_logreg" else None


def model_probabilities(
    profile: Profile, tokenizer: Any, texts: dict[str, list[str]], data: DatasetDict
) -> dict[str, dict[str, np.ndarray]]:
    """Class probabilities of every saved model, every seed of the fine-tuned ones included, on each split in
    `texts`: {model: {split: array}}.

    The baselines must have been fitted on `data` (checked as `baseline_records` checks them). The fine-tuned
    models read their texts with the tokenizer saved beside their weights (checked to fit them); `tokenizer`, the
    profile's, serves the frozen encoder and the untrained head, as in notebook 02.
    """
    folder = run_dir(profile.name, "baselines")
    majority, tfidf, frozen = (
        load_baseline(folder / f"{name}.joblib", data, _encoder(name, profile)) for name in SAVED_BASELINES
    )
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
