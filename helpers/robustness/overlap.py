"""No text in two evaluation or training sets, once every text is written the tweets' way (lower case, letters
and single spaces): a comment that is also a training tweet, or a test text that is also a choice text, would
make a score say more than it measures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

from helpers.data.text_form import normalise_like_training


class OverlapError(ValueError):
    """A text occurs in two sets; the message names both and the text."""


def find_overlaps(sets: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """(set, other set, text) for every normalised text that two sets share, in set order."""
    keys = {name: {normalise_like_training(text): text for text in texts} for name, texts in sets.items()}
    return [
        (first, second, keys[first][key])
        for first, second in combinations(sets, 2)
        for key in sorted(keys[first].keys() & keys[second].keys())
    ]


def check_no_overlap(sets: Mapping[str, Sequence[str]]) -> None:
    """Refuse sets that share a text, naming the first few shared texts and their sets."""
    shared = find_overlaps(sets)
    if shared:
        shown = "; ".join(f"{a} and {b}: {text[:60]!r}" for a, b, text in shared[:5])
        raise OverlapError(f"{len(shared)} text(s) in two sets, written the tweets' way ({shown})")
