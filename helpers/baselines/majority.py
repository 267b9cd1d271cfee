"""The floor every model must beat: always the most frequent training label."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.dummy import DummyClassifier

from helpers.baselines.fitted import FittedBaseline, require_every_label


def fit_majority(train_labels: Sequence[int]) -> FittedBaseline:
    require_every_label(train_labels)
    model = DummyClassifier(strategy="prior").fit(np.zeros((len(train_labels), 1)), train_labels)
    return FittedBaseline(model=model, search=[], chosen=None)
