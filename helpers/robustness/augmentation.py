"""Training texts rewritten the way people type them: the remedy that shows the model what it will read.

The training tweets are lower case, without punctuation or apostrophes, and most begin "i feel ...". People
write "I'm so tired of this." A rewrite keeps the words and the label and changes only that form: the lead-in
goes where the rest still says something, "im" becomes "I'm", the sentence gets a capital and an end mark.
The rules are read off the training split (its most common openings and apostrophe-less contractions).
"""

from __future__ import annotations

import random
import re

from datasets import Dataset

LEAD_IN = re.compile(
    r"^(?:i|im|i m|i am|i was|ive been|i ve been|i have been|i just|i still|i really|i do|i can|i always)\s+"
    r"(?:feel|feeling|felt)(?:\s+(?:like|that|as if|as though))?\s+"
)
"""The openings of most training texts ("i feel like", "i am feeling", "ive been feeling", ...)."""

CONTRACTIONS = {
    "im": "I'm", "ive": "I've", "id": "I'd", "ill": "I'll", "dont": "don't", "cant": "can't", "didnt": "didn't",
    "wasnt": "wasn't", "havent": "haven't", "doesnt": "doesn't", "wont": "won't", "couldnt": "couldn't",
    "hes": "he's", "shes": "she's", "youre": "you're", "isnt": "isn't", "wouldnt": "wouldn't", "theyre": "they're",
    "whats": "what's", "shouldnt": "shouldn't", "arent": "aren't", "thats": "that's",
}  # fmt: skip
"""Contractions the tweets write without an apostrophe, the common ones; "its" and "lets" stay, being words too."""

_SPLIT_CONTRACTION = re.compile(
    r"\b(i|don|can|didn|wasn|haven|doesn|won|couldn|isn|wouldn|shouldn|aren) (m|t|ve|ll|d)\b"
)
_END_MARKS = (".", ".", "!", "...")


def drop_lead_in(text: str) -> str:
    """`text` without its "i feel ..." opening, where at least three words remain; else unchanged."""
    rest = LEAD_IN.sub("", text, count=1)
    return rest if rest != text and len(rest.split()) >= 3 else text


def with_apostrophes(text: str) -> str:
    """Contractions written with their apostrophe ("im" and "i m" both become "I'm")."""
    joined = _SPLIT_CONTRACTION.sub(lambda match: f"{match.group(1)}{match.group(2)}", text)
    return " ".join(CONTRACTIONS.get(word, "I" if word == "i" else word) for word in joined.split())


def as_typed(text: str, rng: random.Random) -> str:
    """One rewrite: the lead-in dropped (half the time, where it can be), apostrophes, a capital and an end mark."""
    if rng.random() < 0.5:
        text = drop_lead_in(text)
    text = with_apostrophes(text)
    return text[:1].upper() + text[1:] + rng.choice(_END_MARKS)


def rewrite_as_typed(train: Dataset, seed: int) -> Dataset:
    """Every training text rewritten once (labels kept), to be mixed into training at a ratio."""
    rng = random.Random(seed)
    return train.map(
        lambda row: {"text": as_typed(row["text"], rng)}, desc="rewriting as typed", load_from_cache_file=False
    )
