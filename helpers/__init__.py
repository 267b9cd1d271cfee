"""Logic behind the emotion-finetune notebooks: data, profiles, training, evaluation, report."""

__version__ = "0.1.0"

LABEL_NAMES: tuple[str, ...] = ("sadness", "joy", "love", "anger", "fear", "surprise")
"""The six emotions in the id order of the hub dataset `dair-ai/emotion`."""
