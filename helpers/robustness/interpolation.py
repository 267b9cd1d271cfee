"""WiSE-FT: a model whose weights lie on the line from a starting point to its fine-tuned weights.

Fine-tuning moves the encoder away from features that served text outside the training domain; mixing the
fine-tuned weights back toward the start keeps some of both (Wortsman et al., CVPR 2022). The start must have a
head that fits the fine-tuned encoder too, which is what LP-FT's head-only stage gives: both endpoints share
their architecture, tokenizer and label order, and every weight is mixed with the same `weight`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from helpers.models.folder import load_model_folder

INTERPOLATION_RECORD = "interpolation.json"
"""Beside the mixed weights: the two endpoints and the weight, so the model says what it is."""


def interpolate_folders(start: Path, fine_tuned: Path, weight: float, output: Path) -> Path:
    """Save `(1 - weight) * start + weight * fine_tuned` (every floating-point weight) with the fine-tuned
    model's tokenizer into `output`; `weight` 1 is the fine-tuned model, 0 the start."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight {weight}: a mixing weight lies between 0 (the start) and 1 (the fine-tuned model)")
    start_model, _ = load_model_folder(start)
    model, tokenizer = load_model_folder(fine_tuned)
    start_state = start_model.state_dict()
    state = model.state_dict()
    shapes = {name: tuple(tensor.shape) for name, tensor in state.items()}
    if {name: tuple(tensor.shape) for name, tensor in start_state.items()} != shapes:
        different = sorted(n for n in set(start_state) | set(state) if n not in shapes or n not in start_state
                           or tuple(start_state[n].shape) != shapes[n])[:5]  # fmt: skip
        raise ValueError(f"{start} and {fine_tuned} are not two points of one model: weights {different} differ")
    with torch.no_grad():
        for name, tensor in state.items():
            if tensor.is_floating_point():
                tensor.copy_(torch.lerp(start_state[name].to(tensor.dtype), tensor, weight))
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    record = {"start": str(start), "fine_tuned": str(fine_tuned), "weight": weight}
    (output / INTERPOLATION_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return output
