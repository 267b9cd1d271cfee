"""Notebook 08's stage: models that work on text as people write it, and the choice of the model served for use."""
