"""What every baseline shares: a fitted classifier with its validation choice, the label check, and saving and
loading with a fingerprint of the data it was fitted on, as the fine-tuned runs have: a baseline of other texts
is refused, not scored beside models of these."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import joblib
import numpy as np
from datasets import DatasetDict
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from helpers import LABEL_NAMES
from helpers.data.fingerprints import data_hashes, differences, digest
from helpers.metrics import classification_scores

REGULARISATION_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)

SELECTION = {"split": "validation", "metric": "f1_weighted", "ties": "the first in grid order wins"}

RECORD_SUFFIX = ".run.json"
"""Beside `<name>.joblib`: `<name>.run.json`, the baseline's fingerprint and what it covers."""


class BaselineMismatchError(ValueError):
    """A saved baseline was fitted on other data than the notebook loaded."""


def record_path(path: Path) -> Path:
    return path.with_name(path.stem + RECORD_SUFFIX)


def baseline_identity(path: Path, data: DatasetDict, encoder: str | None) -> dict[str, Any]:
    """What defines a saved baseline: its name, the content of the training and validation splits that fit and
    chose it, and for one over encoder embeddings, the encoder."""
    return {
        "kind": "baseline",
        "name": path.stem,
        "data": data_hashes(data),
        "rows": {split: len(data[split]) for split in ("train", "validation")},
        **({"encoder": encoder} if encoder is not None else {}),
    }


@dataclass
class FittedBaseline:
    """A fitted scikit-learn model with the validation search that picked it.

    `search` has one row per candidate in grid order; `chosen` is the winning row (None: nothing was chosen);
    `facts` is what else the search measured (feature counts, seconds), saved beside the rows.
    """

    model: Pipeline | DummyClassifier
    search: list[dict[str, Any]]
    chosen: dict[str, Any] | None
    facts: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path, data: DatasetDict, encoder: str | None = None) -> Path:
        """Save the model and, beside it, the fingerprint of `data` (the splits it was fitted and chosen on)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.model, path)
        identity = baseline_identity(path, data, encoder)
        record = {"fingerprint": digest(identity), "identity": identity}
        record_path(path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return path

    def save_search(self, path: Path) -> Path:
        """The whole search as JSON, so that a report can describe it without typing a number."""
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"selection": SELECTION, **self.facts, "chosen": self.chosen, "grid": self.search}
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return path


def require_every_label(labels: Sequence[int]) -> None:
    """Refuse training labels that miss a label id.

    scikit-learn orders probability columns by the sorted labels it saw, so column j is label j only when
    every id 0..5 occurs; a missing class would shift every column after it without any error downstream.
    """
    seen = np.unique(np.asarray(labels))
    expected = np.arange(len(LABEL_NAMES))
    if seen.shape != expected.shape or not (seen == expected).all():
        raise ValueError(
            f"training labels are {seen.tolist()}; every label id {expected.tolist()} must occur so that "
            "probability column j is label j"
        )


def choose_c(
    build: Callable[[float], Pipeline],
    train_x: object,
    train_y: Sequence[int],
    val_x: object,
    val_y: Sequence[int],
    grid: Sequence[float],
) -> FittedBaseline:
    """Fit one pipeline per C and keep the one with the best validation weighted F1."""
    require_every_label(train_y)
    search, best = [], None
    for c in grid:
        start = perf_counter()
        model = build(c).fit(train_x, train_y)
        seconds = perf_counter() - start
        scores = classification_scores(val_y, model.predict(val_x))
        row = {"C": c, "f1_weighted": scores["f1_weighted"], "accuracy": scores["accuracy"], "fit_seconds": seconds}
        search.append(row)
        if best is None or row["f1_weighted"] > best[0]["f1_weighted"]:
            best = (row, model)
    return FittedBaseline(model=best[1], search=search, chosen=best[0])


def baseline_record(path: Path, data: DatasetDict | None = None, encoder: str | None = None) -> dict[str, Any]:
    """A saved baseline's fingerprint record. With `data`, the baseline must have been fitted and chosen on
    exactly these training and validation texts and labels (and over `encoder`'s embeddings, for the one that
    uses an encoder); otherwise `BaselineMismatchError` names what differs."""
    record_file = record_path(path)
    if not path.is_file() or not record_file.is_file():
        raise FileNotFoundError(
            f"{path}: no saved baseline with a data fingerprint ({record_file.name}); "
            "run notebooks/02_baselines.ipynb first"
        )
    record = json.loads(record_file.read_text(encoding="utf-8"))
    if data is not None and record["identity"] != (expected := baseline_identity(path, data, encoder)):
        raise BaselineMismatchError(
            f"{path}: baseline {record['fingerprint']} was fitted on other data or another encoder than this "
            f"notebook loaded ({'; '.join(differences(record['identity'], expected))}); re-run "
            "notebooks/02_baselines.ipynb with the same profile and data"
        )
    return record


def load_baseline(
    path: Path, data: DatasetDict | None = None, encoder: str | None = None
) -> Pipeline | DummyClassifier:
    """A saved baseline, checked against `data` and `encoder` as `baseline_record` checks it."""
    baseline_record(path, data, encoder)
    return joblib.load(path)
