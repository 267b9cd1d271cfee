"""GoEmotions as notebook 08 reads it: the released files, the mapping to six emotions, the committed halves,
and bad input refused with its file and line."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from conftest import unavailable

from helpers import LABEL_NAMES
from helpers.data import goemotions
from helpers.data.goemotions import (
    DROPPED,
    SPLIT_CSV,
    GoEmotionsDataError,
    load_goemotions,
    ood_halves,
    read_split,
)
from helpers.data.text_form import normalise_like_training

# Crafted folders differ from the release by design; the test of that warning catches it itself.
pytestmark = pytest.mark.filterwarnings("ignore:.*content differs from the GoEmotions release")


def test_the_released_splits_map_to_the_counts_the_readme_gives(goemotions_dir: Path) -> None:
    data = load_goemotions(goemotions_dir)
    assert (len(data["train"]), len(data["dev"])) == (7121, 856)
    assert set(data["dev"]["label"]) == set(range(len(LABEL_NAMES)))
    assert any("’" in text or "[NAME]" in text for text in data["dev"]["text"])  # kept as written


def test_the_committed_halves_are_disjoint_stratified_and_cover_the_mapped_comments(goemotions_dir: Path) -> None:
    halves = ood_halves(goemotions_dir)
    dev, ids = halves["ood_dev"], halves["ood_test"]
    assert not set(dev["id"]) & set(ids["id"])
    for label in range(len(LABEL_NAMES)):
        assert abs(dev["label"].count(label) - ids["label"].count(label)) <= 1
    split = read_split()
    assert len(split) == 856 and len(dev) + len(ids) == 856 - list(split.values()).count(DROPPED)
    trained = {normalise_like_training(text) for text in load_goemotions(goemotions_dir)["train"]["text"]}
    kept = [*dev["text"], *ids["text"]]
    assert not [text for text in kept if normalise_like_training(text) in trained]  # never trained on
    assert len({normalise_like_training(text) for text in kept}) == len(kept)  # never scored twice


EMOTIONS = [
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity", "desire",
    "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear", "gratitude", "grief", "joy",
    "love", "nervousness", "optimism", "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
]  # fmt: skip


def folder_with(tmp_path: Path, lines: list[str], name: str = "dev.tsv") -> Path:
    (tmp_path / "emotions.txt").write_text("\n".join(EMOTIONS) + "\n", encoding="utf-8")
    for file in ("train.tsv", "dev.tsv"):
        (tmp_path / file).write_text("ok text\t17\tz0\n", encoding="utf-8")
    (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_only_comments_whose_labels_all_map_to_one_emotion_are_kept(tmp_path: Path) -> None:
    lines = [
        "so sad and grieving\t25,16\ta1",  # sadness and grief: both sadness
        "what a day\t27\ta2",  # neutral
        "how kind\t5\ta3",  # caring: unmapped
        "furious and scared\t2,14\ta4",  # anger and fear: two emotions
        "ugh, again\t3\ta5",  # annoyance: anger
        "sad but fine\t25,27\ta6",  # with neutral: dropped
    ]
    dev = load_goemotions(folder_with(tmp_path, lines))["dev"]
    assert dev["id"] == ["a1", "a5"]
    assert [LABEL_NAMES[label] for label in dev["label"]] == ["sadness", "anger"]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("only a text", r"dev\.tsv:2: 1 tab-separated fields"),
        ("a text\t99\tb1", r"dev\.tsv:2: unknown emotion id in '99'"),
        ("   \t17\tb1", r"dev\.tsv:2: empty text"),
        ("again\t17\ta1", r"dev\.tsv:2: comment id 'a1' repeats line 1"),
    ],
)
def test_bad_lines_are_refused_with_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    with pytest.raises(GoEmotionsDataError, match=fragment):
        load_goemotions(folder_with(tmp_path, ["fine\t17\ta1", line]))


def test_a_changed_file_says_both_hashes(goemotions_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "goemotions"
    shutil.copytree(goemotions_dir, copy)
    (copy / "dev.tsv").write_bytes((copy / "dev.tsv").read_bytes().replace(b"sad", b"Sad", 1))
    with pytest.warns(UserWarning, match=r"dev\.tsv: content differs.*expected 5754.*found [0-9a-f]{64}"):
        assert len(load_goemotions(copy)["dev"]) == 856


def test_the_halves_refuse_a_split_file_of_other_comments(goemotions_dir: Path, tmp_path: Path) -> None:
    rows = list(csv.reader(SPLIT_CSV.open(encoding="utf-8")))
    edited = tmp_path / "split.csv"
    with edited.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([rows[0], ["not-a-comment", "ood_dev"], *rows[2:]])
    with pytest.raises(GoEmotionsDataError, match=r"1 id\(s\) not among.*1 mapped comment\(s\) in no half"):
        ood_halves(goemotions_dir, edited)
    with edited.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([rows[0], rows[1], rows[1]])
    with pytest.raises(GoEmotionsDataError, match=r"split\.csv:3: comment id .* listed twice"):
        read_split(edited)


def test_offline_without_a_folder_fails_fast_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOEMOTIONS_DATA_DIR", raising=False)
    monkeypatch.setattr(goemotions, "hub_reachable", lambda: False)
    with pytest.raises(GoEmotionsDataError, match=r"\$GOEMOTIONS_DATA_DIR"):
        load_goemotions()


def test_a_missing_dependency_fails_on_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="gone"):
        unavailable("gone")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="gone"):
        unavailable("gone")
