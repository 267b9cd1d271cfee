"""How far predicted probabilities are from observed accuracy: expected calibration error and the reliability curve."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.calibration import calibration_curve

CALIBRATION_BINS = 15
"""Equal-width confidence bins, one number for the ECE and the reliability diagram that shows it."""


def expected_calibration_error(probabilities: np.ndarray, labels: Sequence[int], bins: int = CALIBRATION_BINS) -> float:
    """Gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by bin size.
    Bins are closed on the right, as `sklearn.calibration.calibration_curve` closes them, so that the ECE is the
    weighted mean gap of the reliability curve's points."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(gap)


def reliability_curve(
    probabilities: np.ndarray, labels: Sequence[int], bins: int = CALIBRATION_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Mean confidence and accuracy per confidence bin of the top class (for the reliability diagram)."""

    correct = (probabilities.argmax(axis=1) == np.asarray(labels)).astype(int)
    accuracy, confidence = calibration_curve(correct, probabilities.max(axis=1), n_bins=bins, strategy="uniform")
    return confidence, accuracy
