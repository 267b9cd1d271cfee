"""Each model with its own parts: its own tokenizer, refused when it does not fit, and a served back end
chosen on validation predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict
from transformers import BertTokenizer

from helpers import LABEL_NAMES
from helpers.baselines.frozen_encoder import fit_embedding_logreg
from helpers.baselines.majority import fit_majority
from helpers.baselines.tfidf import fit_tfidf
from helpers.evaluation.names import TRAINED_FOLDERS
from helpers.evaluation.selection import model_probabilities
from helpers.models.batching import batched_logits
from helpers.models.building import load_tokenizer
from helpers.models.folder import TokenizerMismatchError, load_model_folder
from helpers.paths import run_dir
from helpers.probabilities import softmax
from helpers.profiles import resolve_profile
from helpers.serving import backends
from helpers.serving.backends import (
    BACKEND_DECISION,
    EXACT_BACKEND,
    FAST_BACKEND,
    backend_agreement,
    choose_backend,
    decide_backend,
    default_backend,
    save_backend_decision,
)
from helpers.serving.classifier import EmotionClassifier
from helpers.training.finetune import tokenize_splits, train_classifier


def one_hot(labels: list[int], confidence: float = 0.9) -> np.ndarray:
    rest = (1 - confidence) / (len(LABEL_NAMES) - 1)
    probabilities = np.full((len(labels), len(LABEL_NAMES)), rest)
    probabilities[np.arange(len(labels)), labels] = confidence
    return probabilities


def synthetic_case(
    changed_right: int, changed_wrong: int, texts: int = 1000
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Gold labels, float32's probabilities (right on 900 texts) and a candidate's, which moves
    `changed_right` wrong answers to right ones and `changed_wrong` right answers to wrong ones."""
    gold = [i % 6 for i in range(texts)]
    reference = [g if i < 900 else (g + 1) % 6 for i, g in enumerate(gold)]
    candidate = list(reference)
    for i in range(900, 900 + changed_right):
        candidate[i] = gold[i]
    for i in range(changed_wrong):
        candidate[i] = (gold[i] + 2) % 6
    return gold, one_hot(reference), one_hot(candidate, 0.8)


@pytest.mark.parametrize(
    ("changed_right", "changed_wrong", "expected"),
    [
        (0, 0, FAST_BACKEND),  # identical labels
        (2, 3, FAST_BACKEND),  # 5 of 1000 labels changed (0.5%), accuracy -0.1 points: on the bound
        (3, 0, FAST_BACKEND),  # accuracy +0.3 points, exactly on the bound (float rounding must not refuse it)
        (0, 3, FAST_BACKEND),
        (3, 3, EXACT_BACKEND),  # 6 of 1000 (0.6%): too many changed labels, though accuracy is unchanged
        (4, 0, EXACT_BACKEND),  # 0.4% changed but accuracy +0.4 points: the bound holds in both directions
        (0, 4, EXACT_BACKEND),  # 0.4% changed and accuracy -0.4 points
    ],
)
def test_backend_is_chosen_from_validation_agreement(changed_right: int, changed_wrong: int, expected: str) -> None:
    gold, reference, candidate = synthetic_case(changed_right, changed_wrong)
    agreement = backend_agreement(gold, reference, candidate)
    assert agreement["changed_labels"] == changed_right + changed_wrong
    assert agreement["accuracy_change_points"] == pytest.approx(0.1 * (changed_right - changed_wrong))
    assert choose_backend(agreement) == expected


@pytest.fixture(scope="module")
def custom_tokenizer(easy_data: DatasetDict) -> BertTokenizer:
    """A word-level vocabulary of the easy set's words: a tokenizer unlike the profile's (30,522 tokens)."""
    words = sorted({word for text in easy_data["train"]["text"] for word in text.split()})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    return BertTokenizer(vocab={token: index for index, token in enumerate(tokens)})


@pytest.fixture(scope="module")
def custom_run(easy_data: DatasetDict, custom_tokenizer, tmp_path_factory) -> Path:
    cfg = resolve_profile("smoke", epochs=12, batch_size=16, learning_rate=2e-3, logging_steps=50)
    folder = tmp_path_factory.mktemp("custom") / "run"
    tokenized = tokenize_splits(easy_data, custom_tokenizer, cfg.max_length)
    return train_classifier(cfg, tokenized, custom_tokenizer, folder).model_dir


def test_model_folder_loads_its_own_tokenizer(custom_run: Path, custom_tokenizer) -> None:
    model, tokenizer = load_model_folder(custom_run)
    assert len(tokenizer) == len(custom_tokenizer) < 1000 and model.config.vocab_size == len(custom_tokenizer)


def test_tokenizer_that_does_not_fit_is_refused_naming_both(custom_run: Path, tmp_path: Path) -> None:
    swapped = tmp_path / "model"
    shutil.copytree(custom_run, swapped)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (swapped / name).unlink(missing_ok=True)
    load_tokenizer(resolve_profile("smoke")).save_pretrained(swapped)  # the profile's 30,522-token tokenizer
    with pytest.raises(TokenizerMismatchError, match=r"30522 tokens.*vocabulary \d+"):
        load_model_folder(swapped)
    with pytest.raises(TokenizerMismatchError):
        EmotionClassifier.from_folder(swapped)


def test_evaluation_scores_a_model_with_its_own_tokenizer(custom_run: Path, custom_tokenizer, easy_data) -> None:
    """A run trained with another tokenizer than the profile's gets its own numbers in notebook 05's scoring."""
    cfg = resolve_profile("smoke", seeds=1)  # one run per configuration: the profile seed's folders
    texts = list(easy_data["test"]["text"])
    labels = list(easy_data["test"]["label"])
    baselines = run_dir(cfg.name, "baselines")
    profile_tokenizer = load_tokenizer(cfg)
    train_texts, train_labels = list(easy_data["train"]["text"]), list(easy_data["train"]["label"])
    fit_majority(train_labels).save(baselines / "majority_class.joblib", easy_data)
    fit_tfidf(train_texts, train_labels, texts, labels, c_grid={"linear_svm": (1.0,)}, seed=0).save(
        baselines / "tfidf.joblib", easy_data
    )
    embeddings = np.random.default_rng(0).normal(size=(len(train_labels), 32))
    fit_embedding_logreg(embeddings, train_labels, embeddings, train_labels, seed=0).save(
        baselines / "frozen_encoder_logreg.joblib", easy_data, encoder=cfg.model_name_or_path
    )
    for folder in TRAINED_FOLDERS.values():
        shutil.copytree(custom_run.parent, run_dir(cfg.name, folder), dirs_exist_ok=True)

    probabilities = model_probabilities(cfg, profile_tokenizer, {"test": texts}, easy_data)
    model, own = load_model_folder(custom_run)
    expected = softmax(batched_logits(model, own, texts, max_length=cfg.max_length))
    np.testing.assert_allclose(probabilities["finetune_tuned"]["test"], expected, atol=1e-6)
    assert (expected.argmax(axis=1) == np.asarray(labels)).mean() > 0.6  # the model's own numbers are good ones


def test_decision_is_saved_in_the_folder_and_served_by_default(
    custom_run: Path, easy_data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(custom_run, folder)
    assert default_backend(folder) == EXACT_BACKEND  # undecided: the exact graph
    model, tokenizer = load_model_folder(folder)
    texts, labels = list(easy_data["validation"]["text"]), easy_data["validation"]["label"]
    decision = decide_backend(model, tokenizer, texts, labels)
    assert decision["agreement"]["texts"] == len(texts)
    # the bounds decide: none at all serves int8, an impossible one the exact graph, on the same measurement
    monkeypatch.setattr(backends, "MAX_CHANGED_LABELS", 1.0)
    monkeypatch.setattr(backends, "MAX_ACCURACY_CHANGE_POINTS", 100.0)
    assert decide_backend(model, tokenizer, texts, labels)["backend"] == backends.FAST_BACKEND
    monkeypatch.setattr(backends, "MAX_ACCURACY_CHANGE_POINTS", -1.0)
    assert decide_backend(model, tokenizer, texts, labels)["backend"] == EXACT_BACKEND
    save_backend_decision(folder, {**decision, "backend": "int8"})
    assert EmotionClassifier.from_folder(folder).backend == "int8"
    (folder / BACKEND_DECISION).write_text(json.dumps({"backend": "tpu"}), encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="unknown back end 'tpu'"):
        EmotionClassifier.from_folder(folder)
