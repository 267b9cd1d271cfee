"""The audit reports what is really in the data."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from helpers.data.audit import (
    audit_splits,
    has_other_than_a_z_and_space,
    has_punctuation,
    has_upper_case,
    save_audit,
    text_form,
    words,
)
from helpers.data.loading import load_emotion
from helpers.models.building import load_tokenizer
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


def test_words_are_runs_of_letters_after_lower_casing() -> None:
    assert words("I don't FEEL-good, 2day!") == ["i", "don", "t", "feel", "good", "day"]
    assert words("") == [] and words("... 42") == []


@pytest.mark.parametrize(
    ("text", "upper", "punctuation", "other"),
    [
        ("i feel fine", False, False, False),
        ("I feel fine", True, False, True),
        ("i feel fine.", False, True, True),
        ("i dont feel it", False, False, False),
        ("i don’t feel it", False, True, True),  # a curly apostrophe is punctuation too
        ("i feel 100 fine", False, False, True),  # digits are neither upper case nor punctuation
        ("i feel <3", False, False, True),  # "<" is a Unicode symbol, not punctuation
        ("i feel _odd_", False, True, True),  # the underscore is connector punctuation
        ("ÉTÉ", True, False, True),
    ],
)
def test_casing_punctuation_and_other_characters(text: str, upper: bool, punctuation: bool, other: bool) -> None:
    assert (has_upper_case(text), has_punctuation(text), has_other_than_a_z_and_space(text)) == (
        upper, punctuation, other,
    )  # fmt: skip


def test_text_form_counts_hand_made_texts() -> None:
    texts = [
        "i feel happy",
        "I FEEL happy",  # 'feel' after lower-casing, and upper case
        "im feeling low",
        "she feels it, really",  # punctuation
        "i was feelin fine",  # only 'feel' inside another word
        "i felt nothing",
        "",
    ]
    form = text_form(texts, first_words=2)
    counts = {key: form[key]["count"] for key in ("feel_word", "feel_forms", "feel_anywhere", "upper_case")}
    assert counts == {"feel_word": 2, "feel_forms": 4, "feel_anywhere": 5, "upper_case": 1}
    assert form["punctuation"] == {"count": 1, "share": 1 / 7}
    assert form["other_than_a_z_and_space"]["count"] == 2
    assert form["texts"] == 7 and form["characters"].startswith(" ,EFIL")
    assert form["first_words"] == [
        {"word": "i", "count": 4, "share": 4 / 7},
        {"word": "im", "count": 1, "share": 1 / 7},
    ]


def test_real_texts_are_lower_case_feel_sentences_without_punctuation(audit: dict) -> None:
    train = audit["text_form"]["train"]
    assert (train["feel_word"]["count"], train["feel_forms"]["count"], train["feel_anywhere"]["count"]) == (
        10628, 15783, 15794,
    )  # fmt: skip
    assert round(train["feel_anywhere"]["share"], 3) == 0.987
    for split, form in audit["text_form"].items():
        assert form["texts"] == audit["rows"][split]
        assert form["upper_case"]["count"] == form["punctuation"]["count"] == 0, split
        assert form["characters"] == " " + string.ascii_lowercase, split
        assert form["first_words"][0]["word"] == "i" and form["feel_forms"]["share"] > 0.98
    assert set(audit["text_form_rules"]) >= {"word", "feel_forms", "punctuation"}
