"""Fingerprints of data content, shared by every stage that saves something trained on it (baselines, fine-tunes,
searches), so that a saved model can be refused when it was fitted on other texts than the ones loaded now."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from datasets import Dataset, DatasetDict


def digest(value: Any, length: int = 16) -> str:
    """A short sha256 of any JSON-able value (keys sorted, so dict order does not matter)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def dataset_hash(dataset: Dataset, columns: Iterable[str] | None = None) -> str:
    """A hash of the rows' content (in order) of `columns`, default all: equal only for equal data."""

    chosen = list(columns) if columns is not None else dataset.column_names
    table = dataset.with_format("arrow").select_columns(chosen)[:].replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def data_hashes(data: DatasetDict, splits: Iterable[str] = ("train", "validation")) -> dict[str, str]:
    """Per split, a hash of the texts and labels: the same for raw and tokenized splits of the same data."""
    return {split: dataset_hash(data[split], ("text", "label")) for split in splits}


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two fingerprint records, for an error message."""
    changed = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed.extend(differences(a, b, f"{prefix}{key}."))
        elif a != b:
            changed.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return changed
