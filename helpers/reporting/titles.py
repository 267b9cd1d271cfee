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
    SERVED: "Tuned, as served by default",
    "ensemble_seed_recipe": "Seed recipe, its seeds' ensemble",
    "ensemble_tuned": "Tuned, its seeds' ensemble",
}

CONFIGURATION_TITLES = {"finetune_seed_recipe": "seed recipe", "finetune_tuned": "tuned"}

METRIC_NAMES = {"accuracy": "accuracy", "f1_weighted": "weighted F1", "f1_macro": "macro F1"}

PRECISION_NAMES = {"bf16": "bf16 autocast", "fp16": "fp16 autocast", "no": "float32"}
