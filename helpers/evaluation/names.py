"""The names of the compared models, light enough for the report to import without torch."""

from __future__ import annotations

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

TFIDF = "tfidf"
"""The TF-IDF baseline, the yardstick of every claim."""
