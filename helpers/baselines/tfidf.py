"""The TF-IDF baseline, the yardstick of every claim, made as strong as a careful practitioner would make it.

A grid over feature sets, linear model (logistic regression or a linear SVM), C and class weights: every
combination is fitted on train, scored on validation, and the best validation weighted F1 wins.

The grid is a plain loop rather than `GridSearchCV` with a `PredefinedSplit`: the loop fits each feature set
once and lets every classifier reuse its matrices (the character n-grams cost more than most classifiers),
and `GridSearchCV(refit=True)` would retrain the winner on train and validation together, so the saved model
would not be the one whose validation score chose it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import Any

import numpy as np
from scipy.sparse import spmatrix
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from helpers.baselines.fitted import FittedBaseline, require_every_label
from helpers.metrics import classification_scores
from helpers.probabilities import fit_temperature, softmax


def _words() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)


def _characters() -> TfidfVectorizer:
    # char_wb pads each word with spaces, so its n-grams see word starts and ends (prefixes, suffixes,
    # misspellings such as "feelin") without bridging two words, which the word bigrams already cover
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)


FEATURE_SETS: dict[str, Callable[[], TransformerMixin]] = {
    "word 1-2": _words,
    "word 1-2 + char_wb 2-5": lambda: FeatureUnion([("words", _words()), ("characters", _characters())]),
}
"""Name -> a fresh, unfitted feature extractor. Every vectoriser drops n-grams seen in fewer than two texts."""
C_GRID: dict[str, tuple[float, ...]] = {
    "logreg": (1.0, 3.0, 10.0, 30.0, 100.0),
    "linear_svm": (0.03, 0.1, 0.3, 1.0, 3.0),
}
"""Model -> its C values. The ranges differ because the two losses regularise on different scales of C (the
hinge loss saturates sooner). Notebook 02 shows every cell's validation score (`tfidf_grid.json`), so a best C
at the edge of its range is there to see."""
CLASS_WEIGHTS: tuple[str | None, ...] = (None, "balanced")
CLASSIFIER_TITLES = {"logreg": "logistic regression", "linear_svm": "linear SVM"}


class SoftmaxLinearSVC(ClassifierMixin, BaseEstimator):
    """A `LinearSVC` whose probabilities are a softmax of its margins at one temperature fitted on validation.

    An SVM has margins, not probabilities, and every user of a baseline (loss, calibration, bootstrap) needs
    probabilities. One temperature cannot change which class has the largest margin, so predictions stay the
    SVM's own; it is fitted by `calibrate` on validation labels, never on the test split, which is the
    temperature scaling notebook 05 applies to the fine-tuned model. `CalibratedClassifierCV` was the other
    choice: it refits the SVM on folds of train and normalises one sigmoid per class, which can change the
    predicted class, so the model saved would not be the one the grid scored.
    """

    def __init__(
        self, C: float = 1.0, class_weight: str | None = None, max_iter: int = 5000, random_state: int | None = None
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, x: spmatrix, y: Sequence[int]) -> SoftmaxLinearSVC:
        self.svm_ = LinearSVC(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
        ).fit(x, y)
        self.classes_ = self.svm_.classes_
        self.temperature_: float | None = None
        return self

    def calibrate(self, x: spmatrix, y: Sequence[int]) -> SoftmaxLinearSVC:
        """Fit the temperature on held-out labels (validation): the only step that gives probabilities.

        Each label is scored in its own column of `classes_`; a label the SVM never saw in training has none.
        """
        labels = np.asarray(y)
        unseen = sorted(set(labels.tolist()) - set(self.classes_.tolist()))
        if unseen:
            raise ValueError(
                f"calibration labels {unseen} did not occur in training (classes {self.classes_.tolist()}): "
                "they have no probability column"
            )
        columns = np.searchsorted(self.classes_, labels)
        self.temperature_ = fit_temperature(self.decision_function(x), columns)
        return self

    def decision_function(self, x: spmatrix) -> np.ndarray:
        check_is_fitted(self, "svm_")
        return self.svm_.decision_function(x)

    def predict(self, x: spmatrix) -> np.ndarray:
        return self.classes_[self.decision_function(x).argmax(axis=1)]

    def predict_proba(self, x: spmatrix) -> np.ndarray:
        if getattr(self, "temperature_", None) is None:
            raise RuntimeError("no temperature yet: call calibrate() with validation data before predict_proba")
        return softmax(self.decision_function(x), self.temperature_)


def build_classifier(model: str, c: float, class_weight: str | None, seed: int) -> ClassifierMixin:
    if model == "logreg":
        return LogisticRegression(C=c, class_weight=class_weight, max_iter=3000, random_state=seed)
    if model == "linear_svm":
        return SoftmaxLinearSVC(C=c, class_weight=class_weight, random_state=seed)
    raise ValueError(f"unknown model {model!r}; choose one of {sorted(C_GRID)}")


def fit_tfidf(
    train_texts: Sequence[str],
    train_labels: Sequence[int],
    val_texts: Sequence[str],
    val_labels: Sequence[int],
    feature_sets: Sequence[str] = tuple(FEATURE_SETS),
    c_grid: Mapping[str, Sequence[float]] = C_GRID,
    class_weights: Sequence[str | None] = CLASS_WEIGHTS,
    seed: int = 42,
) -> FittedBaseline:
    """Every combination of the grid fitted on train; the best validation weighted F1 is returned as one pipeline.

    Grid order is features, model, class weight, then C ascending, and a tie keeps the earlier row: the simpler
    features and the stronger regularisation. A winning SVM is then given its temperature on validation.
    """
    unknown = sorted(set(feature_sets) - set(FEATURE_SETS))
    if unknown:
        raise ValueError(f"unknown feature sets {unknown}; choose from {list(FEATURE_SETS)}")
    require_every_label(train_labels)
    train_texts, val_texts = list(train_texts), list(val_texts)
    train_y, val_y = np.asarray(train_labels), np.asarray(val_labels)
    rows: list[dict[str, Any]] = []
    facts: dict[str, Any] = {"train_rows": len(train_texts), "validation_rows": len(val_texts), "feature_sets": {}}
    best: tuple[dict[str, Any], TransformerMixin, ClassifierMixin] | None = None
    started = perf_counter()
    # One BLAS thread: L-BFGS works on small vectors, where OpenBLAS's threads spin waiting for work that a
    # single thread finishes alone, and on a shared machine that spinning takes cores from the other fits.
    with threadpool_limits(limits=1):
        for name in feature_sets:
            start = perf_counter()
            features = FEATURE_SETS[name]()
            train_x = features.fit_transform(train_texts)
            val_x = features.transform(val_texts)
            facts["feature_sets"][name] = {"features": int(train_x.shape[1]), "seconds": perf_counter() - start}
            for model, grid in c_grid.items():
                for class_weight in class_weights:
                    for c in grid:
                        start = perf_counter()
                        classifier = build_classifier(model, c, class_weight, seed).fit(train_x, train_y)
                        seconds = perf_counter() - start
                        scores = classification_scores(val_y, classifier.predict(val_x))
                        row = {
                            "features": name,
                            "model": model,
                            "C": c,
                            "class_weight": class_weight,
                            "f1_weighted": scores["f1_weighted"],
                            "accuracy": scores["accuracy"],
                            "fit_seconds": seconds,
                        }
                        rows.append(row)
                        if best is None or row["f1_weighted"] > best[0]["f1_weighted"]:
                            best = (row, features, classifier)
        row, features, classifier = best
        temperature = None
        if isinstance(classifier, SoftmaxLinearSVC):
            temperature = classifier.calibrate(features.transform(val_texts), val_y).temperature_
    facts["seconds"] = perf_counter() - started
    pipeline = Pipeline([("features", features), ("classifier", classifier)])
    return FittedBaseline(model=pipeline, search=rows, chosen={**row, "temperature": temperature}, facts=facts)


def describe_choice(chosen: Mapping[str, Any]) -> str:
    """The winning combination in words, e.g. for a notebook's printout and the report."""
    weights = "balanced class weights" if chosen["class_weight"] == "balanced" else "no class weights"
    text = f"{chosen['features']} TF-IDF, {CLASSIFIER_TITLES[chosen['model']]} with C = {chosen['C']:g} and {weights}"
    if chosen.get("temperature") is not None:
        text += f"; probabilities: softmax of the margins at T = {chosen['temperature']:.3f} (fitted on validation)"
    return text
