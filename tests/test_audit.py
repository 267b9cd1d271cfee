"""The audit reports what is really in the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.audit import audit_splits, save_audit
from helpers.data import load_emotion
from helpers.modeling import load_tokenizer
from helpers.profiles import resolve_profile


@pytest.fixture(scope="module")
def audit(real_data_dir: Path) -> dict:
    return audit_splits(load_emotion(real_data_dir), load_tokenizer(resolve_profile("smoke")))


def test_class_counts(audit: dict) -> None:
    assert audit["class_counts"]["train"] == {
        "sadness": 4666, "joy": 5362, "love": 1304, "anger": 2159, "fear": 1937, "surprise": 572,
    }  # fmt: skip
    assert audit["class_counts"]["test"]["surprise"] == 66
    assert sum(audit["class_counts"]["validation"].values()) == 2000


def test_duplicates_within_splits(audit: dict) -> None:
    train = audit["duplicates_within"]["train"]
    assert (train["distinct_texts"], train["repeated_texts"], train["repeated_with_conflicting_labels"]) == (
        15969, 31, 30,
    )  # fmt: skip
    assert audit["duplicates_within"]["validation"]["repeated_with_conflicting_labels"] == 2
    assert audit["duplicates_within"]["test"]["repeated_texts"] == 0


def test_texts_shared_between_splits_all_conflict(audit: dict) -> None:
    shared = audit["shared_between"]
    assert (shared["train/test"]["shared_texts"], shared["train/test"]["with_different_labels"]) == (11, 11)
    assert (shared["train/validation"]["shared_texts"], shared["train/validation"]["with_different_labels"]) == (5, 5)
    assert shared["validation/test"]["with_different_labels"] == 3
    example = shared["train/test"]["examples"][0]
    assert example["train"] != example["test"]


def test_token_lengths_per_class(audit: dict) -> None:
    train = audit["token_length"]["train"]
    assert set(train) == {"all", "sadness", "joy", "love", "anger", "fear", "surprise"}
    assert 20 < train["all"]["mean"] < 25 and train["all"]["p99"] < 64 and train["all"]["max"] < 128
    assert train["surprise"]["count"] == 572


def test_audit_is_saved_as_json(audit: dict, tmp_path: Path) -> None:
    path = save_audit(audit, tmp_path)
    assert json.loads(path.read_text())["rows"] == {"train": 16000, "validation": 2000, "test": 2000}
