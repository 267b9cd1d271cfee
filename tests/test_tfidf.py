"""The TF-IDF baseline: chosen on validation, probabilities in label-id order, an SVM with real probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict

from helpers import LABEL_NAMES
from helpers.baselines.fitted import load_baseline
from helpers.baselines.tfidf import C_GRID, CLASS_WEIGHTS, FEATURE_SETS, SoftmaxLinearSVC, describe_choice, fit_tfidf
from helpers.data.loading import load_emotion, subset_for_profile

ONE_LOGREG = {"logreg": (10.0,)}
ONE_SVM = {"linear_svm": (1.0,)}


def texts_and_labels(data: DatasetDict, split: str) -> tuple[list[str], list[int]]:
    return list(data[split]["text"]), list(data[split]["label"])


def disguised(texts: list[str]) -> list[str]:
    """Every word with a letter added: unseen as a word, still close in characters."""
    return [" ".join(f"{word}x" for word in text.split()) for text in texts]


def test_validation_decides_the_features(easy_data: DatasetDict) -> None:
    """The same training data, two validation sets: each picks the features that serve it."""
    train_texts, train_labels = texts_and_labels(easy_data, "train")
    val_texts, val_labels = texts_and_labels(easy_data, "validation")
    grid = {"c_grid": ONE_LOGREG, "class_weights": (None,)}

    plain = fit_tfidf(train_texts, train_labels, val_texts, val_labels, **grid)
    assert [row["f1_weighted"] for row in plain.search] == [1.0, 1.0]
    assert plain.chosen["features"] == "word 1-2"  # a tie keeps the simpler features

    changed = fit_tfidf(train_texts, train_labels, disguised(val_texts), val_labels, **grid)
    words, both = changed.search
    assert words["f1_weighted"] < 0.5 < both["f1_weighted"]  # unseen words: only character n-grams carry over
    assert changed.chosen["features"] == "word 1-2 + char_wb 2-5"
    assert changed.chosen["f1_weighted"] == max(row["f1_weighted"] for row in changed.search)


def test_whole_grid_is_saved_as_json(easy_data: DatasetDict, tmp_path: Path) -> None:
    train_texts, train_labels = texts_and_labels(easy_data, "train")
    val_texts, val_labels = texts_and_labels(easy_data, "validation")
    fitted = fit_tfidf(train_texts, train_labels, val_texts, val_labels, seed=0)
    saved = json.loads(fitted.save_search(tmp_path / "tfidf_grid.json").read_text())

    expected = len(FEATURE_SETS) * len(CLASS_WEIGHTS) * sum(len(grid) for grid in C_GRID.values())
    assert len(saved["grid"]) == expected == 40
    assert {(r["features"], r["model"], r["C"], r["class_weight"]) for r in saved["grid"]} == {
        (features, model, c, weight)
        for features in FEATURE_SETS
        for model, grid in C_GRID.items()
        for c in grid
        for weight in CLASS_WEIGHTS
    }
    assert all(0 <= r["f1_weighted"] <= 1 and 0 <= r["accuracy"] <= 1 and r["fit_seconds"] >= 0 for r in saved["grid"])
    assert saved["selection"]["split"] == "validation" and saved["selection"]["metric"] == "f1_weighted"
    assert saved["chosen"]["f1_weighted"] == max(r["f1_weighted"] for r in saved["grid"])
    assert saved["train_rows"] == len(train_texts) and set(saved["feature_sets"]) == set(FEATURE_SETS)
    assert f"C = {saved['chosen']['C']:g}" in describe_choice(saved["chosen"])


@pytest.mark.parametrize("c_grid", [ONE_LOGREG, ONE_SVM], ids=["logreg", "linear_svm"])
def test_probability_columns_are_label_ids_whatever_the_order(
    easy_data: DatasetDict, c_grid: dict[str, tuple[float, ...]], tmp_path: Path
) -> None:
    """Training rows sorted from the last label to the first: column j still means label id j."""
    train_texts, train_labels = texts_and_labels(easy_data, "train")
    order = np.argsort(train_labels, kind="stable")[::-1]
    val_texts, val_labels = texts_and_labels(easy_data, "validation")
    fitted = fit_tfidf(
        [train_texts[i] for i in order], [train_labels[i] for i in order], val_texts, val_labels, c_grid=c_grid
    )
    model = load_baseline(fitted.save(tmp_path / "tfidf.joblib", easy_data), easy_data)  # what notebook 05 will load
    probabilities = model.predict_proba(val_texts)
    assert list(model.classes_) == list(range(len(LABEL_NAMES)))
    assert probabilities.shape == (len(val_texts), len(LABEL_NAMES))
    np.testing.assert_array_equal(probabilities.argmax(axis=1), val_labels)


def test_svm_probabilities_sum_to_one_and_agree_with_its_predictions(easy_data: DatasetDict) -> None:
    train_texts, train_labels = texts_and_labels(easy_data, "train")
    val_texts, val_labels = texts_and_labels(easy_data, "validation")
    noisy = [(label + 1) % len(LABEL_NAMES) if i % 3 == 0 else label for i, label in enumerate(val_labels)]
    fitted = fit_tfidf(train_texts, train_labels, val_texts, noisy, c_grid=ONE_SVM)
    assert isinstance(fitted.model[-1], SoftmaxLinearSVC)
    texts = list(easy_data["test"]["text"])
    probabilities = fitted.model.predict_proba(texts)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), fitted.model.predict(texts))
    # validation is right two times in three: the fitted temperature makes the SVM about that confident
    assert 0.5 < probabilities.max(axis=1).mean() < 0.85


def test_svm_without_temperature_refuses_probabilities(easy_data: DatasetDict) -> None:
    features = FEATURE_SETS["word 1-2"]()
    x = features.fit_transform(list(easy_data["train"]["text"]))
    svm = SoftmaxLinearSVC().fit(x, list(easy_data["train"]["label"]))
    assert len(svm.predict(x)) == x.shape[0]
    with pytest.raises(RuntimeError, match="calibrate"):
        svm.predict_proba(x)


def test_training_labels_missing_a_class_are_refused(easy_data: DatasetDict) -> None:
    texts, labels = texts_and_labels(easy_data, "train")
    kept = [i for i, label in enumerate(labels) if label != 5]
    with pytest.raises(ValueError, match="must occur"):
        fit_tfidf([texts[i] for i in kept], [labels[i] for i in kept], texts, labels, c_grid=ONE_LOGREG)


def test_real_data_probabilities_name_the_right_emotions(real_data_dir: Path) -> None:
    """On real tweets a shifted column would cost most of the accuracy; aligned ones keep it."""
    data = subset_for_profile(load_emotion(real_data_dir), train_size=2000, eval_size=500, seed=0)
    train_texts, train_labels = texts_and_labels(data, "train")
    val_texts, val_labels = texts_and_labels(data, "validation")
    fitted = fit_tfidf(
        train_texts, train_labels, val_texts, val_labels, feature_sets=("word 1-2",), c_grid={**ONE_LOGREG, **ONE_SVM}
    )
    probabilities = fitted.model.predict_proba(val_texts)
    accuracy = float((probabilities.argmax(axis=1) == np.asarray(val_labels)).mean())
    assert accuracy == pytest.approx(fitted.chosen["accuracy"]) and accuracy > 0.6
