"""Confidence intervals, McNemar's test and calibration, checked against hand-computed values and independent
implementations (scipy, statsmodels' definitions written out, scikit-learn's binning)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, bootstrap
from sklearn.calibration import calibration_curve

from helpers import LABEL_NAMES
from helpers.evaluation.calibration import CALIBRATION_BINS, expected_calibration_error, reliability_curve
from helpers.evaluation.statistics import bootstrap_intervals, mcnemar_test
from helpers.probabilities import fit_temperature, softmax


def labelled_predictions(size: int, right: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`size` references over the six labels and predictions of which exactly `right` are right, shuffled."""
    rng = np.random.default_rng(seed)
    references = rng.integers(0, len(LABEL_NAMES), size)
    predictions = references.copy()
    wrong = rng.permutation(size)[: size - right]
    predictions[wrong] = (references[wrong] + 1) % len(LABEL_NAMES)
    return references, predictions


def test_bootstrap_resamples_texts_in_pairs_like_a_bootstrap_of_per_text_scores() -> None:
    """Accuracy and loss are means of per-text scores, so their percentile intervals must equal scipy's bootstrap
    of those scores with the same generator: references, predictions and probabilities drawn together."""
    references, predictions = labelled_predictions(60, right=45)
    probabilities = softmax(np.random.default_rng(1).normal(size=(60, len(LABEL_NAMES))))
    intervals = bootstrap_intervals(references, predictions, probabilities, resamples=500, seed=7)
    correct = (predictions == references).astype(float)
    nll = -np.log(probabilities[np.arange(60), references])
    for name, per_text in (("accuracy", correct), ("loss", nll)):
        expected = bootstrap(
            (per_text,), np.mean, n_resamples=500, method="percentile", random_state=np.random.default_rng(7)
        ).confidence_interval
        assert intervals[name] == pytest.approx((expected.low, expected.high)), name
    assert set(intervals) == {"accuracy", "f1_weighted", "f1_macro", "loss"}
    assert "loss" not in bootstrap_intervals(references, predictions, resamples=50)


def test_bootstrap_accuracy_interval_matches_the_normal_approximation() -> None:
    """400 texts, 320 right: the 95% interval is close to 0.8 ± 1.96 · sqrt(0.8 · 0.2 / 400) = 0.8 ± 0.0392."""
    references, predictions = labelled_predictions(400, right=320)
    low, high = bootstrap_intervals(references, predictions, resamples=1000)["accuracy"]
    half = 1.96 * math.sqrt(0.8 * 0.2 / 400)
    assert low == pytest.approx(0.8 - half, abs=0.01) and high == pytest.approx(0.8 + half, abs=0.01)
    narrower = bootstrap_intervals(references, predictions, resamples=1000, confidence=0.5)["accuracy"]
    assert low < narrower[0] < 0.8 < narrower[1] < high


def test_bootstrap_of_a_perfect_model_is_a_point() -> None:
    references = np.arange(120) % len(LABEL_NAMES)
    intervals = bootstrap_intervals(references, references, resamples=200)
    assert intervals == {"accuracy": (1.0, 1.0), "f1_weighted": (1.0, 1.0), "f1_macro": (1.0, 1.0)}


def test_mcnemar_counts_the_discordant_texts_and_gives_the_exact_binomial_p_value() -> None:
    references = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    a = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1]  # right on texts 0-2 and 9
    b = [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]  # right on texts 0, 1 and 3-8
    result = mcnemar_test(references, a, b)
    assert (result["only_a_right"], result["only_b_right"]) == (2, 6)  # texts 2, 9; texts 3-8
    # exact test: twice the lower tail of Binomial(8, 1/2) at 2 = 2 · (1 + 8 + 28) / 256
    assert result["p_value"] == pytest.approx(2 * 37 / 256)
    assert result["p_value"] == pytest.approx(binomtest(2, 8, 0.5).pvalue)
    assert result["statistic"] == 2  # the exact test's statistic: the smaller discordant count
    swapped = mcnemar_test(references, b, a)
    assert (swapped["only_a_right"], swapped["only_b_right"]) == (6, 2)
    assert swapped["p_value"] == pytest.approx(result["p_value"])


def test_mcnemar_without_discordant_texts_finds_no_difference() -> None:
    result = mcnemar_test([0, 1, 2, 3], [0, 1, 0, 0], [0, 1, 0, 0])
    assert (result["only_a_right"], result["only_b_right"], result["p_value"]) == (0, 0, 1.0)


def test_ece_on_six_predictions_by_hand() -> None:
    """Five bins of width 0.2; two predictions in each of the top three bins:
    (0.8, 1]: confidences 0.9 (right) and 0.85 (wrong): |0.5 - 0.875| = 0.375
    (0.6, 0.8]: 0.7 and 0.65, both right: |1 - 0.675| = 0.325
    (0.4, 0.6]: 0.5 (wrong) and 0.45 (right): |0.5 - 0.475| = 0.025
    each bin holds a third of the predictions: ECE = (0.375 + 0.325 + 0.025) / 3."""
    probabilities = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.85, 0.1, 0.05],
            [0.1, 0.7, 0.2],
            [0.3, 0.65, 0.05],
            [0.5, 0.3, 0.2],
            [0.2, 0.35, 0.45],
        ]
    )
    labels = [0, 1, 1, 1, 2, 2]
    assert expected_calibration_error(probabilities, labels, bins=5) == pytest.approx(0.725 / 3)
    # one bin for everything: |accuracy - mean confidence| = |4/6 - 0.675|
    assert expected_calibration_error(probabilities, labels, bins=1) == pytest.approx(abs(4 / 6 - 0.675))


def test_ece_of_calibrated_predictions_is_zero_and_certainty_counts_in_the_last_bin() -> None:
    three_of_four = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(three_of_four, [0, 0, 0, 1]) == pytest.approx(0.0)
    certain = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert expected_calibration_error(certain, [0, 1]) == pytest.approx(0.5)


def test_ece_agrees_with_scikit_learn_binning() -> None:
    """The ECE as the bin-size-weighted gap of scikit-learn's `calibration_curve`, on random predictions (no
    confidence falls on a bin edge, where the two conventions could differ)."""
    rng = np.random.default_rng(3)
    probabilities = softmax(rng.normal(scale=2.0, size=(500, len(LABEL_NAMES))))
    labels = rng.integers(0, len(LABEL_NAMES), 500)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(int)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=15, strategy="uniform")
    counts = np.histogram(confidence, bins=np.linspace(0, 1, 16))[0]
    expected = np.sum(counts[counts > 0] / len(labels) * np.abs(accuracy - mean_confidence))
    assert expected_calibration_error(probabilities, labels) == pytest.approx(expected)


@pytest.mark.parametrize(("classes", "margin", "right_share"), [(6, 3.0, 0.75), (2, 1.0, 0.75), (6, 2.0, 0.5)])
def test_temperature_makes_the_top_probability_the_share_of_right_answers(
    classes: int, margin: float, right_share: float
) -> None:
    """Logits `margin` for one class, 0 for the others; the top class is right on `right_share` of the texts.

    The cross-entropy is smallest where the top probability e^(m/T) / (e^(m/T) + K - 1) equals that share, so
    T = m / ln(q (K - 1) / (1 - q)) exactly."""
    texts = 40
    right = int(texts * right_share)
    top = np.arange(texts) % classes
    logits = np.zeros((texts, classes))
    logits[np.arange(texts), top] = margin
    labels = np.where(np.arange(texts) < right, top, (top + 1) % classes)
    expected = margin / math.log(right_share * (classes - 1) / (1 - right_share))
    assert fit_temperature(logits, labels) == pytest.approx(expected, rel=1e-3)
    scaled = softmax(logits, fit_temperature(logits, labels))
    assert scaled.max(axis=1) == pytest.approx(np.full(texts, right_share), rel=1e-3)


def test_the_ece_is_the_weighted_gap_of_the_reliability_diagrams_bins() -> None:
    """One binning for both: a confidence in each bin above 1/6 gives one point per bin on the diagram, and the
    ECE is their mean gap (equal counts per bin); with the diagram's bins at 10 the two would disagree."""
    rng = np.random.default_rng(0)
    centres = (np.arange(CALIBRATION_BINS) + 0.5) / CALIBRATION_BINS
    confidence = np.repeat(centres[centres > 1 / 6], 40)  # a top class needs more than 1/6 of the mass
    rest = np.repeat(((1 - confidence) / 5)[:, None], 5, axis=1)
    probabilities = np.column_stack([confidence, rest])
    labels = np.where(rng.random(len(confidence)) < 0.7, 0, 1)
    mean_confidence, accuracy = reliability_curve(probabilities, labels)
    assert len(mean_confidence) == (centres > 1 / 6).sum()
    assert expected_calibration_error(probabilities, labels) == pytest.approx(np.abs(accuracy - mean_confidence).mean())
