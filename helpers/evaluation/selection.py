"""Which models notebook 05 compares, their probabilities on a split, and the choice among them on validation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from helpers.baselines.fitted import load_baseline
from helpers.baselines.frozen_encoder import encoder_embeddings
from helpers.evaluation.names import MODELS, TRAINED_FOLDERS
from helpers.hardware import best_device
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


def choose_model(validation_scores: dict[str, dict[str, float]], candidates: Sequence[str], metric: str) -> str:
    """The candidate with the best validation `metric` (ties: the first listed): the model notebooks 05 and 06
    analyse. Only validation scores are passed in, so the test split cannot take part in the choice."""
    return max(candidates, key=lambda name: (validation_scores[name][metric], -list(candidates).index(name)))


def model_probabilities(
    profile: Profile, tokenizer: Any, texts: dict[str, list[str]]
) -> dict[str, dict[str, np.ndarray]]:
    """Class probabilities of every saved model, every seed of the fine-tuned ones included, on each split in
    `texts`: {model: {split: array}}.

    The fine-tuned models read their texts with the tokenizer saved beside their weights (checked to fit
    them); `tokenizer`, the profile's, serves the frozen encoder and the untrained head, as in notebook 02.
    """
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
