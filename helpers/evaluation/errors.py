"""Error analysis of test predictions: confusions, suspicious labels, length effects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers import LABEL_NAMES

LENGTH_BUCKETS = (0, 10, 15, 20, 30, 45, 512)


def with_loss(predictions: pd.DataFrame) -> pd.DataFrame:
    """Add each text's cross-entropy (the negative log-probability of its gold label)."""
    probabilities = predictions[[f"p_{name}" for name in LABEL_NAMES]].to_numpy()
    gold = predictions["label"].map(LABEL_NAMES.index).to_numpy()
    frame = predictions.copy()
    frame["loss"] = -np.log(np.clip(probabilities[np.arange(len(frame)), gold], 1e-12, None))
    return frame


def misclassified(predictions: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Wrong predictions, most confident first: the ones a user would trust and be misled by."""
    wrong = predictions[predictions["label"] != predictions["predicted"]]
    return wrong.sort_values("confidence", ascending=False).head(top)[["text", "label", "predicted", "confidence"]]


def confusion_pairs(predictions: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The most frequent (true, predicted) pairs among the errors, with their share of all errors."""
    wrong = predictions[predictions["label"] != predictions["predicted"]]
    pairs = wrong.groupby(["label", "predicted"]).size().sort_values(ascending=False).rename("errors").reset_index()
    pairs["share_of_errors"] = pairs["errors"] / max(len(wrong), 1)
    return pairs.head(top)


def highest_loss(predictions: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Texts whose gold label the model finds least likely: candidates for label noise."""
    return (
        with_loss(predictions)
        .sort_values("loss", ascending=False)
        .head(top)[["text", "label", "predicted", "confidence", "loss"]]
    )


def accuracy_by_length(predictions: pd.DataFrame, token_counts: Sequence[int]) -> pd.DataFrame:
    """Accuracy per token-length bucket, with bucket sizes (small buckets give noisy accuracies)."""
    frame = pd.DataFrame(
        {"tokens": token_counts, "correct": (predictions["label"] == predictions["predicted"]).to_numpy()}
    )
    edges = list(LENGTH_BUCKETS)
    names = [f"{low + 1}-{high}" if high < edges[-1] else f">{low}" for low, high in zip(edges, edges[1:])]
    frame["bucket"] = pd.cut(frame["tokens"], bins=edges, labels=names)
    grouped = frame.groupby("bucket", observed=True)["correct"].agg(["mean", "size"]).reset_index()
    return grouped.rename(columns={"mean": "accuracy", "size": "count"})


def pair_errors(predictions: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Errors between two emotions in either direction (e.g. fear and surprise)."""
    mask = ((predictions["label"] == first) & (predictions["predicted"] == second)) | (
        (predictions["label"] == second) & (predictions["predicted"] == first)
    )
    return predictions[mask][["text", "label", "predicted", "confidence"]]


def conflicting_duplicates(audit: dict[str, Any], predictions: pd.DataFrame) -> pd.DataFrame:
    """Texts in both train and test with different labels, and what the model predicts for each.

    The audit lists every shared text; a text counts as conflicting when its sets of labels in the two splits
    differ, as the audit's `with_different_labels` counts them. Texts absent from `predictions` are left out.
    """
    predicted = dict(zip(predictions["text"], predictions["predicted"]))
    rows = [
        {
            "text": example["text"],
            "train label": ", ".join(example["train"]),
            "test label": ", ".join(example["test"]),
            "predicted": predicted.get(example["text"]),
        }
        for example in audit["shared_between"]["train/test"]["examples"]
        if set(example["train"]) != set(example["test"])
    ]
    frame = pd.DataFrame(rows, columns=["text", "train label", "test label", "predicted"])
    return frame[frame["predicted"].notna()]
