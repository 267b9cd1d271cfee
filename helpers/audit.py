"""A data audit as a plain structure: what is really in the splits, before any model sees them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
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


def audit_splits(data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """Class counts, token lengths per class, duplicates within splits and texts shared across them."""
    lengths = token_lengths(data, tokenizer)
    report: dict[str, Any] = {
        "rows": {split: len(data[split]) for split in data},
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
