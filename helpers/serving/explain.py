"""Why a classifier answered as it did, word by word (occlusion), and the example sentences shown beside it."""

from __future__ import annotations

from typing import Any

from helpers import LABEL_NAMES

SEED_REPORT_SENTENCES = (
    "I'm so happy today!",
    "I feel heartbroken and lost.",
    "That news made me so angry!",
    "I'm terrified about tomorrow.",
    "I can't believe this happened!",
    "I'm crying but smiling at the same time.",
    "I love how scary movies make me feel.",
)
"""The example sentences of the course report this project started from (its sections 2.8 and 3.3)."""


def occlusion_importance(classifier: Any, text: str) -> tuple[list[str], list[float], str]:
    """Drop in the predicted class's probability when each word is left out, one word at a time.

    Occlusion needs no gradients and works on any classifier with `predict_proba`; words are
    whitespace-separated, which matches how the (lower-cased, unpunctuated) tweets are written.
    """
    words = text.split()
    variants = [text] + [" ".join(words[:i] + words[i + 1 :]) or "." for i in range(len(words))]
    probabilities = classifier.predict_proba(variants)
    predicted = int(probabilities[0].argmax())
    drops = [float(probabilities[0, predicted] - row[predicted]) for row in probabilities[1:]]
    return words, drops, LABEL_NAMES[predicted]
