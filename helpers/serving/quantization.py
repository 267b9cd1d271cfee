"""`python -m helpers.serving.quantization MODEL_FOLDER`: int8 weight scales per channel against per tensor.

Each int8 graph is scored against the float32 model on the validation split, as notebook 05 scores the served
back end: how many labels change, and how far accuracy moves. `onnx_export.PER_CHANNEL` is set from what this
prints for a model of the profile; the test split is not read.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from helpers import LABEL_NAMES
from helpers.data.loading import load_emotion, stratified_subset
from helpers.models.batching import batched_logits, sorted_batch_logits
from helpers.models.folder import load_model_folder
from helpers.probabilities import softmax
from helpers.serving.backends import backend_agreement, onnx_backend
from helpers.serving.onnx_export import build_onnx

SCALES = {"per channel": True, "per tensor": False}


def compare_scales(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int],
    max_length: int = 128,
) -> dict[str, dict[str, Any]]:
    """{scales: agreement with float32} for each way of scaling the int8 weights, on the same texts."""
    reference = softmax(batched_logits(model, tokenizer, texts, max_length=max_length))
    found = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, per_channel in SCALES.items():
            path = build_onnx(
                model, Path(scratch) / f"{name.replace(' ', '-')}.int8.onnx", True, per_channel=per_channel
            )
            logits = sorted_batch_logits(
                onnx_backend(path, one_text_per_call=True), len(LABEL_NAMES), tokenizer, texts, max_length=max_length
            )
            found[name] = backend_agreement(labels, reference, softmax(logits))
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.serving.quantization", description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="a saved model folder (runs/<profile>/finetune/model)")
    parser.add_argument("--data-dir", help="the emotion splits' folder (default: $EMOTION_DATA_DIR, else the hub)")
    parser.add_argument("--texts", type=int, help="a stratified subset of the validation split (default: all)")
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args(argv)
    validation = stratified_subset(load_emotion(args.data_dir)["validation"], args.texts, seed=42)
    model, tokenizer = load_model_folder(args.model)
    found = compare_scales(model, tokenizer, list(validation["text"]), list(validation["label"]), args.max_length)
    for name, agreement in found.items():
        print(
            f"{name}: {agreement['changed_labels']} of {agreement['texts']} validation labels changed, "
            f"accuracy {agreement['accuracy_change_points']:+.2f} points against float32"
        )
    record = args.model / "quantization.json"
    record.write_text(json.dumps({"split": "validation", "scales": found}, indent=2) + "\n", encoding="utf-8")
    print(f"written: {record}")


if __name__ == "__main__":
    main()
