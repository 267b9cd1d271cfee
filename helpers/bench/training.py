"""Training steps per second for each recipe and ablation, on the same texts and batches, arrangements alternated."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from transformers import (
    DataCollatorWithPadding,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.trainer_pt_utils import LengthGroupedSampler

from helpers.bench.settings import (
    ABLATIONS,
    BF16_RECIPES,
    MODEL_DESCRIPTIONS,
    PROJECT,
    SEED,
    BenchSettings,
    Recipe,
    TrainingPlan,
)
from helpers.hardware import best_device, cpu_has_native_bf16
from helpers.models.building import ID2LABEL, LABEL2ID, build_model
from helpers.profiles import resolve_profile


def training_model(name: str, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """A classifier to time; DistilBERT is built from its config, so no download is needed."""
    if name == "tiny-random-bert":
        return build_model(resolve_profile("smoke"), len(tokenizer))
    if name == "minilm":
        return build_model(resolve_profile("cpu"), len(tokenizer))
    if name == "distilbert":
        torch.manual_seed(0)
        config = DistilBertConfig(vocab_size=len(tokenizer), num_labels=6, id2label=ID2LABEL, label2id=LABEL2ID)
        return DistilBertForSequenceClassification(config)
    raise ValueError(f"unknown training model {name!r}; choose one of {sorted(MODEL_DESCRIPTIONS)}")


def epoch_batches(lengths: Sequence[int], batch_size: int, grouped: bool, seed: int) -> list[list[int]]:
    """One epoch of batches: length-grouped like the Trainer's `group_by_length`, or a random permutation."""
    if grouped:
        sampler = LengthGroupedSampler(batch_size, lengths=list(lengths), generator=torch.Generator().manual_seed(seed))
        order = list(sampler)
    else:
        order = np.random.default_rng(seed).permutation(len(lengths)).tolist()
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def padded_length(batch: Sequence[int], lengths: Sequence[int]) -> int:
    return max(lengths[i] for i in batch)


def representative_batches(
    batches: Sequence[list[int]], lengths: Sequence[int], count: int, seed: int
) -> list[list[int]]:
    """One batch from the middle of each of `count` equal slices of the epoch sorted by padded length.

    A stratified sample: its mean padded length is close to the whole epoch's, which a few random
    batches of a long-tailed length distribution are not. Shuffled, so every round gets a mix.
    """
    by_length = sorted(batches, key=lambda batch: padded_length(batch, lengths))
    picks = ((np.arange(count) + 0.5) * len(by_length) / count).astype(int)
    return [by_length[i] for i in np.random.default_rng(seed).permutation(picks)]


def epoch_padding(lengths: Sequence[int], max_length: int, batch_size: int, seed: int) -> dict[str, float]:
    """Mean tokens per text after padding, over one whole epoch, for the ways of batching."""
    return {
        "seed": float(max_length),
        "dynamic_padding_random_order": float(
            np.mean([padded_length(b, lengths) for b in epoch_batches(lengths, batch_size, False, seed)])
        ),
        "dynamic_padding_length_grouped": float(
            np.mean([padded_length(b, lengths) for b in epoch_batches(lengths, batch_size, True, seed)])
        ),
        "unpadded": float(np.mean(lengths)),
    }


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """`items` starting at position `shift`: each item goes first in turn, so none always runs first."""
    shift %= len(items)
    return list(items[shift:]) + list(items[:shift])


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """PyTorch's intra-op thread count set to `count` (None: unchanged) inside the block only."""
    before = torch.get_num_threads()
    torch.set_num_threads(count or before)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def recipe_settings(model: PreTrainedModel, recipe: Recipe) -> Iterator[None]:
    """Apply a recipe's attention and thread settings for its steps only."""
    attention = model.config._attn_implementation
    model.set_attn_implementation(recipe.attention)
    try:
        with torch_threads(recipe.threads):
            yield
    finally:
        model.set_attn_implementation(attention)


class TrainingRun:
    """One model and optimizer, stepped on batches that each recipe builds its own way."""

    def __init__(
        self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, features: list[dict], settings: BenchSettings
    ) -> None:
        self.device = torch.device(best_device())
        self.model = model.to(self.device).train()
        self.features = features
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01, fused=True)
        self.pad_longest = DataCollatorWithPadding(tokenizer)
        self.pad_fixed = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=tokenizer.model_max_length)

    def step(self, batch: list[int], pad_to_longest: bool, bf16: bool = False) -> int:
        """One optimizer step, collation included as in a DataLoader; returns the padded length. With `bf16` the
        forward pass and loss run under autocast and the backward pass outside it, as in the Trainer."""
        collate = self.pad_longest if pad_to_longest else self.pad_fixed
        inputs = collate([self.features[i] for i in batch]).to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = self.model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.synchronize()  # CUDA runs asynchronously: the step's time ends when its kernels do
        return inputs["input_ids"].shape[1]


def training_on_cpu() -> bool:
    return torch.device(best_device()).type == "cpu"


def bf16_recipes() -> tuple[Recipe, ...]:
    """The bf16 autocast recipes where the bench trains on a CPU with native bf16; none elsewhere."""
    return BF16_RECIPES if training_on_cpu() and cpu_has_native_bf16() else ()


def bench_training(
    plan: TrainingPlan, tokenizer: PreTrainedTokenizerBase, features: list[dict], settings: BenchSettings
) -> dict[str, Any]:
    """Samples per second of each recipe on one model, recipes interleaved in rounds after a warm-up."""
    recipes = (SEED, PROJECT, *((*ABLATIONS, *bf16_recipes()) if plan.ablations else ()))
    lengths = [len(feature["input_ids"]) for feature in features]
    steps = plan.rounds * settings.steps_per_round
    batches = {
        recipe.name: representative_batches(
            epoch_batches(lengths, settings.train_batch_size, recipe.grouped, settings.seed),
            lengths,
            steps,
            settings.seed,
        )
        for recipe in recipes
    }
    model = training_model(plan.model, tokenizer)
    run = TrainingRun(model, tokenizer, features, settings)
    seconds = dict.fromkeys(batches, 0.0)
    samples = dict.fromkeys(batches, 0)
    padded: dict[str, list[int]] = {name: [] for name in batches}
    for recipe in recipes:
        with recipe_settings(model, recipe):
            for batch in batches[recipe.name][: settings.warmup_steps]:
                run.step(batch, recipe.pad_to_longest, recipe.bf16)
    for round_index in range(plan.rounds):
        first = round_index * settings.steps_per_round
        for recipe in rotated(recipes, round_index):
            with recipe_settings(model, recipe):
                for batch in batches[recipe.name][first : first + settings.steps_per_round]:
                    started = time.perf_counter()
                    padded[recipe.name].append(run.step(batch, recipe.pad_to_longest, recipe.bf16))
                    seconds[recipe.name] += time.perf_counter() - started
                    samples[recipe.name] += len(batch)
    rates = {name: samples[name] / seconds[name] for name in batches}
    result = {
        "description": MODEL_DESCRIPTIONS[plan.model],
        "parameters": sum(p.numel() for p in model.parameters()),
        "seed_samples_per_second": rates[SEED.name],
        "project_samples_per_second": rates[PROJECT.name],
        "speedup_vs_seed": rates[PROJECT.name] / rates[SEED.name],
        "recipes": {
            recipe.name: {
                "description": recipe.description,
                "samples_per_second": rates[recipe.name],
                "speedup_vs_seed": rates[recipe.name] / rates[SEED.name],
                "steps": len(padded[recipe.name]),
                "mean_padded_tokens": float(np.mean(padded[recipe.name])),
            }
            for recipe in recipes
        },
    }
    del run, model
    gc.collect()
    return result
