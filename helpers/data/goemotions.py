"""GoEmotions' Reddit comments, mapped to the six emotions: out-of-domain text that people wrote.

Read from a folder (an argument, else `$GOEMOTIONS_DATA_DIR`) holding `train.tsv`, `dev.tsv` and `emotions.txt`
as released (tab-separated, no header, no quoting: text, comma-separated emotion ids, comment id), else from the
hub where it is reachable. The mapping, the rule for comments with several labels and the files' sha256 are in
`data/goemotions_mapping.json`, written before any model was scored with them. A file whose content differs
from the recorded hash is still read, with a warning giving both hashes: its comments are still real text, but
its numbers are not comparable with the committed report's.

The mapped development comments are halved by comment id (`data/goemotions_split.csv`, ids only, stratified by
emotion, seed 42): OOD-dev for every choice, OOD-test for the report.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from datasets import ClassLabel, Dataset, Features, Value
from sklearn.model_selection import train_test_split

from helpers import LABEL_NAMES
from helpers.data.loading import EmotionDataError, hub_reachable, read_utf8
from helpers.data.text_form import normalise_like_training
from helpers.paths import PROJECT_ROOT

GOEMOTIONS_ENV = "GOEMOTIONS_DATA_DIR"
HUB_DATASET = ("google-research-datasets/go_emotions", "simplified")
MAPPING_JSON = PROJECT_ROOT / "data" / "goemotions_mapping.json"
SPLIT_CSV = PROJECT_ROOT / "data" / "goemotions_split.csv"
HALVES = ("ood_dev", "ood_test")
DROPPED = "dropped"
"""The half of a development comment that is also a training comment, or repeats another development comment,
once written the tweets' way: in neither half, so no text is scored twice or trained on."""
SPLIT_SEED = 42
FILES = {"train": "train.tsv", "dev": "dev.tsv"}
FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=list(LABEL_NAMES)), "id": Value("string")})
"""The emotion data's features, with the comment id beside them."""


class GoEmotionsDataError(EmotionDataError):
    """GoEmotions could not be read as it is; the message names the file and line."""


def _mapping() -> dict[str, int]:
    """GoEmotions emotion name -> the project's label id."""
    saved = json.loads(MAPPING_JSON.read_text(encoding="utf-8"))
    return {name: LABEL_NAMES.index(emotion) for emotion, names in saved["mapping"].items() for name in names}


def _check_hash(path: Path) -> None:
    expected = json.loads(MAPPING_JSON.read_text(encoding="utf-8"))["files"].get(path.name)
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    if expected is not None and found != expected:
        warnings.warn(
            f"{path}: content differs from the GoEmotions release this project was measured on (sha256 expected "
            f"{expected}, found {found}); its scores are not comparable with the committed report's",
            stacklevel=3,
        )


def read_emotion_names(path: Path) -> list[str]:
    if not path.is_file():
        raise GoEmotionsDataError(f"{path}: no such file; the folder needs emotions.txt beside train.tsv and dev.tsv")
    _check_hash(path)
    names = [line.strip() for line in read_utf8(path).split("\n") if line.strip()]
    if len(names) != 28 or names[-1] != "neutral":
        raise GoEmotionsDataError(f"{path}: expected 28 emotion names ending with neutral, got {len(names)}")
    return names


def read_tsv(path: Path, names: Sequence[str]) -> list[tuple[str, list[str], str]]:
    """(text, emotion names, comment id) per line, refusing a malformed line, an unknown id, an empty text or a
    repeated comment id with the file and line."""
    if not path.is_file():
        raise GoEmotionsDataError(f"{path}: no such file")
    _check_hash(path)
    rows, seen = [], {}
    for number, line in enumerate(read_utf8(path).split("\n"), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise GoEmotionsDataError(
                f"{path}:{number}: {len(fields)} tab-separated fields; expected text, ids, comment id"
            )
        text, ids, comment = fields
        if not text.strip():
            raise GoEmotionsDataError(f"{path}:{number}: empty text")
        try:
            emotions = [names[int(raw)] for raw in ids.split(",")]
        except (ValueError, IndexError):
            raise GoEmotionsDataError(
                f"{path}:{number}: unknown emotion id in {ids!r}; ids are 0-{len(names) - 1}"
            ) from None
        if not comment.strip():
            raise GoEmotionsDataError(f"{path}:{number}: empty comment id")
        if comment in seen:
            raise GoEmotionsDataError(f"{path}:{number}: comment id {comment!r} repeats line {seen[comment]}")
        seen[comment] = number
        rows.append((text, emotions, comment))
    return rows


def map_rows(rows: Sequence[tuple[str, list[str], str]]) -> Dataset:
    """The comments whose labels all map to one and the same emotion, with that emotion's label id."""
    mapping = _mapping()
    kept: dict[str, list] = {"text": [], "label": [], "id": []}
    for text, emotions, comment in rows:
        targets = {mapping.get(name) for name in emotions}
        if len(targets) == 1 and None not in targets:
            kept["text"].append(text)
            kept["label"].append(targets.pop())
            kept["id"].append(comment)
    return Dataset.from_dict(kept, features=FEATURES)


def _folder(data_dir: str | os.PathLike[str] | None) -> Path | None:
    chosen = data_dir if data_dir is not None else os.environ.get(GOEMOTIONS_ENV)
    return Path(chosen) if chosen else None


def _load_hub() -> dict[str, Dataset]:
    if not hub_reachable():
        raise GoEmotionsDataError(
            f"no GoEmotions folder and the Hugging Face hub is not reachable. Set ${GOEMOTIONS_ENV} (or pass "
            "goemotions_dir) to a folder holding GoEmotions' train.tsv, dev.tsv and emotions.txt."
        )
    from datasets import load_dataset

    loaded = load_dataset(*HUB_DATASET)
    names = loaded["train"].features["labels"].feature.names
    return {
        split: map_rows([(row["text"], [names[i] for i in row["labels"]], row["id"]) for row in loaded[source]])
        for split, source in (("train", "train"), ("dev", "validation"))
    }


def load_goemotions(data_dir: str | os.PathLike[str] | None = None) -> dict[str, Dataset]:
    """{"train", "dev"}: the mapped comments of each split, texts as written, labels the project's ids."""
    folder = _folder(data_dir)
    if folder is None:
        return _load_hub()
    if not folder.is_dir():
        raise GoEmotionsDataError(
            f"{folder}: no such folder (from {'the argument' if data_dir else '$' + GOEMOTIONS_ENV})"
        )
    names = read_emotion_names(folder / "emotions.txt")
    return {split: map_rows(read_tsv(folder / file, names)) for split, file in FILES.items()}


def read_split(path: Path = SPLIT_CSV) -> dict[str, str]:
    """comment id -> half, from the committed file; a repeated id or an unknown half is refused with the line."""
    if not path.is_file():
        raise GoEmotionsDataError(f"{path}: no such file; `python -m helpers.data.goemotions --write-split` writes it")
    halves: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["id", "half"]:
            raise GoEmotionsDataError(f"{path}:1: the header must be id,half, got {reader.fieldnames}")
        for number, row in enumerate(reader, start=2):
            if row["half"] not in (*HALVES, DROPPED):
                raise GoEmotionsDataError(
                    f"{path}:{number}: half {row['half']!r}; expected one of {[*HALVES, DROPPED]}"
                )
            if row["id"] in halves:
                raise GoEmotionsDataError(f"{path}:{number}: comment id {row['id']!r} is listed twice")
            halves[row["id"]] = row["half"]
    return halves


def ood_halves(data_dir: str | os.PathLike[str] | None = None, path: Path = SPLIT_CSV) -> dict[str, Dataset]:
    """{"ood_dev", "ood_test"}: the mapped development comments of each committed half. An id of the file that
    the data lacks, or a mapped comment the file leaves out, is refused: the halves must be the ones measured."""
    dev = load_goemotions(data_dir)["dev"]
    halves = read_split(path)
    ids = set(dev["id"])
    unknown = sorted(set(halves) - ids)
    left_out = sorted(ids - set(halves))
    if unknown or left_out:
        raise GoEmotionsDataError(
            f"{path}: {len(unknown)} id(s) not among the mapped development comments (first {unknown[:3]}) and "
            f"{len(left_out)} mapped comment(s) in no half (first {left_out[:3]}): not the data the halves were made of"
        )
    return {half: dev.filter(lambda row, half=half: halves[row["id"]] == half) for half in HALVES}


def write_split(data_dir: str | os.PathLike[str] | None = None, path: Path = SPLIT_CSV) -> Path:
    """Halve the mapped development comments, stratified by emotion, and write their ids (never their texts).
    A comment whose text, written the tweets' way, is also a mapped training comment's or another development
    comment's is listed as dropped."""
    data = load_goemotions(data_dir)
    dev = data["dev"]
    trained = {normalise_like_training(text) for text in data["train"]["text"]}
    keys = [normalise_like_training(text) for text in dev["text"]]
    repeated = {key for key in keys if keys.count(key) > 1}
    dropped = [comment for comment, key in zip(dev["id"], keys) if key in trained or key in repeated]
    kept = [i for i, comment in enumerate(dev["id"]) if comment not in set(dropped)]
    first, second = train_test_split(
        [dev["id"][i] for i in kept], test_size=0.5, stratify=[dev["label"][i] for i in kept], random_state=SPLIT_SEED
    )
    rows = [
        (comment, half)
        for ids, half in ((first, HALVES[0]), (second, HALVES[1]), (dropped, DROPPED))
        for comment in sorted(ids)
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "half"])
        writer.writerows(rows)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.data.goemotions", description="GoEmotions, mapped")
    parser.add_argument("--data-dir", help=f"GoEmotions folder (default ${GOEMOTIONS_ENV})")
    parser.add_argument("--write-split", action="store_true", help=f"write {SPLIT_CSV.name} (ids of each half)")
    args = parser.parse_args(argv)
    data = load_goemotions(args.data_dir)
    for split, rows in data.items():
        counts = {name: rows["label"].count(index) for index, name in enumerate(LABEL_NAMES)}
        print(f"{split}: {len(rows):,} mapped comments {counts}")
    if args.write_split:
        print(f"wrote {write_split(args.data_dir)}")


if __name__ == "__main__":
    main()
