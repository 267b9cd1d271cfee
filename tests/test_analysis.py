"""Error analysis on small prediction tables whose answers are counted by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from helpers import LABEL_NAMES
from helpers.data.audit import audit_splits
from helpers.data.loading import FEATURES
from helpers.evaluation.errors import (
    accuracy_by_length,
    conflicting_duplicates,
    confusion_pairs,
    highest_loss,
    misclassified,
    pair_errors,
    with_loss,
)
from helpers.serving.explain import occlusion_importance


def prediction_table(rows: Sequence[tuple[str, str, str, dict[str, float]]]) -> pd.DataFrame:
    """Rows of (text, label, predicted, {emotion: probability}) as notebook 05 saves them: the probabilities not
    named are shared equally by the other emotions, and `confidence` is the predicted emotion's probability."""
    records = []
    for text, label, predicted, given in rows:
        rest = (1 - sum(given.values())) / (len(LABEL_NAMES) - len(given))
        probabilities = {name: given.get(name, rest) for name in LABEL_NAMES}
        records.append(
            {
                "text": text,
                "label": label,
                "predicted": predicted,
                "confidence": probabilities[predicted],
                **{f"p_{name}": p for name, p in probabilities.items()},
            }
        )
    return pd.DataFrame(records)


@pytest.fixture
def predictions() -> pd.DataFrame:
    return prediction_table(
        [
            ("a", "joy", "joy", {"joy": 0.9}),
            ("b", "fear", "surprise", {"surprise": 0.6, "fear": 0.3}),
            ("c", "surprise", "fear", {"fear": 0.8, "surprise": 0.1}),
            ("d", "fear", "surprise", {"surprise": 0.7, "fear": 0.2}),
            ("e", "love", "joy", {"joy": 0.95, "love": 0.04}),
            ("f", "sadness", "sadness", {"sadness": 0.5}),
        ]
    )


def test_with_loss_is_the_negative_log_probability_of_the_gold_label(predictions: pd.DataFrame) -> None:
    expected = -np.log([0.9, 0.3, 0.1, 0.2, 0.04, 0.5])
    np.testing.assert_allclose(with_loss(predictions)["loss"], expected)
    assert "loss" not in predictions  # the input table is left as it was
    assert list(highest_loss(predictions, top=2)["text"]) == ["e", "c"]  # gold probabilities 0.04, then 0.1


def test_misclassified_lists_only_errors_most_confident_first(predictions: pd.DataFrame) -> None:
    wrong = misclassified(predictions)
    assert list(wrong["text"]) == ["e", "c", "d", "b"]  # confidences 0.95, 0.8, 0.7, 0.6
    assert list(misclassified(predictions, top=1)["text"]) == ["e"]


def test_confusion_pairs_count_errors_by_direction(predictions: pd.DataFrame) -> None:
    pairs = confusion_pairs(predictions)
    counted = {(r["label"], r["predicted"]): (r["errors"], r["share_of_errors"]) for r in pairs.to_dict("records")}
    assert counted == {("fear", "surprise"): (2, 0.5), ("surprise", "fear"): (1, 0.25), ("love", "joy"): (1, 0.25)}
    assert tuple(pairs.iloc[0][["label", "predicted"]]) == ("fear", "surprise")  # the most frequent first


def test_pair_errors_takes_both_directions_and_nothing_else(predictions: pd.DataFrame) -> None:
    assert sorted(pair_errors(predictions, "fear", "surprise")["text"]) == ["b", "c", "d"]
    assert list(pair_errors(predictions, "joy", "love")["text"]) == ["e"]
    assert pair_errors(predictions, "anger", "joy").empty


def test_accuracy_by_length_uses_right_closed_buckets(predictions: pd.DataFrame) -> None:
    # texts a and f are right; the others wrong. Bucket edges 10 and 45 belong to the bucket below them.
    tokens = [10, 11, 15, 40, 45, 46]
    table = accuracy_by_length(predictions, tokens)
    rows = {r["bucket"]: (r["accuracy"], r["count"]) for r in table.to_dict("records")}
    assert rows == {"1-10": (1.0, 1), "11-15": (0.0, 2), "31-45": (0.0, 2), ">45": (1.0, 1)}


def audit_of(train: Sequence[tuple[str, int]], test: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """The audit notebook 01 writes, for two tiny splits (a whitespace tokenizer stands in for the model's)."""

    def split(rows: Sequence[tuple[str, int]]) -> Dataset:
        return Dataset.from_dict({"text": [t for t, _ in rows], "label": [y for _, y in rows]}, features=FEATURES)

    def tokenizer(texts: list[str], truncation: bool = False) -> dict[str, list[list[str]]]:
        return {"input_ids": [text.split() for text in texts]}

    return audit_splits(DatasetDict({"train": split(train), "test": split(test)}), tokenizer)


def test_conflicting_duplicates_keep_only_texts_labelled_differently() -> None:
    joy, love, anger = (LABEL_NAMES.index(name) for name in ("joy", "love", "anger"))
    audit = audit_of(
        train=[("same label", joy), ("other label", joy), ("twice in train", joy), ("twice in train", love)],
        test=[("same label", joy), ("other label", love), ("twice in train", love), ("only in test", anger)],
    )
    assert audit["shared_between"]["train/test"]["with_different_labels"] == 2
    predictions = prediction_table(
        [
            ("same label", "joy", "joy", {"joy": 0.9}),
            ("other label", "love", "joy", {"joy": 0.6}),
            ("twice in train", "love", "love", {"love": 0.7}),
            ("only in test", "anger", "anger", {"anger": 0.8}),
        ]
    )
    conflicts = conflicting_duplicates(audit, predictions)
    assert conflicts.to_dict("records") == [
        {"text": "other label", "train label": "joy", "test label": "love", "predicted": "joy"},
        {"text": "twice in train", "train label": "joy, love", "test label": "love", "predicted": "love"},
    ]
    assert len(conflicts) == audit["shared_between"]["train/test"]["with_different_labels"]
    # a conflicting text the predictions do not hold (a subset was scored) is left out, not shown without a guess
    assert list(conflicting_duplicates(audit, predictions.iloc[:2])["text"]) == ["other label"]


class WordCue:
    """A stand-in classifier: "happy" raises joy by 0.4 and "very" by 0.1; the rest is sadness."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            words = text.split()
            joy = 0.3 + 0.4 * ("happy" in words) + 0.1 * ("very" in words)
            rows.append([1 - joy, joy, 0, 0, 0, 0])
        return np.asarray(rows)


def test_occlusion_is_the_drop_of_the_predicted_class_per_left_out_word() -> None:
    words, drops, label = occlusion_importance(WordCue(), "i am very happy")
    assert words == ["i", "am", "very", "happy"] and label == "joy"  # joy 0.8 against sadness 0.2
    np.testing.assert_allclose(drops, [0.0, 0.0, 0.1, 0.4])
    _, drops, label = occlusion_importance(WordCue(), "happy")  # leaving out the only word scores "."
    assert label == "joy" and drops == pytest.approx([0.4])
