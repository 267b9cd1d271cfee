"""The names of the compared models, light enough for the report to import without torch."""

from __future__ import annotations

TFIDF = "tfidf"
"""The TF-IDF baseline, the yardstick of every claim."""

BASELINES = ("majority_class", TFIDF, "frozen_encoder_logreg", "untrained_head")
"""The floor, the classical baselines and the pre-trained encoder with its head untrained."""

SEED_RECIPE = "finetune_seed_recipe"
"""Fine-tuned with the course report's hyperparameters."""

TUNED = "finetune_tuned"
"""Fine-tuned with the hyperparameters the search chose on validation."""

MODELS = (*BASELINES, SEED_RECIPE, TUNED)
"""Every model the report compares, from the floor to the tuned fine-tune, in that order."""

TRAINED_FOLDERS = {SEED_RECIPE: "finetune", TUNED: "tuned"}
"""The two fine-tuned configurations and the run folder of their profile-seed run (other seeds: `<folder>-seed<n>`)."""

SERVED = "served"
"""The model the demo and the command line serve for the chosen one, as `EmotionClassifier.from_folder` serves it:
on the back end chosen on validation."""

ENSEMBLES = {"ensemble_seed_recipe": SEED_RECIPE, "ensemble_tuned": TUNED}
"""Each configuration's seeds as one model: their class probabilities averaged."""
