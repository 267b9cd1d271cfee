"""A saved model folder, checked before it is loaded: weights, tokenizer, adapter, and that they fit together."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

from helpers.models.methods import is_adapter_folder, load_adapter_model

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")

ADAPTER_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


class ModelFolderError(FileNotFoundError):
    """A model folder is missing or lacks what prediction needs."""


class TokenizerMismatchError(ValueError):
    """A model folder's tokenizer would feed its weights ids they were not trained on."""


def check_model_folder(folder: str | Path) -> Path:
    """`folder` if it holds what prediction needs, weights readable to their end; else a ModelFolderError."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder; train one (notebook 03 or 04) or fix the path")
    missing = []
    adapter = is_adapter_folder(folder)
    if not adapter and not (folder / "config.json").is_file():
        missing.append("config.json")
    weight_files = ADAPTER_WEIGHT_FILES if adapter else WEIGHT_FILES
    if not any((folder / name).is_file() for name in weight_files):
        missing.append(" or ".join(weight_files[:2]))
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        missing.append(" or ".join(TOKENIZER_FILES))
    if missing:
        raise ModelFolderError(f"{folder}: incomplete model folder, missing {', '.join(missing)}")
    weights = folder / ("adapter_model.safetensors" if adapter else "model.safetensors")
    if weights.is_file():
        try:  # reads only the header, which the library checks against the file's size
            with safe_open(weights, framework="pt"):
                pass
        except SafetensorError as error:
            raise ModelFolderError(
                f"{folder}: incomplete model folder, {weights.name} is empty, truncated or damaged ({error}); "
                "copy or save the model again"
            ) from None
    return folder


def check_tokenizer_fits(config: Any, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """Refuse a tokenizer whose ids the model's weights were not trained on: more tokens than embedding rows,
    another padding id, or a tokenizer made for another model type."""

    tokenizer_name = type(tokenizer).__name__
    problems = []
    if len(tokenizer) > config.vocab_size:
        problems.append(f"{len(tokenizer)} tokens against {config.vocab_size} embedding rows")
    pad = getattr(config, "pad_token_id", None)
    if pad is not None and tokenizer.pad_token_id is not None and pad != tokenizer.pad_token_id:
        problems.append(f"padding id {tokenizer.pad_token_id} against {pad}")
    expected = TOKENIZER_MAPPING_NAMES.get(config.model_type)
    generic = {"PreTrainedTokenizerFast", "TokenizersBackend", "PythonBackend"}
    lineage = {
        kind.__name__.removesuffix("Fast") for kind in type(tokenizer).__mro__
    }  # DistilBertTokenizer is a Bert one
    if expected and tokenizer_name not in generic and expected not in lineage:
        problems.append(f"a {tokenizer_name} where model type {config.model_type!r} takes a {expected}")
    if problems:
        raise TokenizerMismatchError(
            f"{folder}: the tokenizer ({tokenizer_name}, {len(tokenizer)} tokens) does not fit the model "
            f"({config.model_type}, vocabulary {config.vocab_size}): {'; '.join(problems)}"
        )


def load_model_folder(
    folder: str | Path, base: str | Path | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and the tokenizer saved in `folder` (never another's), checked to fit each other.

    A LoRA adapter folder loads onto its base model (`base`, else the one it names), merged into plain weights:
    what follows (back ends, ONNX export) sees an ordinary model."""

    folder = check_model_folder(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if is_adapter_folder(folder):
        model = load_adapter_model(folder, base)
        check_tokenizer_fits(model.config, tokenizer, folder)
        return model, tokenizer
    if base is not None:
        raise ValueError(f"{folder}: a full model folder, not an adapter; it takes no base model (got {base})")
    config = AutoConfig.from_pretrained(folder)
    check_tokenizer_fits(config, tokenizer, folder)
    return AutoModelForSequenceClassification.from_pretrained(folder), tokenizer


def weights_sha256(folder: str | Path) -> str:
    """A sha256 of a model folder's weight files (`*.safetensors`, in name order): which weights were measured,
    so a speed figure can be matched to the model a report describes."""
    digest = hashlib.sha256()
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.safetensors weights to fingerprint")
    for path in files:
        digest.update(path.name.encode("utf-8"))
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
