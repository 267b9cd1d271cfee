"""Out-of-domain check: the model on hand-written messages that look like what people type.

The training tweets were collected from "i feel ..." sentences and are lower-cased and stripped of
punctuation and digits, so test accuracy says little about ordinary text. `data/out_of_domain.csv`
(see `data/README.md`) is a small set written and labelled by hand without looking at any model's
predictions. This module loads it strictly, scores it with any object that has
`predict_proba(texts) -> (n, 6)`, and measures one cheap remedy: writing inputs the way the data is
written (`normalise_like_training`) before they reach the model. Nothing is tuned on the set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from helpers import LABEL_NAMES
from helpers.data.loading import EmotionDataError, read_csv
from helpers.data.text_form import normalise_like_training
from helpers.evaluation.errors import confusion_pairs
from helpers.evaluation.statistics import bootstrap_intervals, confusion, mcnemar_test
from helpers.metrics import classification_scores
from helpers.paths import PROJECT_ROOT

OUT_OF_DOMAIN_CSV = PROJECT_ROOT / "data" / "out_of_domain.csv"
FEEL_WORDS = re.compile(r"\b(?:feel|feels|feeling|feelings|felt)\b", re.IGNORECASE)
"""The verb the training texts were collected with: a text using it is closer to the training data."""


class ProbabilisticClassifier(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def load_out_of_domain(path: str | Path = OUT_OF_DOMAIN_CSV) -> pd.DataFrame:
    """The hand-labelled set as a frame of `text` and `label` (an emotion name), or an `EmotionDataError`
    naming the file and line: a missing column, an empty or repeated text, or a label that is not one of
    the six names (ids are refused too: a hand-written file says what it means)."""
    path = Path(path)
    if not path.is_file():
        raise EmotionDataError(f"{path}: no such file")
    header, rows = read_csv(path)
    missing = [column for column in ("text", "label") if column not in header]
    if missing:
        raise EmotionDataError(f"{path}:1: missing column(s) {missing}; the header must be text,label, got {header}")
    texts: list[str] = []
    labels: list[str] = []
    first_seen: dict[str, int] = {}
    for line, row in rows:
        text, label = row["text"].strip(), row["label"].strip()
        if not text:
            raise EmotionDataError(f"{path}:{line}: empty text; write the message or remove the row")
        if label not in LABEL_NAMES:
            raise EmotionDataError(
                f"{path}:{line}: unknown label {row['label']!r}; expected one of {list(LABEL_NAMES)}"
            )
        key = " ".join(text.split()).casefold()
        if key in first_seen:
            raise EmotionDataError(f"{path}:{line}: duplicate text, already on line {first_seen[key]}: {text[:60]!r}")
        first_seen[key] = line
        texts.append(text)
        labels.append(label)
    if not texts:
        raise EmotionDataError(f"{path}: the file holds no rows")
    return pd.DataFrame({"text": texts, "label": labels})


def feel_share(texts: Sequence[str]) -> float:
    """Share of texts that use feel / feels / feeling / feelings / felt."""
    return float(np.mean([bool(FEEL_WORDS.search(text)) for text in texts])) if len(texts) else 0.0


def prediction_frame(texts: Sequence[str], labels: Sequence[str], probabilities: np.ndarray) -> pd.DataFrame:
    """One row per text as notebook 05 saves test predictions: text, label, predicted, confidence, p_*."""
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.shape != (len(texts), len(LABEL_NAMES)):
        raise ValueError(f"predict_proba gave shape {probabilities.shape}; expected ({len(texts)}, {len(LABEL_NAMES)})")
    frame = pd.DataFrame({"text": list(texts), "label": list(labels)})
    frame["predicted"] = [LABEL_NAMES[i] for i in probabilities.argmax(axis=1)]
    frame["confidence"] = probabilities.max(axis=1)
    for index, name in enumerate(LABEL_NAMES):
        frame[f"p_{name}"] = probabilities[:, index]
    return frame


def _ids(names: Sequence[str]) -> list[int]:
    return [LABEL_NAMES.index(name) for name in names]


def scores(predictions: pd.DataFrame) -> dict[str, float]:
    """Accuracy, macro F1 and per-class recall of a prediction frame (labels and predictions as names)."""
    full = classification_scores(_ids(predictions["label"]), _ids(predictions["predicted"]))
    return {key: full[key] for key in ("accuracy", "f1_macro", *(f"recall_{name}" for name in LABEL_NAMES))}


@dataclass
class OutOfDomainResult:
    """The set scored as typed (`raw`) and normalised, beside the in-domain test predictions."""

    raw: pd.DataFrame
    normalised: pd.DataFrame
    in_domain: pd.DataFrame
    test_texts_changed_by_normalising: int

    def scores_table(self) -> pd.DataFrame:
        """Accuracy and macro F1 per condition, with the gap to in-domain test accuracy in points."""
        rows = {
            "in-domain test": scores(self.in_domain),
            "out-of-domain, as typed": scores(self.raw),
            "out-of-domain, normalised": scores(self.normalised),
        }
        table = pd.DataFrame(rows).T[["accuracy", "f1_macro"]]
        table.insert(0, "texts", [len(self.in_domain), len(self.raw), len(self.normalised)])
        table["accuracy gap (points)"] = 100 * (table.loc["in-domain test", "accuracy"] - table["accuracy"])
        return table

    def recall_table(self) -> pd.DataFrame:
        """Recall per emotion (rows) in each condition (columns), with the number of set texts per emotion."""
        table = pd.DataFrame(
            {
                "in-domain test": [scores(self.in_domain)[f"recall_{n}"] for n in LABEL_NAMES],
                "out-of-domain, as typed": [scores(self.raw)[f"recall_{n}"] for n in LABEL_NAMES],
                "out-of-domain, normalised": [scores(self.normalised)[f"recall_{n}"] for n in LABEL_NAMES],
            },
            index=list(LABEL_NAMES),
        )
        table.insert(0, "texts", self.raw["label"].value_counts().reindex(LABEL_NAMES, fill_value=0))
        return table

    def confusion_table(self, normalised: bool = False) -> pd.DataFrame:
        """Counts of true (rows) against predicted (columns) emotions on the set."""
        frame = self.normalised if normalised else self.raw
        matrix = confusion(_ids(frame["label"]), _ids(frame["predicted"]))
        return pd.DataFrame(matrix, index=pd.Index(LABEL_NAMES, name="true"), columns=list(LABEL_NAMES))

    def mistakes(self, top: int = 8) -> pd.DataFrame:
        """Wrong predictions on the set as typed, most confident first, with the normalised prediction."""
        wrong = self.raw[self.raw["label"] != self.raw["predicted"]].sort_values("confidence", ascending=False)
        shown = wrong.head(top)[["text", "label", "predicted", "confidence"]].copy()
        shown["normalised predicted"] = self.normalised.loc[shown.index, "predicted"]
        return shown

    def summary(self) -> dict[str, Any]:
        """Everything the report needs, JSON-ready."""
        ids = _ids(self.raw["label"])
        raw_ids, normalised_ids = _ids(self.raw["predicted"]), _ids(self.normalised["predicted"])
        in_domain = scores(self.in_domain)

        def condition(frame: pd.DataFrame, predicted: list[int]) -> dict[str, Any]:
            measured = scores(frame)
            intervals = bootstrap_intervals(ids, predicted)
            return {
                **measured,
                "ci95": {key: list(intervals[key]) for key in ("accuracy", "f1_macro")},
                "gap_points": 100 * (in_domain["accuracy"] - measured["accuracy"]),
            }

        return {
            "texts": len(self.raw),
            "per_label": {name: int(count) for name, count in self.recall_table()["texts"].items()},
            "feel_share": feel_share(self.raw["text"]),
            "in_domain_test": {**in_domain, "texts": len(self.in_domain)},
            "raw": condition(self.raw, raw_ids),
            "normalised": condition(self.normalised, normalised_ids),
            "raw_vs_normalised": mcnemar_test(ids, raw_ids, normalised_ids),
            "labels_changed_by_normalising": int(np.sum(np.array(raw_ids) != np.array(normalised_ids))),
            "test_texts_changed_by_normalising": self.test_texts_changed_by_normalising,
            "confusion_raw": self.confusion_table().to_numpy().tolist(),
            "confusion_pairs_raw": confusion_pairs(self.raw, top=6).to_dict("records"),
            "mistakes": self.mistakes().to_dict("records"),
        }


def evaluate_out_of_domain(
    classifier: ProbabilisticClassifier, test_predictions: pd.DataFrame, path: str | Path = OUT_OF_DOMAIN_CSV
) -> OutOfDomainResult:
    """Score the set as typed and normalised with `classifier` (only its `predict_proba` is used).

    `test_predictions` is notebook 05's test frame (text, label, predicted as names): the in-domain side.
    The test texts are only normalised, not scored again: where normalising leaves a text unchanged, its
    prediction cannot change either, so the count of changed texts bounds the remedy's in-domain effect.
    """
    data = load_out_of_domain(path)
    texts, labels = list(data["text"]), list(data["label"])
    raw = prediction_frame(texts, labels, classifier.predict_proba(texts))
    normalised_texts = [normalise_like_training(text) for text in texts]
    normalised = prediction_frame(texts, labels, classifier.predict_proba(normalised_texts))
    normalised.insert(1, "as scored", normalised_texts)
    changed = sum(normalise_like_training(text) != text for text in test_predictions["text"])
    return OutOfDomainResult(raw, normalised, test_predictions, int(changed))
