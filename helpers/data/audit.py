"""A data audit as a plain structure: what is really in the splits, before any model sees them."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from datasets import DatasetDict
from transformers import PreTrainedTokenizerBase

from helpers import LABEL_NAMES


def _length_stats(lengths: list[int]) -> dict[str, float]:
    values = np.asarray(lengths)
    return {
        "count": int(values.size),
        "mean": round(float(values.mean()), 2),
        "median": round(float(np.median(values)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "max": int(values.max()),
    }


def token_lengths(data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, list[int]]:
    """Token count of every text (special tokens included), per split, in row order."""
    return {
        split: [len(ids) for ids in tokenizer(list(data[split]["text"]), truncation=False)["input_ids"]]
        for split in data
    }


WORD = re.compile(r"[a-z]+")
FEEL_FORMS = frozenset({"feel", "feels", "feeling", "feelings"})
"""The present-tense verb and the noun; "felt" and misspellings such as "feelin" are not counted."""
TEXT_FORM_RULES = {
    "word": "a maximal run of the letters a-z after lower-casing",
    "feel_word": "texts with the word 'feel' itself",
    "feel_forms": "texts with any of the words " + ", ".join(f"'{w}'" for w in sorted(FEEL_FORMS)),
    "feel_anywhere": "texts with the letters 'feel' anywhere, inside other words too ('feelin', 'unfeeling')",
    "upper_case": "texts with any upper-case letter",
    "punctuation": "texts with any Unicode punctuation character (categories P*: . , ! ? ' ’ \" - ( ) : ; _ …)",
    "other_than_a_z_and_space": "texts with any character besides a-z and the space (digits, symbols, emoji too)",
}
"""How `text_form` counts, saved with its numbers so that nobody has to guess."""


def words(text: str) -> list[str]:
    """The text's words by `TEXT_FORM_RULES["word"]`: "I don't feel-good" -> i, don, t, feel, good."""
    return WORD.findall(text.lower())


def has_upper_case(text: str) -> bool:
    return any(character.isupper() for character in text)


def has_punctuation(text: str) -> bool:
    """Unicode's punctuation categories, so curly quotes and apostrophes count as well as ASCII ones."""
    return any(unicodedata.category(character).startswith("P") for character in text)


def has_other_than_a_z_and_space(text: str) -> bool:
    return any(not ("a" <= character <= "z" or character == " ") for character in text)


def _count(flags: Iterable[bool], total: int) -> dict[str, float]:
    count = sum(flags)
    return {"count": count, "share": count / total if total else 0.0}


def text_form(texts: Sequence[str], first_words: int = 5) -> dict[str, Any]:
    """How one split's texts are written: the 'feel' of their collection, casing, punctuation, first words.

    The data was collected from sentences with "feel" in them, lower-cased and stripped of punctuation; these
    counts show how true that is, since a model trained on such text meets capitals and commas as novelties.
    """
    tokens = [words(text) for text in texts]
    total = len(texts)
    starts = Counter(found[0] for found in tokens if found)
    return {
        "texts": total,
        "feel_word": _count(("feel" in found for found in tokens), total),
        "feel_forms": _count((not FEEL_FORMS.isdisjoint(found) for found in tokens), total),
        "feel_anywhere": _count(("feel" in text.lower() for text in texts), total),
        "upper_case": _count((has_upper_case(text) for text in texts), total),
        "punctuation": _count((has_punctuation(text) for text in texts), total),
        "other_than_a_z_and_space": _count((has_other_than_a_z_and_space(text) for text in texts), total),
        "characters": "".join(sorted(set("".join(texts)))),
        "first_words": [
            {"word": word, "count": count, "share": count / total} for word, count in starts.most_common(first_words)
        ],
    }


def text_form_shares(audit: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{split: {measure: share of texts}} from an audit, ready for a table."""
    return {
        split: {key: value["share"] for key, value in form.items() if isinstance(value, dict)}
        for split, form in audit["text_form"].items()
    }


def first_word_shares(audit: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{split: {first word: share of texts}} for the most common first words, ready for a table."""
    return {
        split: {entry["word"]: entry["share"] for entry in form["first_words"]}
        for split, form in audit["text_form"].items()
    }


def audit_splits(data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """Class counts, token lengths per class, how the texts are written, duplicates within splits and texts
    shared across them."""
    lengths = token_lengths(data, tokenizer)
    report: dict[str, Any] = {
        "rows": {split: len(data[split]) for split in data},
        "text_form_rules": TEXT_FORM_RULES,
        "text_form": {split: text_form(list(data[split]["text"])) for split in data},
        "class_counts": {},
        "token_length": {},
        "duplicates_within": {},
        "shared_between": {},
    }
    labels_by_text: dict[str, dict[str, list[int]]] = {}
    for split in data:
        labels = list(data[split]["label"])
        texts = list(data[split]["text"])
        counts = Counter(labels)
        report["class_counts"][split] = {name: counts.get(i, 0) for i, name in enumerate(LABEL_NAMES)}
        per_class: dict[str, list[int]] = defaultdict(list)
        for label, length in zip(labels, lengths[split]):
            per_class[LABEL_NAMES[label]].append(length)
        report["token_length"][split] = {
            "all": _length_stats(lengths[split]),
            **{name: _length_stats(per_class[name]) for name in LABEL_NAMES if per_class[name]},
        }
        seen: dict[str, list[int]] = defaultdict(list)
        for text, label in zip(texts, labels):
            seen[text].append(label)
        labels_by_text[split] = seen
        repeated = {text: found for text, found in seen.items() if len(found) > 1}
        report["duplicates_within"][split] = {
            "distinct_texts": len(seen),
            "repeated_texts": len(repeated),
            "repeated_with_conflicting_labels": sum(len(set(found)) > 1 for found in repeated.values()),
            "examples": [
                {"text": text, "labels": [LABEL_NAMES[i] for i in found]} for text, found in sorted(repeated.items())
            ],
        }
    for first, second in combinations(list(data), 2):
        shared = sorted(set(labels_by_text[first]) & set(labels_by_text[second]))
        conflicting = [text for text in shared if set(labels_by_text[first][text]) != set(labels_by_text[second][text])]
        report["shared_between"][f"{first}/{second}"] = {
            "shared_texts": len(shared),
            "with_different_labels": len(conflicting),
            "examples": [
                {
                    "text": text,
                    first: [LABEL_NAMES[i] for i in labels_by_text[first][text]],
                    second: [LABEL_NAMES[i] for i in labels_by_text[second][text]],
                }
                for text in shared
            ],
        }
    return report


def save_audit(audit: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "audit.json"
    path.write_text(json.dumps(audit, indent=2) + "\n", encoding="utf-8")
    return path
