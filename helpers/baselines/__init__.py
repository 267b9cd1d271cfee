"""Stage 3, baselines: what a fine-tuned model must beat (majority class, frozen encoder, TF-IDF and a linear model)."""
