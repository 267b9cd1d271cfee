"""The metrics and the spread over seeds, each defined once and used alike by training, tables and intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.evaluation.statistics import bootstrap_intervals, seed_summary, seeds_frame
from helpers.metrics import HEADLINE, HEADLINE_METRICS, classification_scores, format_mean_sd, mean_sd

REFERENCES = [0, 1, 2, 3, 4, 5, 1, 1, 0, 3]
PREDICTIONS = [0, 1, 1, 3, 4, 0, 1, 2, 0, 3]


def test_one_seed_has_no_sd() -> None:
    assert mean_sd([0.9]) == (0.9, None)
    assert format_mean_sd(0.9, None) == "0.9000"


def test_sd_is_the_sample_standard_deviation() -> None:
    mean, sd = mean_sd([0.90, 0.92, 0.97])
    assert mean == pytest.approx(0.93)
    assert sd == pytest.approx(np.std([0.90, 0.92, 0.97], ddof=1)) and sd > np.std([0.90, 0.92, 0.97])
    assert format_mean_sd(mean, sd) == f"0.9300 ± {sd:.4f}"


def test_no_values_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        mean_sd([])


def test_headline_metrics_are_the_trainer_metrics() -> None:
    scores = classification_scores(REFERENCES, PREDICTIONS)
    assert tuple(HEADLINE_METRICS) == HEADLINE
    for name, metric in HEADLINE_METRICS.items():
        assert scores[name] == metric(REFERENCES, PREDICTIONS)
    assert scores["accuracy"] == pytest.approx(0.7)


def test_bootstrap_intervals_use_the_same_metrics() -> None:
    intervals = bootstrap_intervals(REFERENCES * 20, PREDICTIONS * 20, resamples=200)
    scores = classification_scores(REFERENCES * 20, PREDICTIONS * 20)
    for name in HEADLINE:
        low, high = intervals[name]
        assert low <= scores[name] <= high and low < high


def test_seed_summary_with_one_seed_leaves_sd_undefined() -> None:
    scores = {"a": {"test": {"accuracy": 0.8, "f1_macro": 0.7}}, "b": {"test": {"accuracy": 0.9, "f1_macro": 0.6}}}
    summary = seed_summary(scores, {"one": {"a": Path("a")}, "two": {"a": Path("a"), "b": Path("b")}}, HEADLINE[::2])
    assert summary["one"]["sd"]["test"] == {"accuracy": None, "f1_macro": None}
    assert summary["two"]["mean"]["test"]["accuracy"] == pytest.approx(0.85)
    assert summary["two"]["sd"]["test"]["accuracy"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    table = seeds_frame(summary)
    assert table.loc[("one", "test"), "mean ± sd accuracy"] == "0.8000"
    assert table.loc[("two", "test"), "mean ± sd accuracy"].startswith("0.8500 ± ")
