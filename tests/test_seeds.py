"""Several seeds per configuration, trained in parallel workers; their ensembles, the choice of the analysed model
on validation, and the comparison of two configurations over seeds and test texts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from datasets import DatasetDict

from helpers.evaluation.selection import choose_model, ensemble_probabilities, paired_standard_error, served_model
from helpers.evaluation.statistics import seed_and_text_interval
from helpers.models.building import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.training.finetune import load_training_result, seed_run_dir, seeds_of, tokenize_splits, train_seeds
from helpers.training.workers import threads_per_job


def test_seeds_train_side_by_side_into_their_own_folders_and_finished_runs_are_reused(easy_data: DatasetDict) -> None:
    cfg = resolve_profile("smoke", seeds=2, workers=2, logging_steps=5)
    tokenizer = load_tokenizer(cfg)
    tokenized = tokenize_splits(easy_data, tokenizer, cfg.max_length)
    recipe = {"learning_rate": 2e-3, "batch_size": 16, "epochs": 2}
    results, extra = train_seeds(cfg, tokenized, tokenizer, "finetune", recipe)
    assert extra == [] and [r.seed for r in results] == seeds_of(cfg) == [42, 43]
    folders = [seed_run_dir(cfg, "finetune", seed) for seed in seeds_of(cfg)]
    assert [f.name for f in folders] == ["finetune", "finetune-seed43"]
    saved = [load_training_result(folder, easy_data) for folder in folders]
    assert [run["identity"]["settings"]["seed"] for run in saved] == [42, 43]
    assert saved[0]["fingerprint"] != saved[1]["fingerprint"]
    assert not any(r.reused for r in results)

    again, _ = train_seeds(cfg, tokenized, tokenizer, "finetune", recipe)  # the same runs: nothing to train
    assert all(r.reused for r in again)
    assert [r.fingerprint for r in again] == [r.fingerprint for r in results]
    assert [r.best_validation for r in again] == [r.best_validation for r in results]

    other, _ = train_seeds(replace(cfg, workers=1), tokenized, tokenizer, "finetune", {**recipe, "epochs": 1})
    assert not any(r.reused for r in other)  # another configuration replaces them


@pytest.mark.parametrize(
    ("jobs", "workers", "cores", "expected"),
    [(3, 2, 2, [1, 1, 2]), (4, 2, 2, [1, 1, 1, 1]), (1, 2, 2, [2]), (5, 2, 8, [4, 4, 4, 4, 8])],
)
def test_the_cores_are_shared_among_the_jobs_that_run_together(jobs, workers, cores, expected) -> None:
    assert threads_per_job(jobs, workers, cores) == expected


def _predictions_right_on(labels: np.ndarray, right: int) -> np.ndarray:
    """Predictions that are right on the first `right` texts and wrong (the next emotion) on the rest."""
    predictions = (labels + 1) % 6
    predictions[:right] = labels[:right]
    return predictions


@pytest.fixture
def validation_labels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 6, 600)


@pytest.mark.parametrize("metric", ["accuracy", "f1_weighted"])
def test_a_costlier_model_is_chosen_only_beyond_one_standard_error(validation_labels, metric) -> None:
    single = _predictions_right_on(validation_labels, 540)
    predictions = {"single": single, "other_single": _predictions_right_on(validation_labels, 530)}
    costs = {"single": 1, "other_single": 1, "ensemble": 3}

    # the ensemble disagrees with the single model on 41 texts and is right on one more of them: a gain of one text
    ensemble = single.copy()
    ensemble[520:540] = (validation_labels[520:540] + 2) % 6
    ensemble[540:561] = validation_labels[540:561]
    by_one_text = {**predictions, "ensemble": ensemble}
    chosen = choose_model(validation_labels, by_one_text, costs, metric, resamples=200, seed=0)
    assert chosen["name"] == "single" and chosen["cost"] == 1
    (comparison,) = chosen["comparisons"]
    assert comparison["candidate"] == "ensemble" and comparison["against"] == "single"
    assert 0 < comparison["gain"] < comparison["standard_error"] and not comparison["adopted"]

    by_far = {**predictions, "ensemble": _predictions_right_on(validation_labels, 580)}
    chosen = choose_model(validation_labels, by_far, costs, metric, resamples=200, seed=0)
    assert chosen["name"] == "ensemble" and chosen["comparisons"][0]["adopted"]
    assert chosen["validation_score"] == chosen["candidates"]["ensemble"]["validation_score"]


def test_among_equal_costs_the_best_wins_first_listed_on_a_tie(validation_labels) -> None:
    worse, better = (_predictions_right_on(validation_labels, right) for right in (500, 541))
    predictions = {"a": worse, "b": better, "c": better.copy()}
    chosen = choose_model(validation_labels, predictions, dict.fromkeys(predictions, 1), "f1_weighted", 50, 0)
    assert chosen["name"] == "b" and chosen["comparisons"] == []
    reordered = {"c": better, "b": better.copy(), "a": worse}
    assert choose_model(validation_labels, reordered, dict.fromkeys(reordered, 1), "f1_weighted", 50, 0)["name"] == "c"


def test_the_standard_error_grows_with_the_texts_the_models_disagree_on(validation_labels) -> None:
    a = _predictions_right_on(validation_labels, 540)
    close, far = _predictions_right_on(validation_labels, 545), (a + 2) % 6
    far[:300] = validation_labels[:300]
    near = paired_standard_error(validation_labels, close, a, "accuracy", 300, 0)
    assert near == pytest.approx(np.sqrt(5 / 600 * (1 - 5 / 600) / 600), rel=0.3)  # 5 texts differ, one way
    assert paired_standard_error(validation_labels, far, a, "accuracy", 300, 0) > 3 * near


def test_an_ensemble_is_served_as_its_best_member_a_single_model_as_itself() -> None:
    scores = {"m42": 0.91, "m43": 0.93, "m44": 0.93}
    assert served_model("ensemble", ["m42", "m43", "m44"], scores) == "m43"
    assert served_model("m42", ["m42"], scores) == "m42"


def test_an_ensemble_averages_its_members_probabilities() -> None:
    probabilities = {
        "x": {"test": np.array([[0.8, 0.2], [0.4, 0.6]])},
        "y": {"test": np.array([[0.2, 0.8], [0.0, 1.0]])},
    }
    ensembles = ensemble_probabilities(probabilities, {"both": ["x", "y"]})
    np.testing.assert_allclose(ensembles["both"]["test"], [[0.5, 0.5], [0.2, 0.8]])


def test_the_comparison_over_seeds_and_texts_counts_both_sources_of_chance() -> None:
    labels = np.zeros(200, dtype=int)
    right, wrong = np.zeros(200, dtype=int), np.ones(200, dtype=int)
    always = seed_and_text_interval(labels, [right, right], [wrong, wrong])
    assert always["difference"] == 1.0 and always["ci95_low"] == always["ci95_high"] == 1.0
    assert always["p_value"] == 0.0

    same = seed_and_text_interval(labels, [right, wrong], [right, wrong])
    assert same["difference"] == 0.0 and same["p_value"] == pytest.approx(1.0)
    assert same["ci95_low"] == pytest.approx(-same["ci95_high"]) and same["ci95_low"] < 0

    # One configuration's seeds disagree wildly, the other's agree: the same mean difference of 0.25 is far less
    # certain than when only the texts vary, because drawing seeds again can swap which one wins.
    half = np.where(np.arange(200) < 100, 0, 1)
    mostly = np.where(np.arange(200) < 150, 0, 1)
    steady = seed_and_text_interval(labels, [mostly, mostly], [half, half])
    unsteady = seed_and_text_interval(labels, [right, half], [half, half])
    assert steady["difference"] == pytest.approx(unsteady["difference"]) == pytest.approx(0.25)
    assert steady["ci95_low"] > 0.1 and steady["p_value"] < 1e-6 and steady["seed_variance"] == 0
    assert unsteady["ci95_high"] - unsteady["ci95_low"] > 2 * (steady["ci95_high"] - steady["ci95_low"])


def test_the_interval_covers_the_true_gain_at_three_seeds() -> None:
    """At 3 seeds a bootstrap over seeds sees only 10 seed sets and shrinks their variance by a third, so its
    interval misses the true gain far more often than 5% of the time. Simulated: each configuration's seed
    accuracy is drawn around its true mean (A 0.92, B 0.90, sd 0.02 over seeds), then 2,000 texts per seed;
    the 95% interval must cover the true 2-point gain in about 95% of 300 repeats (the bootstrap's: 85%)."""
    rng = np.random.default_rng(0)
    labels = np.zeros(2000, dtype=int)

    def seeds(mean: float) -> list[np.ndarray]:
        return [np.where(rng.random(2000) < accuracy, 0, 1) for accuracy in rng.normal(mean, 0.02, 3)]

    gains = [seed_and_text_interval(labels, seeds(0.92), seeds(0.90)) for _ in range(300)]
    covered = np.mean([gain["ci95_low"] <= 0.02 <= gain["ci95_high"] for gain in gains])
    assert 0.9 <= covered <= 0.995
    assert np.median([gain["degrees_of_freedom"] for gain in gains]) < 10  # the seeds, not the texts, decide it
