"""The int8 weight-scale comparison builds the two graphs it names and scores both against float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from helpers import LABEL_NAMES
from helpers.serving.onnx_export import build_onnx
from helpers.serving.quantization import compare_scales

TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "happy", "sad", "today", "very", "not"]


def tiny() -> tuple[BertForSequenceClassification, BertTokenizer]:
    torch.manual_seed(0)
    tokenizer = BertTokenizer(vocab={token: index for index, token in enumerate(TOKENS)})
    config = BertConfig(
        vocab_size=len(TOKENS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        num_labels=len(LABEL_NAMES), max_position_embeddings=64,
    )  # fmt: skip
    return BertForSequenceClassification(config).eval(), tokenizer


def largest_scale(path: Path) -> int:
    """The most values any weight-scale initializer of the graph holds: 1 per tensor, one per channel else."""
    graph = onnx.load(path).graph
    return max(numpy_helper.to_array(init).size for init in graph.initializer if init.name.endswith("_scale"))


def test_per_channel_and_per_tensor_graphs_differ_as_named(tmp_path: Path) -> None:
    model, _ = tiny()
    assert largest_scale(build_onnx(model, tmp_path / "tensor.onnx", True, per_channel=False)) == 1
    assert largest_scale(build_onnx(model, tmp_path / "channel.onnx", True, per_channel=True)) > 1


def test_both_scales_are_scored_against_float32_on_the_texts_given() -> None:
    model, tokenizer = tiny()
    texts = ["happy today", "sad", "very sad today", "not happy", "today", "very very happy"] * 3
    labels = np.arange(len(texts)) % len(LABEL_NAMES)
    found = compare_scales(model, tokenizer, texts, labels)
    assert list(found) == ["per channel", "per tensor"]
    for agreement in found.values():
        assert agreement["texts"] == len(texts)
        assert 0 <= agreement["changed_labels"] <= len(texts)
        assert 0 < agreement["max_probability_change"] < 0.5  # quantised, so not identical; still the same model
