"""Fingerprints of what defines a run, so that runs of different configurations never mix.

A training run or a search is identified by a hash of everything that shapes its result: the model and
tokenizer, the content of the data it sees, subset sizes, hyperparameters or search space, objective and
seed. Resuming, reusing and loading are allowed only between equal fingerprints; when they differ, `differences`
says which parts did, so the message can name them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
from datasets import Dataset, DatasetDict

from helpers.paths import PROJECT_ROOT


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


def tokenizer_identity(tokenizer: Any) -> dict[str, Any]:
    """Class, vocabulary size and a hash of the full vocabulary: what decides the token ids a model sees."""
    return {
        "class": type(tokenizer).__name__,
        "vocab_size": len(tokenizer),
        "vocab": digest(sorted(tokenizer.get_vocab().items())),
    }


def fingerprint(parts: dict[str, Any]) -> str:
    return digest(parts)


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


class _NoDocstrings(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        is_text = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        return None if is_text else node


def code_digests(modules: Iterable[str]) -> dict[str, str]:
    """Per module, a hash of its syntax tree without docstrings: comments, docstrings and layout may change
    without changing a fingerprint; any change to what the code does changes it."""
    digests = {}
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"no source for module {name!r}")
        tree = _NoDocstrings().visit(ast.parse(Path(spec.origin).read_text(encoding="utf-8")))
        digests[name] = digest(ast.dump(tree))
    return digests


def code_version(root: Path = PROJECT_ROOT) -> str | None:
    """The checkout's commit, with `-dirty` when tracked files differ from it; None outside a git checkout.

    Saved beside measurements that no fingerprint covers (`make bench`), so a report can say what code made them.
    """
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
