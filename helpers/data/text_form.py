"""Text written the way the emotion data set's tweets are: the form its models learned to read.

The rules are read off the training split alone (`python -m helpers.data.text_form` counts them): all 16,000
training texts hold nothing but a-z and single spaces; apostrophes are mostly dropped inside words ("im" 2,430
times against "i m" 437, "dont" 482 against "don t" 388), digits are gone ("a year old man"), and any other
character separates words ("self esteem"). The validation and test splits were not consulted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from helpers.data.loading import load_emotion

_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`]")
_DIGITS = re.compile(r"[0-9]")
_NOT_LETTERS = re.compile(r"[^a-z]+")
TWEET_FORM = re.compile(r"[a-z]+( [a-z]+)*")
"""What every training text looks like."""


def normalise_like_training(text: str) -> str:
    """`text` written the way the training tweets are: lower case, ASCII letters and single spaces only.
    Apostrophes inside words are dropped, digits vanish, accents lose their marks ("cafe"), and every other
    character, emoji included, separates words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    unmarked = "".join(char for char in decomposed if not unicodedata.combining(char))
    joined = _DIGITS.sub("", _APOSTROPHES.sub("", unmarked))
    return " ".join(_NOT_LETTERS.sub(" ", joined).split())


def apostrophe_counts(texts: list[str], pairs: tuple[tuple[str, str], ...] = (("i", "m"), ("don", "t"))) -> Counter:
    """How often each contraction is written joined ("im") and split ("i m"): the evidence for dropping
    apostrophes inside words rather than splitting there."""
    counts: Counter = Counter()
    for text in texts:
        words = text.split()
        counts.update(word for word in words if word in {a + b for a, b in pairs})
        counts.update(f"{a} {b}" for a, b in zip(words, words[1:]) if (a, b) in pairs)
    return counts


def main() -> None:
    texts = list(load_emotion()["train"]["text"])
    print(
        f"training texts in the tweets' form: {sum(bool(TWEET_FORM.fullmatch(t)) for t in texts):,} of {len(texts):,}"
    )
    print(f"contractions, joined and split: {dict(apostrophe_counts(texts))}")


if __name__ == "__main__":
    main()
