"""Validation scores in float32, whatever precision a run trains in.

With `bf16=True` (or fp16) accelerate wraps the model's `forward` in autocast for good, so the Trainer would
score validation in the training precision as well. Those scores choose the best epoch and fill the tables of
notebooks 03, 04 and 07, while notebook 05 re-scores the saved models in float32: the same model would then
carry two validation scores that differ in the fourth decimal. Scoring every validation pass in float32 gives a
model one validation score everywhere, and float32 is the precision every back end but int8 serves in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from transformers import Trainer

EVALUATION_PRECISION = "float32"
"""The precision of every validation score a table or a choice uses."""


@contextlib.contextmanager
def without_autocast(model: nn.Module) -> Iterator[None]:
    """Run `model` without the autocast wrapper accelerate put around its `forward` (`_original_forward` is the
    forward it saved before wrapping); a model without one is left as it is."""
    original = model.__dict__.get("_original_forward")
    if original is None:
        yield
        return
    wrapped = model.__dict__.get("forward")
    model.forward = original
    try:
        yield
    finally:
        if wrapped is None:
            del model.forward
        else:
            model.forward = wrapped


class Float32EvaluationTrainer(Trainer):
    """A `Trainer` whose evaluation and prediction passes run in float32 while training keeps its precision."""

    def prediction_step(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor | Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        with without_autocast(self.accelerator.unwrap_model(model)):
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
