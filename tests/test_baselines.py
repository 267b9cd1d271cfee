"""The majority-class and frozen-embedding baselines, and the SVM's probability columns, on inputs small enough
to know the answers: class shares, the choice of C on validation, and columns that follow `classes_`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict

from helpers import LABEL_NAMES
from helpers.baselines.fitted import BaselineMismatchError, baseline_record, choose_c, load_baseline, record_path
from helpers.baselines.frozen_encoder import fit_embedding_logreg
from helpers.baselines.majority import fit_majority
from helpers.baselines.tfidf import SoftmaxLinearSVC
from helpers.probabilities import fit_temperature

ALL_LABELS = list(range(len(LABEL_NAMES)))


def clustered(labels: list[int], seed: int = 0) -> np.ndarray:
    """One 8-dimensional point per label, near a corner of its own: easy for any linear model."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * np.eye(8)
    return centres[labels] + rng.normal(scale=0.3, size=(len(labels), 8))


def test_majority_probabilities_are_the_training_shares_in_label_order(tmp_path: Path, easy_data) -> None:
    labels = [3, 1, 0, 1, 4, 1, 2, 3, 5, 1]  # shares 0.1, 0.4, 0.1, 0.2, 0.1, 0.1, out of order
    fitted = fit_majority(labels)
    model = load_baseline(fitted.save(tmp_path / "majority_class.joblib", easy_data), easy_data)  # as notebook 05
    assert list(model.classes_) == ALL_LABELS
    np.testing.assert_allclose(model.predict_proba(np.zeros((2, 1))), [[0.1, 0.4, 0.1, 0.2, 0.1, 0.1]] * 2)
    assert list(model.predict(np.zeros((3, 1)))) == [1, 1, 1]


@pytest.mark.parametrize("labels", [[0, 1, 2, 3, 4, 4], [1, 2, 3, 4, 5, 5], [0, 1, 2, 3, 4, 5, 6]])
def test_training_labels_must_be_exactly_the_six_ids(labels: list[int]) -> None:
    """A missing id would shift every probability column after it; an extra one would add a column."""
    with pytest.raises(ValueError, match="must occur") as refused:
        fit_majority(labels)
    assert str(sorted(set(labels))) in str(refused.value)
    with pytest.raises(ValueError, match="must occur"):
        fit_embedding_logreg(clustered(labels), labels, clustered(labels), labels, grid=(1.0,))


class FixedPredictions:
    """A stand-in pipeline whose validation predictions are given: the search alone is under test."""

    def __init__(self, predictions: list[int]) -> None:
        self.predictions = predictions

    def fit(self, x: object, y: object) -> FixedPredictions:
        return self

    def predict(self, x: object) -> np.ndarray:
        return np.asarray(self.predictions)


def test_c_is_chosen_by_validation_weighted_f1_and_a_tie_keeps_the_first() -> None:
    """C = 0.1 predicts label 0 for the label-1 text: accuracy 5/6; F1 2/3 for label 0, 0 for label 1, 1 for
    the other four, weighted equally (one text each): (2/3 + 4) / 6 = 7/9. C = 1 and C = 10 are both perfect."""
    predictions = {0.1: [0, 0, 2, 3, 4, 5], 1.0: ALL_LABELS, 10.0: ALL_LABELS}
    fitted = choose_c(
        lambda c: FixedPredictions(predictions[c]), None, ALL_LABELS, None, ALL_LABELS, grid=(0.1, 1.0, 10.0)
    )
    assert [row["C"] for row in fitted.search] == [0.1, 1.0, 10.0]
    first = fitted.search[0]
    assert first["accuracy"] == pytest.approx(5 / 6) and first["f1_weighted"] == pytest.approx(7 / 9)
    assert fitted.chosen is fitted.search[1] and fitted.model.predictions == ALL_LABELS


def test_embedding_logreg_gives_label_ordered_columns_and_saves_its_search(tmp_path: Path) -> None:
    train_labels = [label for label in reversed(ALL_LABELS) for _ in range(10)]  # the last label first
    val_labels = ALL_LABELS * 3
    fitted = fit_embedding_logreg(clustered(train_labels), train_labels, clustered(val_labels, seed=1), val_labels)
    model = fitted.model
    assert list(model.classes_) == ALL_LABELS
    probabilities = model.predict_proba(clustered(val_labels, seed=2))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), val_labels)  # column j is label j
    assert fitted.chosen["f1_weighted"] == max(row["f1_weighted"] for row in fitted.search) == 1.0

    saved = json.loads(fitted.save_search(tmp_path / "grid.json").read_text(encoding="utf-8"))
    assert saved["grid"] == json.loads(json.dumps(fitted.search)) and saved["chosen"] == fitted.chosen
    assert saved["selection"]["split"] == "validation"


def test_missing_saved_baseline_says_which_notebook_makes_it(tmp_path: Path, easy_data) -> None:
    with pytest.raises(FileNotFoundError, match="02_baselines"):
        load_baseline(tmp_path / "tfidf.joblib")
    path = fit_majority(easy_data["train"]["label"]).save(tmp_path / "majority_class.joblib", easy_data)
    record_path(path).unlink()  # saved before baselines had fingerprints: not trusted either
    with pytest.raises(FileNotFoundError, match=r"majority_class\.run\.json.*02_baselines"):
        load_baseline(path, easy_data)


def test_a_baseline_fitted_on_other_data_is_refused_naming_the_split(tmp_path: Path, easy_data) -> None:
    """As the fine-tuned runs are: notebook 05 must not score a baseline of other texts beside models of these."""
    path = fit_majority(easy_data["train"]["label"]).save(tmp_path / "majority_class.joblib", easy_data)
    assert load_baseline(path, easy_data) is not None
    changed = DatasetDict({**easy_data, "validation": easy_data["validation"].select(range(10))})
    with pytest.raises(BaselineMismatchError, match=r"majority_class\.joblib.*validation"):
        load_baseline(path, changed)
    relabelled = easy_data["train"].map(lambda row: {"label": (row["label"] + 1) % len(LABEL_NAMES)})
    with pytest.raises(BaselineMismatchError, match="train"):
        load_baseline(path, DatasetDict({**easy_data, "train": relabelled}))
    assert load_baseline(path, DatasetDict({**easy_data, "test": easy_data["validation"]}))  # test is not in it


def test_the_frozen_encoder_baseline_is_refused_for_another_encoder(tmp_path: Path, easy_data) -> None:
    embeddings = clustered(list(easy_data["train"]["label"]))
    fitted = fit_embedding_logreg(embeddings, easy_data["train"]["label"], embeddings, easy_data["train"]["label"])
    path = fitted.save(tmp_path / "frozen_encoder_logreg.joblib", easy_data, encoder="encoder-a")
    assert baseline_record(path, easy_data, encoder="encoder-a")["identity"]["encoder"] == "encoder-a"
    with pytest.raises(BaselineMismatchError, match="encoder-a.*encoder-b"):
        load_baseline(path, easy_data, encoder="encoder-b")


def test_svm_columns_follow_its_classes_when_a_label_is_absent_from_training() -> None:
    """Trained on labels 0, 2 and 5 only: three columns, for those labels in that order. Calibration scores each
    validation label in its own column, and refuses a label that has none rather than scoring another's."""
    seen = [0, 2, 5]
    train_labels = seen * 10
    val_labels = seen * 4
    svm = SoftmaxLinearSVC(random_state=0).fit(clustered(train_labels), train_labels)
    assert list(svm.classes_) == seen
    val_x = clustered(val_labels, seed=1)
    svm.calibrate(val_x, val_labels)
    by_hand = {0: 0, 2: 1, 5: 2}  # label -> its column in classes_
    expected = fit_temperature(svm.decision_function(val_x), [by_hand[label] for label in val_labels])
    assert svm.temperature_ == pytest.approx(expected)
    probabilities = svm.predict_proba(val_x)
    assert probabilities.shape == (len(val_labels), 3)
    np.testing.assert_array_equal(svm.classes_[probabilities.argmax(axis=1)], val_labels)
    np.testing.assert_array_equal(svm.predict(val_x), val_labels)
    with pytest.raises(ValueError, match=r"labels \[1, 3\] did not occur in training"):
        svm.calibrate(clustered([0, 1, 3], seed=3), [0, 1, 3])
