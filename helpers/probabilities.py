"""Logits to probabilities, shared by baselines, serving and evaluation: softmax and temperature scaling."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from helpers.metrics import cross_entropy


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities from logits along the last axis, shifted by the row maximum so that exp never overflows."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: Sequence[int]) -> float:
    """The temperature that minimises validation cross-entropy (Guo et al., 2017)."""
    refs = np.asarray(labels)
    result = minimize_scalar(
        lambda log_t: cross_entropy(refs, softmax(logits, float(np.exp(log_t)))), bounds=(-3, 3), method="bounded"
    )
    return float(np.exp(result.x))
