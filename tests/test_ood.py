"""The hand-written out-of-domain set keeps its promises, and the scoring around it counts right."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import LABEL_NAMES
from helpers.data.loading import EmotionDataError
from helpers.data.text_form import TWEET_FORM, apostrophe_counts, normalise_like_training
from helpers.evaluation.out_of_domain import (
    OUT_OF_DOMAIN_CSV,
    evaluate_out_of_domain,
    feel_share,
    load_out_of_domain,
)


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return load_out_of_domain()


def test_committed_set_is_balanced_and_mostly_without_feel(committed: pd.DataFrame) -> None:
    counts = committed["label"].value_counts()
    assert set(counts.index) == set(LABEL_NAMES) and counts.min() >= 12
    assert feel_share(committed["text"]) <= 0.2


def test_committed_set_is_written_like_messages(committed: pd.DataFrame) -> None:
    """Capitals and punctuation in most texts, and lengths from a few words to a few sentences."""
    texts = committed["text"]
    assert texts.map(lambda t: any(c.isupper() for c in t)).mean() >= 0.8
    assert texts.map(lambda t: re.search(r"[^\w\s]", t) is not None).mean() >= 0.8
    words = texts.str.split().map(len)
    assert words.min() <= 8 and words.max() >= 18
    assert texts.map(lambda t: " ".join(t.split()[:2]).lower()).nunique() >= 0.9 * len(texts)  # not templated


def test_committed_set_shares_no_text_with_the_real_data(committed: pd.DataFrame, real_data_dir: Path) -> None:
    seen = {
        json.loads(line)["text"]
        for split in ("train", "validation", "test")
        for line in (real_data_dir / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    }
    assert not [text for text in committed["text"] if normalise_like_training(text) in seen]


def training_texts(real_data_dir: Path) -> list[str]:
    lines = (real_data_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines]


def test_normaliser_is_a_no_op_on_the_training_split(real_data_dir: Path) -> None:
    """Its rules come from the training split alone, and leave every training text as it is."""
    texts = training_texts(real_data_dir)
    assert [normalise_like_training(text) for text in texts] == texts
    assert all(TWEET_FORM.fullmatch(text) for text in texts)


def test_the_training_split_drops_apostrophes_inside_words(real_data_dir: Path) -> None:
    """Why the normaliser joins "I'm" into "im" instead of splitting it: the training split mostly does."""
    counts = apostrophe_counts(training_texts(real_data_dir))
    assert counts["im"] > 2 * counts["i m"] and counts["dont"] > counts["don t"]
    assert normalise_like_training("I'm sure I don't") == "im sure i dont"


@pytest.mark.parametrize(
    ("typed", "as_in_the_data"),
    [
        ("I'm SO happy today!", "im so happy today"),
        ("Don’t worry, it isn't you.", "dont worry it isnt you"),  # curly and straight apostrophes
        ("A 12-year-old's self-esteem", "a year olds self esteem"),  # digits vanish, hyphens split
        ("Wow... the café—finally! 🎉", "wow the cafe finally"),
        ("  lots   of\tspace\n", "lots of space"),
    ],
)
def test_normaliser_writes_text_as_the_data_does(typed: str, as_in_the_data: str) -> None:
    assert normalise_like_training(typed) == as_in_the_data


def _write(folder: Path, body: str) -> Path:
    path = folder / "set.csv"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("text,label\nFine day.,joy\nOh no.,sadnes\n", 3, "unknown label 'sadnes'"),
        ("text,label\nFine day.,joy\n,anger\n", 3, "empty text"),
        ("text,label\nFine day.,joy\nOh no.,2\n", 3, "unknown label '2'"),
        ("text,emotion\nFine day.,joy\n", 1, "missing column"),
        ("text,label\nFine day.,joy\nOh no.,sadness\nfine  DAY.,joy\n", 4, "duplicate text, already on line 2"),
        ('text,label\n"Two\nlines.",joy\nFine day.,joy\n"two lines.",love\n', 5, "already on line 2"),
    ],
)
def test_loader_names_file_and_line_of_bad_input(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(EmotionDataError, match=re.escape(f"{path}:{line}: ") + ".*" + re.escape(message)):
        load_out_of_domain(path)


class LookupClassifier:
    """Certain of whatever `answers` says for a text; `sadness` for anything else."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.full((len(texts), len(LABEL_NAMES)), 0.02)
        for row, text in zip(rows, texts):
            row[LABEL_NAMES.index(self.answers.get(text, "sadness"))] = 0.9
        return rows


def test_scores_and_gap_of_a_known_classifier(tmp_path: Path) -> None:
    """As typed, 2 of 4 right (50%); normalised, all 4 (100%); in-domain 3 of 4 (75%): gaps 25 and -25 points."""
    path = _write(tmp_path, "text,label\nSo sad.,sadness\nYay!,joy\nI'm scared.,fear\nWhat?!,surprise\n")
    classifier = LookupClassifier({"Yay!": "joy", "yay": "joy", "im scared": "fear", "what": "surprise"})
    test = pd.DataFrame(
        {
            "text": ["a", "b", "c", "d"],
            "label": ["joy", "joy", "love", "anger"],
            "predicted": ["joy"] * 2 + ["anger"] * 2,
        }
    )
    result = evaluate_out_of_domain(classifier, test, path)
    assert classifier.calls == [["So sad.", "Yay!", "I'm scared.", "What?!"], ["so sad", "yay", "im scared", "what"]]
    table = result.scores_table()
    assert table["accuracy"].tolist() == pytest.approx([0.75, 0.5, 1.0])
    assert table["accuracy gap (points)"].tolist() == pytest.approx([0.0, 25.0, -25.0])
    recall = result.recall_table()
    assert recall.loc["fear", "out-of-domain, as typed"] == 0 and recall.loc["fear", "out-of-domain, normalised"] == 1
    assert recall.loc["love", "in-domain test"] == 0 and recall["texts"].sum() == 4
    assert result.confusion_table().loc["fear", "sadness"] == 1 and result.confusion_table().to_numpy().sum() == 4
    assert result.mistakes()["normalised predicted"].tolist() == ["fear", "surprise"]
    summary = json.loads(json.dumps(result.summary()))  # JSON-ready as it is
    assert summary["raw"]["accuracy"] == 0.5 and summary["raw"]["gap_points"] == pytest.approx(25.0)
    assert summary["normalised"]["f1_macro"] == pytest.approx(4 / 6)  # love and anger: absent, F1 0, still counted
    assert summary["labels_changed_by_normalising"] == 2
    assert summary["test_texts_changed_by_normalising"] == 0 and summary["feel_share"] == 0
    assert summary["confusion_pairs_raw"][0]["errors"] == 1


def test_a_classifier_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    class Five:
        def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
            return np.full((len(texts), 5), 0.2)

    test = pd.DataFrame({"text": ["a"], "label": ["joy"], "predicted": ["joy"]})
    with pytest.raises(ValueError, match=r"shape \(1, 5\)"):
        evaluate_out_of_domain(Five(), test, _write(tmp_path, "text,label\nHi.,joy\n"))


def test_committed_set_is_the_default(committed: pd.DataFrame) -> None:
    assert OUT_OF_DOMAIN_CSV.name == "out_of_domain.csv" and len(committed) >= 72
