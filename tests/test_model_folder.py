"""A model folder whose weights file is empty or cut short is refused as incomplete, before any loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from helpers.models.folder import ModelFolderError, check_model_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """What check_model_folder looks for: a config, a tokenizer vocabulary and safetensors weights."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}\n", encoding="utf-8")
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    save_file({"encoder.weight": torch.ones(64, 64), "classifier.bias": torch.zeros(6)}, folder / "model.safetensors")
    return folder


def test_complete_folder_passes(folder: Path) -> None:
    assert check_model_folder(folder) == folder


@pytest.mark.parametrize(
    "keep",
    [lambda size: 0, lambda size: 5, lambda size: size // 2, lambda size: size - 1],
    ids=["empty", "inside-the-header-length", "half", "one-byte-short"],
)
def test_empty_or_truncated_weights_are_an_incomplete_folder(folder: Path, keep) -> None:
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: keep(len(data))])
    with pytest.raises(ModelFolderError, match="incomplete model folder, model.safetensors is empty, truncated"):
        check_model_folder(folder)


def test_damaged_header_is_an_incomplete_folder(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ModelFolderError, match="incomplete model folder"):
        check_model_folder(folder)
