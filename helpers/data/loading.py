"""Load the emotion splits from a local folder or the hub, refusing anything malformed.

Local files are parsed here rather than through `datasets.load_dataset("json", ...)` because a
bad row must be reported with its file and line, and nothing may be silently dropped or coerced.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.parquet as pq
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_dataset

from helpers import LABEL_NAMES

DATA_ENV = "EMOTION_DATA_DIR"
HUB_DATASET = ("dair-ai/emotion", "split")
SPLITS = ("train", "validation", "test")
SPLIT_STEMS = {"train": ("train",), "validation": ("validation", "val", "valid", "dev"), "test": ("test",)}
SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".txt")
TXT_HEADERS = ("text;label", "text;label_name")
FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=list(LABEL_NAMES))})


class EmotionDataError(ValueError):
    """The data could not be loaded as it is; the message says where and what to do."""


def _label_id(raw: Any, where: str) -> int:
    """Map an id (int or digit string) or a label name to its id, or fail naming `where`."""
    if isinstance(raw, bool):
        raise EmotionDataError(f"{where}: label {raw!r} is a boolean, not an emotion id or name")
    if isinstance(raw, int):
        if 0 <= raw < len(LABEL_NAMES):
            return raw
    elif isinstance(raw, float) and raw.is_integer() and 0 <= raw < len(LABEL_NAMES):
        return int(raw)
    elif isinstance(raw, str):
        token = raw.strip()
        if token in LABEL_NAMES:
            return LABEL_NAMES.index(token)
        if token.isdigit() and int(token) < len(LABEL_NAMES):
            return int(token)
    raise EmotionDataError(
        f"{where}: unknown label {raw!r}; expected an id 0-{len(LABEL_NAMES) - 1} or one of {list(LABEL_NAMES)}"
    )


def _check_text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise EmotionDataError(f"{where}: text must be a string, got {type(raw).__name__} {raw!r}")
    if not raw.strip():
        raise EmotionDataError(f"{where}: text is empty; remove the row or fill in its text")
    return raw


def read_utf8(path: Path) -> str:
    """The text of `path`, refusing anything but UTF-8 with the line where decoding failed.

    A leading byte-order mark (Excel's "CSV UTF-8" writes one) is dropped, as encoding "utf-8-sig" does;
    it is stripped before decoding so that the error's offset counts from the start of the file.
    """
    body = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        number = body.count(b"\n", 0, error.start) + 1
        line_start = body.rfind(b"\n", 0, error.start) + 1
        line = body[line_start:].split(b"\n", 1)[0]
        try:
            hint = f"it looks like cp1252 (Windows) or latin-1, where the line reads {line.decode('cp1252')[:80]!r}"
        except UnicodeDecodeError:
            hint = "it is not cp1252 or latin-1 either"
        raise EmotionDataError(
            f"{path}:{number}: not UTF-8 (byte {body[error.start]:#04x} at column {error.start - line_start + 1}); "
            f"save the file as UTF-8 ({hint})"
        ) from None


def _lines(path: Path, text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; blank lines may end the file, as editors leave them."""
    blank = None
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if not line.strip():
            blank = blank or number
            continue
        if blank:
            raise EmotionDataError(f"{path}:{blank}: blank line; remove it (blank lines may only end the file)")
        yield number, line.rstrip("\n")


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header of a UTF-8 CSV file and (line where the row starts, row) for each of its rows.

    Rows are numbered by their first line, so quoted fields that span lines do not shift the numbers.
    Blank lines may end the file; a blank line between rows, or a row whose field count differs from
    the header's, is an error naming its line.
    """
    reader = csv.reader(io.StringIO(read_utf8(path), newline=""))
    header = next(reader, [])

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        blank = None
        while True:
            start = reader.line_num + 1  # line_num counts the lines read so far, so the next row starts here
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise EmotionDataError(f"{path}:{start}: malformed CSV ({error})") from None
            # an empty line; a white-space line too where the header has several columns (with one column, an
            # empty or white-space field is a row with an empty value, for the caller to refuse, not a blank line)
            if not fields or (len(header) > 1 and len(fields) == 1 and not fields[0].strip()):
                blank = blank or start
                continue
            if blank:
                raise EmotionDataError(f"{path}:{blank}: blank line; remove it (blank lines may only end the file)")
            if len(fields) != len(header):
                raise EmotionDataError(
                    f"{path}:{start}: expected {len(header)} fields as in the header, got {len(fields)}"
                )
            yield start, dict(zip(header, fields))

    return header, rows()


def _rows_jsonl(path: Path, text: str | None = None) -> Iterator[tuple[str, Any, Any]]:
    for number, line in _lines(path, read_utf8(path) if text is None else text):
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EmotionDataError(f"{where}: malformed JSON ({error.msg})") from None
        if not isinstance(record, dict) or "text" not in record or "label" not in record:
            raise EmotionDataError(f'{where}: expected an object with "text" and "label", got {line.strip()[:80]}')
        yield where, record["text"], record["label"]


def _rows_json(path: Path) -> Iterator[tuple[str, Any, Any]]:
    """A .json file may be JSON Lines or one array of objects."""
    text = read_utf8(path)
    if text.lstrip()[:1] != "[":
        yield from _rows_jsonl(path, text)
        return
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise EmotionDataError(f"{path}:{error.lineno}: malformed JSON ({error.msg})") from None
    for index, record in enumerate(records):
        where = f"{path}: item {index}"
        if not isinstance(record, dict) or "text" not in record or "label" not in record:
            raise EmotionDataError(f'{where}: expected an object with "text" and "label"')
        yield where, record["text"], record["label"]


def _rows_csv(path: Path) -> Iterator[tuple[str, Any, Any]]:
    header, rows = read_csv(path)
    if "text" not in header or "label" not in header:
        raise EmotionDataError(f"{path}:1: header must name the columns 'text' and 'label', got {header}")
    for line, record in rows:
        yield f"{path}:{line}", record["text"], record["label"]


def _rows_parquet(path: Path) -> Iterator[tuple[str, Any, Any]]:

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a broken file
        raise EmotionDataError(f"{path}: not a readable Parquet file ({error})") from None
    if "text" not in table.column_names or "label" not in table.column_names:
        raise EmotionDataError(f"{path}: needs columns 'text' and 'label', got {table.column_names}")
    for index, (text, label) in enumerate(zip(table["text"].to_pylist(), table["label"].to_pylist())):
        yield f"{path}: row {index}", text, label


def _rows_txt(path: Path) -> Iterator[tuple[str, Any, Any]]:
    """The Kaggle files: `text;label` per line, no quoting; a `text;label` header is allowed."""
    for number, line in _lines(path, read_utf8(path)):
        where = f"{path}:{number}"
        if number == 1 and line.strip() in TXT_HEADERS:
            continue
        if ";" not in line:
            raise EmotionDataError(f"{where}: expected 'text;label', found no ';' in {line[:80]!r}")
        text, label = line.rsplit(";", 1)
        yield where, text, label


READERS = {".jsonl": _rows_jsonl, ".json": _rows_json, ".csv": _rows_csv, ".parquet": _rows_parquet, ".txt": _rows_txt}


def find_split_file(folder: Path, split: str) -> Path:
    """The one file in `folder` that holds `split`, in any supported format."""
    candidates = [folder / f"{stem}{suffix}" for stem in SPLIT_STEMS[split] for suffix in SUFFIXES]
    found = [path for path in candidates if path.is_file()]
    if not found:
        names = ", ".join(path.name for path in candidates)
        raise EmotionDataError(f"{folder}: no file for the {split!r} split; expected one of: {names}")
    if len(found) > 1:
        raise EmotionDataError(
            f"{folder}: several files hold the {split!r} split ({', '.join(p.name for p in found)}); keep one"
        )
    return found[0]


def read_split(path: Path) -> Dataset:
    """Parse one split file into a `Dataset` with a `ClassLabel` label column."""
    texts: list[str] = []
    labels: list[int] = []
    for where, text, label in READERS[path.suffix](path):
        texts.append(_check_text(text, where))
        labels.append(_label_id(label, where))
    if not texts:
        raise EmotionDataError(f"{path}: the file holds no rows")
    return Dataset.from_dict({"text": texts, "label": labels}, features=FEATURES)


def load_local(folder: str | os.PathLike[str]) -> DatasetDict:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise EmotionDataError(f"{folder}: no such folder (from the data_dir argument or ${DATA_ENV})")
    return DatasetDict({split: read_split(find_split_file(folder, split)) for split in SPLITS})


def hub_reachable(timeout: float = 5.0) -> bool:
    """One short TCP connection instead of the hub client's long retry loop."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "") or os.environ.get("HF_DATASETS_OFFLINE", "0") not in (
        "0",
        "",
    ):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def load_hub() -> DatasetDict:
    if not hub_reachable():
        raise EmotionDataError(
            f"no local data and the Hugging Face hub is not reachable. Set ${DATA_ENV} (or pass data_dir) "
            "to a folder holding train/validation/test as .jsonl, .csv, .parquet or Kaggle .txt files."
        )

    loaded = load_dataset(*HUB_DATASET)
    return DatasetDict({split: loaded[split].cast(FEATURES) for split in SPLITS})


def load_emotion(data_dir: str | os.PathLike[str] | None = None) -> DatasetDict:
    """The train/validation/test splits of `dair-ai/emotion` with labels as a `ClassLabel`.

    Reads `data_dir`, else the folder in `$EMOTION_DATA_DIR`, else the hub dataset.
    """
    folder = data_dir or os.environ.get(DATA_ENV)
    return load_local(folder) if folder else load_hub()


def stratified_subset(dataset: Dataset, size: int | None, seed: int) -> Dataset:
    """At most `size` rows keeping the class proportions; the whole split when size is None."""
    if size is None or size >= len(dataset):
        return dataset
    return dataset.train_test_split(train_size=size, stratify_by_column="label", seed=seed)["train"]


def subset_for_profile(data: DatasetDict, train_size: int | None, eval_size: int | None, seed: int) -> DatasetDict:
    """The splits a profile trains and evaluates on (full data unless the profile asks for less)."""
    return DatasetDict(
        {
            "train": stratified_subset(data["train"], train_size, seed),
            "validation": stratified_subset(data["validation"], eval_size, seed),
            "test": stratified_subset(data["test"], eval_size, seed),
        }
    )
