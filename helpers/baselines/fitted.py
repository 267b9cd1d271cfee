"""What every baseline shares: a fitted classifier with its validation choice, the label check, loading from disk."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import joblib
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from helpers import LABEL_NAMES
from helpers.metrics import classification_scores

REGULARISATION_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)

SELECTION = {"split": "validation", "metric": "f1_weighted", "ties": "the first in grid order wins"}


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

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.model, path)
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


def load_baseline(path: Path) -> Pipeline | DummyClassifier:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no saved baseline; run notebooks/02_baselines.ipynb first")
    return joblib.load(path)
