"""The loader reads every supported format and refuses bad input with the file and line named."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers import LABEL_NAMES
from helpers.data.loading import EmotionDataError, load_emotion

ROWS = [("i feel so alone tonight", 0), ("what a wonderful day", 1), ("i am scared of the dark", 4)]


def write_split(folder: Path, name: str, fmt: str, rows=ROWS, label_as: str = "id") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    labelled = [(t, LABEL_NAMES[y] if label_as == "name" else y) for t, y in rows]
    path = folder / f"{name}.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in labelled), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps([{"text": t, "label": y} for t, y in labelled]), encoding="utf-8")
    elif fmt == "csv":
        pd.DataFrame(labelled, columns=["text", "label"]).to_csv(path, index=False)
    elif fmt == "parquet":
        pd.DataFrame(labelled, columns=["text", "label"]).to_parquet(path)
    elif fmt == "txt":
        path.write_text("".join(f"{t};{y}\n" for t, y in labelled), encoding="utf-8")
    return path


def write_folder(folder: Path, fmt: str, label_as: str = "id", validation_name: str = "validation") -> Path:
    for name in ("train", validation_name, "test"):
        write_split(folder, name, fmt, label_as=label_as)
    return folder


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet", "txt"])
@pytest.mark.parametrize("label_as", ["id", "name"])
def test_each_format_loads_with_ids_or_names(tmp_path: Path, fmt: str, label_as: str) -> None:
    data = load_emotion(write_folder(tmp_path, fmt, label_as))
    assert set(data) == {"train", "validation", "test"}
    assert data["train"].features["label"].names == list(LABEL_NAMES)
    assert list(data["test"]["text"]) == [t for t, _ in ROWS]
    assert list(data["test"]["label"]) == [y for _, y in ROWS]


def test_kaggle_layout_with_val_txt_and_header(tmp_path: Path) -> None:
    write_folder(tmp_path, "txt", label_as="name", validation_name="val")
    train = tmp_path / "train.txt"
    train.write_text("text;label\n" + train.read_text(encoding="utf-8"), encoding="utf-8")
    data = load_emotion(tmp_path)
    assert len(data["train"]) == len(ROWS) and len(data["validation"]) == len(ROWS)


def test_text_may_contain_semicolons_in_txt(tmp_path: Path) -> None:
    write_folder(tmp_path, "txt")
    (tmp_path / "test.txt").write_text("i feel odd; not sure why;surprise\n", encoding="utf-8")
    assert list(load_emotion(tmp_path)["test"]["text"]) == ["i feel odd; not sure why"]


def test_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_DATA_DIR", str(write_folder(tmp_path, "jsonl")))
    assert len(load_emotion()["train"]) == len(ROWS)


def test_real_data_loads_as_on_the_hub(real_data_dir: Path) -> None:
    data = load_emotion(real_data_dir)
    assert {split: len(rows) for split, rows in data.items()} == {"train": 16000, "validation": 2000, "test": 2000}
    assert data["train"].features["label"].names == ["sadness", "joy", "love", "anger", "fear", "surprise"]


def expect_error(folder: Path, *fragments: str) -> str:
    with pytest.raises(EmotionDataError) as caught:
        load_emotion(folder)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_split_file_is_named(tmp_path: Path) -> None:
    write_folder(tmp_path, "jsonl")
    (tmp_path / "validation.jsonl").unlink()
    expect_error(tmp_path, "'validation' split", "validation.jsonl", "val.txt")


def test_two_files_for_one_split_are_refused(tmp_path: Path) -> None:
    write_folder(tmp_path, "jsonl")
    write_split(tmp_path, "test", "csv")
    expect_error(tmp_path, "test.jsonl", "test.csv")


def test_missing_folder(tmp_path: Path) -> None:
    expect_error(tmp_path / "nowhere", "nowhere", "no such folder")


@pytest.mark.parametrize(
    ("fmt", "content", "fragments"),
    [
        (
            "jsonl",
            '{"text": "fine", "label": 1}\n{"text": "oops", "label": "happiness"}\n',
            ["test.jsonl:2", "happiness"],
        ),
        ("jsonl", '{"text": "fine", "label": 1}\n{"text": "oops", "label": 9}\n', ["test.jsonl:2", "unknown label 9"]),
        ("jsonl", '{"text": "fine", "label": 1}\n{"text": "", "label": 1}\n', ["test.jsonl:2", "empty"]),
        ("jsonl", '{"text": "  ", "label": 1}\n', ["test.jsonl:1", "empty"]),
        ("jsonl", '{"text": 42, "label": 1}\n', ["test.jsonl:1", "must be a string"]),
        ("jsonl", '{"text": null, "label": 1}\n', ["test.jsonl:1", "must be a string"]),
        ("jsonl", '{"text": "fine", "label": 1}\n{"text": "broken", "label": \n', ["test.jsonl:2", "malformed JSON"]),
        ("jsonl", '{"text": "fine", "label": 1}\n\n{"text": "fine", "label": 1}\n', ["test.jsonl:2", "blank line"]),
        ("jsonl", '{"text": "no label here"}\n', ["test.jsonl:1", '"label"']),
        ("jsonl", '{"text": "fine", "label": true}\n', ["test.jsonl:1", "boolean"]),
        ("jsonl", "", ["test.jsonl", "no rows"]),
        ("txt", "i feel fine;joy\ni feel nothing\n", ["test.txt:2", "no ';'"]),
        ("txt", "i feel fine;joy\ni feel meh;meh\n", ["test.txt:2", "'meh'"]),
        ("txt", "i feel fine;joy\n;joy\n", ["test.txt:2", "empty"]),
        ("csv", "text,label\nfine,1\n,1\n", ["test.csv:3", "empty"]),
        ("csv", "text,label\nfine,1\nbad,7\n", ["test.csv:3", "unknown label '7'"]),
        ("csv", "sentence,emotion\nfine,1\n", ["test.csv:1", "'text' and 'label'"]),
        ("csv", "text,label\nfine,1,extra\n", ["test.csv:2", "fields"]),
        ("csv", 'text,label\n"two\nlines",1\n"three\n\nlines",2\nbad,9\n', ["test.csv:7", "unknown label '9'"]),
        ("csv", 'text,label\n"two\nlines",1\nshort\n', ["test.csv:4", "expected 2 fields"]),
        ("csv", "text,label\nfine,1\n\nfine,2\n", ["test.csv:3", "blank line"]),
        ("txt", "i feel fine;joy\n\ni feel fine;joy\n", ["test.txt:2", "blank line"]),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, fmt: str, content: str, fragments: list[str]) -> None:
    write_folder(tmp_path, fmt)
    (tmp_path / f"test.{fmt}").write_text(content, encoding="utf-8")
    expect_error(tmp_path, *fragments)


BOM = "\ufeff"
TRAILING_BLANKS = "\n\n  \n"


def one_row_per_line(folder: Path, fmt: str) -> tuple[Path, str]:
    """A folder of `fmt` files and the test file's content, one row per line (a JSON array pretty-printed)."""
    write_folder(folder, fmt)
    path = folder / f"test.{fmt}"
    if fmt == "json":
        return path, json.dumps([{"text": t, "label": y} for t, y in ROWS], indent=1) + "\n"
    return path, path.read_text(encoding="utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "txt"])
@pytest.mark.parametrize(
    ("bom", "newline", "tail"),
    [(BOM, "\n", ""), ("", "\r\n", ""), ("", "\n", TRAILING_BLANKS), (BOM, "\r\n", TRAILING_BLANKS)],
    ids=["bom", "crlf", "trailing-blank-lines", "all-three"],
)
def test_files_as_editors_and_excel_write_load(tmp_path: Path, fmt: str, bom: str, newline: str, tail: str) -> None:
    path, content = one_row_per_line(tmp_path, fmt)
    path.write_bytes((bom + content + tail).replace("\n", newline).encode("utf-8"))
    test = load_emotion(tmp_path)["test"]
    assert list(test["text"]) == [t for t, _ in ROWS] and list(test["label"]) == [y for _, y in ROWS]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "txt"])
def test_non_utf8_file_names_file_line_and_encoding(tmp_path: Path, fmt: str) -> None:
    path, content = one_row_per_line(tmp_path, fmt)
    lines = content.splitlines(keepends=True)
    broken = next(number for number, line in enumerate(lines, start=1) if "dark" in line)
    lines[broken - 1] = lines[broken - 1].replace("dark", "caf\u00e9 \u201cdark\u201d")
    path.write_bytes("".join(lines).encode("cp1252"))
    message = expect_error(tmp_path, f"test.{fmt}:{broken}:", "not UTF-8", "save the file as UTF-8", "cp1252")
    assert "caf\u00e9" in message


def test_bad_parquet_row_is_named(tmp_path: Path) -> None:
    write_folder(tmp_path, "parquet")
    pd.DataFrame({"text": ["fine", "odd"], "label": [1, 12]}).to_parquet(tmp_path / "test.parquet")
    expect_error(tmp_path, "test.parquet: row 1", "12")


def test_no_data_and_no_network_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    started = time.monotonic()
    with pytest.raises(EmotionDataError, match="EMOTION_DATA_DIR"):
        load_emotion()
    assert time.monotonic() - started < 10


def test_offline_mode_fails_without_trying_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOTION_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmotionDataError, match="EMOTION_DATA_DIR"):
        load_emotion()
