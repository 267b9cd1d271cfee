"""How the report names models, configurations, metrics and precisions."""

from __future__ import annotations

from helpers.evaluation.names import SERVED

MODEL_TITLES = {
    "majority_class": "Majority class",
    "tfidf": "TF-IDF + linear model (chosen on validation)",
    "frozen_encoder_logreg": "Frozen encoder + logistic regression",
    "untrained_head": "Untrained classification head",
    "finetune_seed_recipe": "Fine-tuned, seed recipe",
    "finetune_tuned": "Fine-tuned, tuned by Optuna",
    SERVED: "Served model, on its default back end",
    "ensemble_seed_recipe": "Seed recipe, its seeds' ensemble",
    "ensemble_tuned": "Tuned, its seeds' ensemble",
}

CONFIGURATION_TITLES = {"finetune_seed_recipe": "seed recipe", "finetune_tuned": "tuned"}


def model_title(name: str) -> str:
    """A model's title, the other seeds of a fine-tuned configuration (`finetune_tuned_seed43`) included: any of
    them can be the chosen model."""
    configuration, _, seed = name.rpartition("_seed")
    if configuration in CONFIGURATION_TITLES and seed.isdigit():
        return f"{MODEL_TITLES[configuration]}, seed {seed}"
    return MODEL_TITLES[name]


METRIC_NAMES = {"accuracy": "accuracy", "f1_weighted": "weighted F1", "f1_macro": "macro F1"}

PRECISION_NAMES = {"bf16": "bf16 autocast", "fp16": "fp16 autocast", "no": "float32"}
