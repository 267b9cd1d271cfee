"""Side-by-side CPU benchmarks: the seed training recipe against this project's, and the inference back ends.

    python -m helpers.bench --profile {smoke,cpu,gpu} --output PATH [--model FOLDER] [--data-dir FOLDER]

A shared machine drifts in speed, so every number compared with another is measured in one process, on
the same data, after a warm-up, and interleaved: training recipes take turns in rounds of a few optimizer
steps, inference back ends take turns on every batch and every single text. Only such ratios are meant
to be compared; absolute speeds depend on what else the machine was doing (see `machine.load_average_*`).

Training runs a plain PyTorch loop (fused AdamW as the Trainer uses it, clipping at 1.0) on one shared
model per architecture, over batches of 16 collated by `DataCollatorWithPadding` from the same
pre-tokenised training texts:

- `seed`: every text padded to the profile's `max_length` (128), batches in random order, transformers'
  default SDPA attention;
- `project`: each batch padded to its longest text, similar lengths grouped by transformers'
  `LengthGroupedSampler` (what `helpers/training.py` gets from `group_by_length`), eager attention (the
  cpu profile's `attn_implementation`: on texts of ~23 tokens it is at least as fast as SDPA on a CPU);
- ablations (first model only), one setting changed at a time: SDPA instead of eager attention, and
  seed and project with one PyTorch thread instead of the default;
- on a CPU with native bf16 (AVX-512 BF16 or AMX; first model only): the project recipe under
  `torch.autocast("cpu", dtype=torch.bfloat16)` around forward and loss, as the Trainer's `bf16=True` does,
  with all threads and with one.

The timed batches of a recipe are a stratified sample of one epoch's padded lengths, so their mean padded
length is close to the epoch's (`epoch_mean_padded_tokens`). Inference runs every back end of
`helpers.inference.BACKENDS` on the trained model (`--model`, else runs/<profile>/tuned/model, else
runs/<profile>/finetune/model; with none, the untrained model, whose accuracy is "untrained"), plus two
ablations of the default back end (each with one of its speed-ups undone): batched throughput over
the validation split (batches of 64 sorted by length, `inference_rounds` passes, back ends taking turns batch
by batch), median single-text latency, accuracy, its change against float32 and the share of labels it
changes. The test split is never read here: it is scored once per model, in notebook 05. Times run from
token ids to logits: tokenisation is the same for every back end and left out.

Experiments per hour (`parallel`): an experiment is one real short `train_classifier` run (the profile's
model and resolved precision, a small stratified training subset, one epoch, scored on a validation subset).
After one untimed experiment in this process, the same experiments run one at a time on every core, and in
`helpers.workers.default_workers()` worker processes with one thread each, both through
`helpers.workers.run_jobs` (pool start-up included), the two arrangements alternating over rounds (a, b, b, a)
so that drift hits both. Skipped where only one worker would run (one GPU).

bf16 against float32 (`precision`, CPUs with native bf16 only): speed from the interleaved bf16 recipes above,
and accuracy from the search trials' configuration (`hpo.trial_data_for`: the profile's `hpo_train_size`
rows, all of validation) trained with a few seeds in float32 and under bf16 autocast, the two precisions
running at the same time as two one-thread workers, so their train seconds compare side by side too. When
float32 is slower it finishes alone, which if anything favours it. bf16 is adopted (`adopt_bf16`) only if it
wins on both: its mean train seconds are lower AND its mean validation accuracy is not lower than float32's.

JSON written to `--output`:

    profile, created, commit (git describe of the checkout),
    machine {cpu_count, torch_threads, load_average_start, load_average_end, versions...},
    settings {...}, epoch_mean_padded_tokens {seed, dynamic_padding_random_order,
    dynamic_padding_length_grouped, unpadded},
    training: {<model>: {description, parameters, seed_samples_per_second, project_samples_per_second,
               speedup_vs_seed, recipes: {<recipe>: {description, samples_per_second, speedup_vs_seed,
               steps, mean_padded_tokens}}}},
    inference: {model, trained, split, texts, threads, fp32_accuracy, max_accuracy_change_points,
                max_changed_label_share, batch_effect_tolerance, fastest_within_bounds, recommended_backend,
                variants: {<backend>: {description, texts_per_second, latency_ms_median, speedup_vs_fp32,
                           latency_speedup_vs_fp32, accuracy, accuracy_drop_points, agreement_with_fp32,
                           changed_label_share, max_probability_change_vs_fp32, batch_effect_max_probability,
                           build_seconds}},
                ablations: {<name>: the same fields}},
    parallel: {precision, workers, experiments_per_round, rounds, order, experiment {train_texts,
               validation_texts, learning_rate, batch_size, epochs},
               arrangements: {one_at_a_time | parallel: {workers, threads_per_experiment, experiments,
                              wall_seconds, round_seconds, experiments_per_hour, mean_train_seconds,
                              mean_validation_accuracy}},
               speedup}   (or {skipped: reason}),
    precision: {supported, cpu_native_bf16, profile_precision, step_speedup {model, all_threads, one_thread},
                runs {train_texts, validation_texts, learning_rate, batch_size, epochs, seeds, workers,
                      threads_per_run},
                float32 | bf16: {runs: [{seed, accuracy, f1_weighted, train_seconds}], mean_accuracy,
                                 mean_f1_weighted, mean_train_seconds},
                speedup, accuracy_change_points, adopt_bf16}   (or {supported: false, reason})

Speeds are per second of wall time; accuracies are fractions on the validation split; drops are in
percentage points (positive: worse than float32). `batch_effect_max_probability` is the largest change of a
probability between a text scored alone and in its batch. `fastest_within_bounds` is the fastest back end
that changes at most `max_changed_label_share` of float32's labels and moves accuracy by at most
`max_accuracy_change_points` either way (`helpers.inference.within_bounds`, the bounds notebook 05 applies
when it chooses a model's default back end); `recommended_backend` also keeps the batch effect within
tolerance. Without a trained model `accuracy` is "untrained", `accuracy_drop_points` is null and no back
end is recommended. `machine` names the CPU and its vector extensions: int8 speed depends on them.
`experiments_per_hour` is experiments / wall_seconds * 3600 over all rounds of an arrangement; `speedup` there
is parallel over one at a time. In `precision`, `speedup` is float32's mean train seconds over bf16's and
`accuracy_change_points` is bf16's mean validation accuracy minus float32's, in points.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict
from transformers import DataCollatorWithPadding, PreTrainedModel, PreTrainedTokenizerBase
from transformers.trainer_pt_utils import LengthGroupedSampler

from helpers.data import load_emotion, stratified_subset, subset_for_profile
from helpers.device import best_device, resolve_mixed_precision
from helpers.hpo import trial_data_for
from helpers.identity import code_version
from helpers.inference import (
    BACKENDS,
    MAX_ACCURACY_CHANGE_POINTS,
    MAX_CHANGED_LABELS,
    LogitsFunction,
    backend_agreement,
    build_backend,
    build_onnx,
    length_sorted_batches,
    load_model_folder,
    onnx_backend,
    softmax,
    within_bounds,
)
from helpers.machine import cpu_has_native_bf16, describe
from helpers.machine import machine_info as cpu_and_gpu
from helpers.modeling import ID2LABEL, LABEL2ID, build_model, load_tokenizer
from helpers.paths import runs_root
from helpers.profiles import Profile, resolve_profile
from helpers.training import TrainingResult, tokenize_splits, train_classifier
from helpers.workers import default_workers, run_jobs, usable_cores

PAUSE_SECONDS = 0.02
"""Untimed pause before each timed inference call (see `timed_calls`)."""
BATCH_EFFECT_TOLERANCE = 1e-4
"""Largest change of a probability between a text scored alone and in a batch (as tests/test_inference.py asks)."""


@dataclass(frozen=True)
class Recipe:
    """How training batches are built and run; everything else (model, optimizer, data) is shared."""

    name: str
    description: str
    pad_to_longest: bool
    grouped: bool
    attention: str  # "sdpa" (transformers' default) or "eager"
    threads: int | None = None  # None: PyTorch's setting when the bench started
    bf16: bool = False  # forward and loss under bf16 autocast, as the Trainer's bf16=True runs them


SEED = Recipe(
    "seed", "every text padded to max_length, random order, SDPA attention (seed report)", False, False, "sdpa"
)
PROJECT = Recipe(
    "project", "padded to the batch's longest text, length-grouped batches, eager attention", True, True, "eager"
)
"""The cpu profile's recipe: helpers/training.py's group_by_length and the profile's attn_implementation."""
ABLATIONS = (
    Recipe("project_sdpa_attention", "project recipe with SDPA instead of eager attention", True, True, "sdpa"),
    Recipe("seed_one_thread", "seed recipe with torch.set_num_threads(1)", False, False, "sdpa", threads=1),
    Recipe("project_one_thread", "project recipe with torch.set_num_threads(1)", True, True, "eager", threads=1),
)
BF16_RECIPES = (
    Recipe("project_bf16", "project recipe, forward and loss under bf16 autocast", True, True, "eager", bf16=True),
    Recipe(
        "project_bf16_one_thread",
        "project recipe under bf16 autocast, torch.set_num_threads(1)",
        True,
        True,
        "eager",
        threads=1,
        bf16=True,
    ),
)
"""Timed beside `project` and `project_one_thread` only on CPUs with native bf16: elsewhere it is emulated."""


@dataclass(frozen=True)
class TrainingPlan:
    """A model to time, for how many rounds, and whether with the ablations (costly on big models)."""

    model: str
    rounds: int
    ablations: bool


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment of the `parallel` section: a real fine-tune, short enough that the section takes minutes.
    Starting the workers weighs more in it than in an hour-long search, so the bench understates the gain."""

    train_texts: int
    validation_texts: int
    learning_rate: float
    batch_size: int = 16
    epochs: int = 1
    rounds: int = 2  # rounds of (one at a time, parallel), the order flipped every other round


@dataclass(frozen=True)
class PrecisionPlan:
    """The accuracy half of bf16 against float32: a search trial's configuration, trained with a few seeds."""

    learning_rate: float
    batch_size: int
    epochs: int
    seeds: int = 2


@dataclass(frozen=True)
class BenchSettings:
    """Sizes of one profile's bench: few enough steps to finish in minutes, enough to average out noise."""

    training: tuple[TrainingPlan, ...]
    experiment: ExperimentPlan
    precision: PrecisionPlan
    steps_per_round: int = 2
    warmup_steps: int = 1
    train_batch_size: int = 16
    learning_rate: float = 2e-5
    eval_batch_size: int = 64
    latency_texts: int = 50
    inference_rounds: int = 3
    seed: int = 0


SETTINGS = {
    "smoke": BenchSettings(
        training=(TrainingPlan("tiny-random-bert", rounds=1, ablations=True),),
        experiment=ExperimentPlan(train_texts=48, validation_texts=24, learning_rate=1e-3, rounds=1),
        precision=PrecisionPlan(learning_rate=1e-3, batch_size=32, epochs=1),
        latency_texts=10,
        inference_rounds=1,
    ),
    # About fifteen minutes on two idle cores (estimated from single runs: training and inference about five,
    # experiments per hour under four, bf16 against float32 six to seven, since float32's two seeds run one after
    # the other on one thread). Much longer, and skewed against threads, when another job shares the cores.
    "cpu": BenchSettings(
        training=(
            TrainingPlan("minilm", rounds=4, ablations=True),
            TrainingPlan("distilbert", rounds=3, ablations=False),
        ),
        experiment=ExperimentPlan(train_texts=1200, validation_texts=400, learning_rate=1e-4),
        precision=PrecisionPlan(learning_rate=1e-4, batch_size=16, epochs=2),
    ),
    # The gpu profile's model shape, trained on the GPU (float32: the recipes' ratios, not the Trainer's mixed
    # precision); GPU steps take milliseconds, so more of them. Inference still times the CPU back ends.
    "gpu": BenchSettings(
        training=(TrainingPlan("distilbert", rounds=5, ablations=True),),
        experiment=ExperimentPlan(train_texts=2000, validation_texts=500, learning_rate=5e-5),
        precision=PrecisionPlan(learning_rate=5e-5, batch_size=16, epochs=2),
        steps_per_round=5,
        warmup_steps=3,
        inference_rounds=1,
    ),
}

MODEL_DESCRIPTIONS = {
    "tiny-random-bert": "the smoke profile's 2-layer BERT, random weights",
    "minilm": "all-MiniLM-L6-v2, the cpu profile's encoder, with a new classification head",
    "distilbert": "DistilBertConfig() with random weights: distilbert-base-uncased's shape and compute",
}


def training_model(name: str, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """A classifier to time; DistilBERT is built from its config, so no download is needed."""
    if name == "tiny-random-bert":
        return build_model(resolve_profile("smoke"), len(tokenizer))
    if name == "minilm":
        return build_model(resolve_profile("cpu"), len(tokenizer))
    if name == "distilbert":
        from transformers import DistilBertConfig, DistilBertForSequenceClassification

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


def default_model_folder(profile_name: str) -> Path | None:
    """The tuned model of a profile's runs, else its seed-recipe fine-tune, else None."""
    for run in ("tuned", "finetune"):
        folder = runs_root() / profile_name / run / "model"
        if (folder / "config.json").is_file():
            return folder
    return None


def inference_model(
    profile: Profile, tokenizer: PreTrainedTokenizerBase, folder: Path | None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The trained model in `folder` with its own tokenizer, else the profile's untrained model."""
    if folder is None:
        return build_model(profile, len(tokenizer)), tokenizer
    return load_model_folder(folder)


BACKEND_DESCRIPTIONS = {
    "fp32": "PyTorch float32, one call per batch on all threads (the baseline)",
    "int8": "PyTorch dynamic int8 (linear layers), one call per batch on all threads",
    "onnx": "ONNX Runtime float32, last layer for [CLS] only, fused, batch dealt out to one 1-thread call per core",
    "onnx-int8": "the same graph with dynamic int8, one unpadded text per call, one 1-thread call per core",
}
ABLATIONS_INFERENCE = {
    "onnx-int8 full last layer": "onnx-int8 with the last layer computed for every token",
    "onnx-int8 one call per batch": "onnx-int8 graph, each padded batch one call on all threads (its texts share "
    "activation scales)",
}


def build_runners(model: PreTrainedModel, folder: Path) -> tuple[dict[str, LogitsFunction], dict[str, float]]:
    """Every back end of `BACKENDS`, then the ablations of onnx-int8, each with its build time in seconds."""
    threads = torch.get_num_threads()
    builders: dict[str, Callable[[], LogitsFunction]] = {
        **{name: partial(build_backend, model, name) for name in BACKENDS},
        "onnx-int8 full last layer": lambda: onnx_backend(
            build_onnx(model, folder / "full.onnx", int8=True, cls_only_last_layer=False), one_text_per_call=True
        ),
        "onnx-int8 one call per batch": lambda: onnx_backend(
            build_onnx(model, folder / "batched.onnx", int8=True, with_mask=True), workers=1, threads=threads
        ),
    }
    runners, build_seconds = {}, {}
    for name, build in builders.items():
        started = time.perf_counter()
        runners[name] = build()
        build_seconds[name] = time.perf_counter() - started
    return runners, build_seconds


def timed_calls(
    runners: dict[str, LogitsFunction], inputs: Sequence[tuple[np.ndarray, np.ndarray]], rounds: int = 1
) -> tuple[dict[str, list[np.ndarray]], dict[str, list[float]]]:
    """Each runner's logits per input (first pass) and seconds per call over `rounds` passes, taking turns.

    Taking turns on every input spreads the machine's drifts evenly; the short pause before each call
    lets the thread pools of the previous runner (OpenMP, ONNX Runtime) stop spinning first.
    """
    outputs: dict[str, list[np.ndarray]] = {key: [] for key in runners}
    seconds: dict[str, list[float]] = {key: [] for key in runners}
    for index in range(rounds * len(inputs)):
        input_ids, attention_mask = inputs[index % len(inputs)]
        for key in rotated(list(runners), index):
            time.sleep(PAUSE_SECONDS)
            started = time.perf_counter()
            logits = runners[key](input_ids, attention_mask)
            seconds[key].append(time.perf_counter() - started)
            if index < len(inputs):
                outputs[key].append(logits)
    return outputs, seconds


def bench_inference(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int],
    max_length: int,
    settings: BenchSettings,
    trained: bool,
) -> dict[str, Any]:
    """Throughput, latency and accuracy of every back end and of the ablations of the default one.

    Throughput is over a few passes through the texts in length-sorted batches and latency the median over
    single texts, the back ends taking turns batch by batch and text by text. The single texts also
    show whether a text's probabilities depend on the batch it shares (dynamic int8 scales activations per
    call), which tests/test_inference.py requires of the default back end to stay below `BATCH_EFFECT_TOLERANCE`.
    """
    with tempfile.TemporaryDirectory() as folder:
        runners, build_seconds = build_runners(model, Path(folder))
    batches = list(length_sorted_batches(tokenizer, texts, settings.eval_batch_size, max_length))
    picked = np.random.default_rng(settings.seed).choice(len(texts), min(settings.latency_texts, len(texts)), False)
    encoded = [tokenizer([texts[i]], truncation=True, max_length=max_length, return_tensors="np") for i in picked]
    singles = [(one["input_ids"].astype(np.int64), one["attention_mask"].astype(np.int64)) for one in encoded]
    timed_calls(runners, [batches[0][1:], singles[0]])  # warm-up
    batch_logits, batch_seconds = timed_calls(runners, [batch[1:] for batch in batches], settings.inference_rounds)
    single_logits, single_seconds = timed_calls(runners, singles, settings.inference_rounds)

    order = np.concatenate([batch[0] for batch in batches])
    logits = {key: np.concatenate(values)[np.argsort(order)] for key, values in batch_logits.items()}
    rates = {key: settings.inference_rounds * len(texts) / sum(values) for key, values in batch_seconds.items()}
    latency = {key: 1000 * statistics.median(values) for key, values in single_seconds.items()}
    predictions = {key: values.argmax(axis=1) for key, values in logits.items()}
    accuracy = {key: float((predicted == np.asarray(labels)).mean()) for key, predicted in predictions.items()}

    def row(key: str, description: str) -> dict[str, Any]:
        batch_effect = np.abs(softmax(np.concatenate(single_logits[key])) - softmax(logits[key][picked])).max()
        agreement = backend_agreement(labels, softmax(logits["fp32"]), softmax(logits[key]))
        return {
            "description": description,
            "texts_per_second": rates[key],
            "latency_ms_median": latency[key],
            "speedup_vs_fp32": rates[key] / rates["fp32"],
            "latency_speedup_vs_fp32": latency["fp32"] / latency[key],
            "accuracy": accuracy[key] if trained else "untrained",
            "accuracy_drop_points": 100 * (accuracy["fp32"] - accuracy[key]) if trained else None,
            "agreement_with_fp32": 1 - agreement["changed_label_share"],
            "changed_label_share": agreement["changed_label_share"],
            "max_probability_change_vs_fp32": agreement["max_probability_change"],
            "batch_effect_max_probability": float(batch_effect),
            "build_seconds": build_seconds[key],
        }

    variants = {name: row(name, BACKEND_DESCRIPTIONS[name]) for name in BACKENDS}
    return {
        "trained": trained,
        "split": "validation",
        "texts": len(texts),
        "threads": torch.get_num_threads(),
        "fp32_accuracy": accuracy["fp32"] if trained else "untrained",
        "max_accuracy_change_points": MAX_ACCURACY_CHANGE_POINTS,
        "max_changed_label_share": MAX_CHANGED_LABELS,
        "batch_effect_tolerance": BATCH_EFFECT_TOLERANCE,
        "fastest_within_bounds": recommend(variants, batch_invariant=False) if trained else None,
        "recommended_backend": recommend(variants, batch_invariant=True) if trained else None,
        "variants": variants,
        "ablations": {name: row(name, description) for name, description in ABLATIONS_INFERENCE.items()},
    }


def recommend(variants: dict[str, dict[str, Any]], batch_invariant: bool) -> str:
    """The back end with the highest batched throughput among those within both validation bounds of
    `helpers.inference.within_bounds` (and, with `batch_invariant`, whose probabilities do not depend on the batch)."""
    allowed = [
        name
        for name, row in variants.items()
        if within_bounds(
            {"changed_label_share": row["changed_label_share"], "accuracy_change_points": -row["accuracy_drop_points"]}
        )
        and (not batch_invariant or row["batch_effect_max_probability"] <= BATCH_EFFECT_TOLERANCE)
    ]
    return max(allowed, key=lambda name: variants[name]["texts_per_second"])


ARRANGEMENTS = ("one_at_a_time", "parallel")
PRECISIONS = {"float32": "no", "bf16": "bf16"}
"""The precisions compared, with the profile's `mixed_precision` value that trains in each."""


def arrangement_order(rounds: int) -> list[str]:
    """Both arrangements in every round, the order flipped every other round (a, b, b, a): a drift in the
    machine's speed over the section then hits both alike."""
    return [name for index in range(rounds) for name in (ARRANGEMENTS if index % 2 == 0 else ARRANGEMENTS[::-1])]


def bench_parallel(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, plan: ExperimentPlan, workers: int
) -> dict[str, Any]:
    """Experiments per hour: the same short fine-tunes one at a time on every core, then in `workers` worker
    processes (one thread each on a CPU), both through `run_jobs` as the search and the seeds run them.

    The parallel wall time includes starting the pool (spawn, imports, the first steps' kernel set-up) once per
    round, as a search pays it once per `run_jobs` call; `mean_train_seconds` (the Trainer's own time per
    experiment) shows the speed of each arrangement without it."""
    if workers <= 1:
        return {"skipped": "one worker per device and a single device: nothing would run side by side"}
    data = DatasetDict(
        {
            "train": stratified_subset(tokenized["train"], plan.train_texts, profile.seed),
            "validation": stratified_subset(tokenized["validation"], plan.validation_texts, profile.seed),
        }
    )
    count = 2 * workers
    order = arrangement_order(plan.rounds)
    seconds: dict[str, list[float]] = {name: [] for name in ARRANGEMENTS}
    results: dict[str, list[TrainingResult]] = {name: [] for name in ARRANGEMENTS}
    hyperparameters = {"learning_rate": plan.learning_rate, "batch_size": plan.batch_size, "epochs": plan.epochs}
    with tempfile.TemporaryDirectory() as folder:
        jobs = [
            {
                "profile": replace(profile, seed=profile.seed + index),
                "tokenized": data,
                "tokenizer": tokenizer,
                "output_dir": Path(folder) / f"experiment-{index}",
                "keep_model": False,
                **hyperparameters,
            }
            for index in range(count)
        ]
        with torch_threads(usable_cores()):  # one at a time runs in this process, on every core
            progress("experiments per hour: one untimed experiment first, as a notebook that has trained before")
            train_classifier(**jobs[0])
            for name in order:
                progress(f"experiments per hour: {count} experiments, {name.replace('_', ' ')}")
                started = time.perf_counter()
                results[name] += run_jobs(train_classifier, jobs, 1 if name == "one_at_a_time" else workers)
                seconds[name].append(time.perf_counter() - started)
    on_cpu = training_on_cpu()
    arrangements = {
        name: {
            "workers": 1 if name == "one_at_a_time" else workers,
            "threads_per_experiment": (usable_cores() if name == "one_at_a_time" else 1) if on_cpu else None,
            "experiments": len(results[name]),
            "wall_seconds": sum(seconds[name]),
            "round_seconds": seconds[name],
            "experiments_per_hour": 3600 * len(results[name]) / sum(seconds[name]),
            "mean_train_seconds": statistics.fmean(result.train_seconds for result in results[name]),
            "mean_validation_accuracy": statistics.fmean(
                result.best_validation["accuracy"] for result in results[name]
            ),
        }
        for name in ARRANGEMENTS
    }
    return {
        "precision": resolve_mixed_precision(profile.mixed_precision, best_device()),
        "workers": workers,
        "experiments_per_round": count,
        "rounds": plan.rounds,
        "order": order,
        "experiment": {
            "train_texts": len(data["train"]),
            "validation_texts": len(data["validation"]),
            **hyperparameters,
        },
        "arrangements": arrangements,
        "speedup": arrangements["parallel"]["experiments_per_hour"]
        / arrangements["one_at_a_time"]["experiments_per_hour"],
    }


def adopt_bf16(speedup: float, float32_accuracy: float, bf16_accuracy: float) -> bool:
    """bf16 is adopted only if it wins on both counts: faster (`speedup` = float32's seconds over bf16's, above 1)
    and a mean validation accuracy no lower than float32's. Anything else keeps the exact precision."""
    return speedup > 1 and bf16_accuracy >= float32_accuracy


def precision_runs(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    output_dir: Path,
    precision: str,
    seeds: Sequence[int],
    hyperparameters: dict[str, Any],
) -> list[dict[str, Any]]:
    """A worker's job: one precision trained with each seed in turn, on one thread; each run's best epoch."""
    torch.set_num_threads(1)
    rows = []
    for seed in seeds:
        result: TrainingResult = train_classifier(
            replace(profile, mixed_precision=precision, seed=seed),
            tokenized,
            tokenizer,
            output_dir / f"{precision}-{seed}",
            keep_model=False,
            **hyperparameters,
        )
        rows.append(
            {
                "seed": seed,
                "accuracy": result.best_validation["accuracy"],
                "f1_weighted": result.best_validation["f1_weighted"],
                "train_seconds": result.train_seconds,
            }
        )
    return rows


def bench_precision(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    plan: PrecisionPlan,
    training: dict[str, Any],
) -> dict[str, Any]:
    """bf16 autocast against float32 on a CPU with native bf16: step speed from the interleaved recipes, and
    accuracy and train seconds of a search trial's configuration, the two precisions training at the same time."""
    if not training_on_cpu():
        return {"supported": False, "reason": f"CPU autocast, and this bench trains on {best_device()}"}
    if not cpu_has_native_bf16():
        return {"supported": False, "reason": "no native bf16 on this CPU (AVX-512 BF16 or AMX): emulated, slower"}
    model, recipes = next((name, row["recipes"]) for name, row in training.items() if "project_bf16" in row["recipes"])
    data = trial_data_for(profile, tokenized)
    seeds = [profile.seed + offset for offset in range(plan.seeds)]
    hyperparameters = {"learning_rate": plan.learning_rate, "batch_size": plan.batch_size, "epochs": plan.epochs}
    progress(f"bf16 against float32: {len(data['train'])} training texts, seeds {seeds}, two one-thread workers")
    with tempfile.TemporaryDirectory() as folder:
        jobs = [
            {
                "profile": profile,
                "tokenized": data,
                "tokenizer": tokenizer,
                "output_dir": Path(folder),
                "precision": setting,
                "seeds": seeds,
                "hyperparameters": hyperparameters,
            }
            for setting in PRECISIONS.values()
        ]
        outcomes = dict(zip(PRECISIONS, run_jobs(precision_runs, jobs, workers=len(jobs))))
    summary = {
        name: {
            "runs": rows,
            **{
                f"mean_{key}": statistics.fmean(row[key] for row in rows)
                for key in ("accuracy", "f1_weighted", "train_seconds")
            },
        }
        for name, rows in outcomes.items()
    }
    float32, bf16 = summary["float32"], summary["bf16"]
    speedup = float32["mean_train_seconds"] / bf16["mean_train_seconds"]
    return {
        "supported": True,
        "cpu_native_bf16": True,
        "profile_precision": resolve_mixed_precision(profile.mixed_precision, "cpu"),
        "step_speedup": {
            "model": model,
            "all_threads": recipes["project_bf16"]["samples_per_second"] / recipes[PROJECT.name]["samples_per_second"],
            "one_thread": recipes["project_bf16_one_thread"]["samples_per_second"]
            / recipes["project_one_thread"]["samples_per_second"],
        },
        "runs": {
            "train_texts": len(data["train"]),
            "validation_texts": len(data["validation"]),
            **hyperparameters,
            "seeds": seeds,
            "workers": len(jobs),
            "threads_per_run": 1,
        },
        **summary,
        "speedup": speedup,
        "accuracy_change_points": 100 * (bf16["mean_accuracy"] - float32["mean_accuracy"]),
        "adopt_bf16": adopt_bf16(speedup, float32["mean_accuracy"], bf16["mean_accuracy"]),
    }


def progress(message: str) -> None:
    """A timestamped line on stderr: the cpu bench runs for minutes."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    import onnx
    import onnxruntime
    import transformers

    return {
        **cpu_and_gpu(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "load_average_start": os.getloadavg()[0],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def print_tables(result: dict[str, Any]) -> None:
    padding = ", ".join(f"{name} {tokens:.1f}" for name, tokens in result["epoch_mean_padded_tokens"].items())
    print(f"\nTokens per text over one epoch: {padding}")
    print(f"Training: samples/second, recipes interleaved (profile {result['profile']})")
    print(f"{'model':<18}{'recipe':<32}{'steps':>6}{'padded':>8}{'samples/s':>11}{'vs seed':>9}")
    for model, row in result["training"].items():
        for name, recipe in row["recipes"].items():
            print(
                f"{model:<18}{name:<32}{recipe['steps']:>6}{recipe['mean_padded_tokens']:>8.1f}"
                f"{recipe['samples_per_second']:>11.2f}{recipe['speedup_vs_seed']:>8.2f}x"
            )
    inference = result["inference"]
    print(f"\nMachine: {describe(result['machine'])}")
    print(
        f"Inference, {inference['texts']} {inference['split']} texts, {inference['threads']} threads: "
        f"{inference['model']}"
    )
    print_inference_rows({**inference["variants"], **inference["ablations"]})
    print(
        f"fastest within the bounds (at most {100 * MAX_CHANGED_LABELS:g}% of labels changed, accuracy within "
        f"{MAX_ACCURACY_CHANGE_POINTS:g} points): {inference['fastest_within_bounds']}; "
        f"recommended (also batch-invariant to {BATCH_EFFECT_TOLERANCE:g}): {inference['recommended_backend']}"
    )
    print_parallel(result["parallel"])
    print_precision(result["precision"])


def print_parallel(parallel: dict[str, Any]) -> None:
    if "skipped" in parallel:
        print(f"\nExperiments per hour: skipped ({parallel['skipped']})")
        return
    experiment = parallel["experiment"]
    print(
        f"\nExperiments per hour ({parallel['precision']} precision; one experiment: {experiment['train_texts']} "
        f"training texts, {experiment['epochs']} epoch(s), {experiment['validation_texts']} validation texts; "
        f"order {', '.join(parallel['order'])})"
    )
    print(f"{'arrangement':<16}{'workers':>8}{'threads':>8}{'experiments':>12}{'wall s':>9}{'per hour':>10}", end="")
    print(f"{'train s each':>14}{'accuracy':>10}")
    for name, row in parallel["arrangements"].items():
        print(
            f"{name.replace('_', ' '):<16}{row['workers']:>8}{row['threads_per_experiment'] or '-':>8}"
            f"{row['experiments']:>12}{row['wall_seconds']:>9.1f}{row['experiments_per_hour']:>10.1f}"
            f"{row['mean_train_seconds']:>14.1f}{100 * row['mean_validation_accuracy']:>9.2f}%"
        )
    print(f"parallel against one at a time: {parallel['speedup']:.2f}x the experiments per hour")


def print_precision(precision: dict[str, Any]) -> None:
    if not precision["supported"]:
        print(f"\nbf16 against float32: not measured ({precision['reason']})")
        return
    steps, runs = precision["step_speedup"], precision["runs"]
    print(
        f"\nbf16 autocast against float32: interleaved {steps['model']} steps {steps['all_threads']:.2f}x on all "
        f"threads, {steps['one_thread']:.2f}x on one; {runs['train_texts']} training texts, {runs['epochs']} "
        f"epochs, lr {runs['learning_rate']:g}, batch {runs['batch_size']}, both precisions at once, one thread each"
    )
    print(f"{'precision':<11}{'seed':>6}{'accuracy':>10}{'F1 (w)':>9}{'train s':>9}")
    for name in PRECISIONS:
        side = precision[name]
        for row in side["runs"]:
            print(
                f"{name:<11}{row['seed']:>6}{100 * row['accuracy']:>9.2f}%{row['f1_weighted']:>9.4f}"
                f"{row['train_seconds']:>9.1f}"
            )
        print(
            f"{name:<11}{'mean':>6}{100 * side['mean_accuracy']:>9.2f}%{side['mean_f1_weighted']:>9.4f}"
            f"{side['mean_train_seconds']:>9.1f}"
        )
    print(
        f"bf16 {precision['speedup']:.2f}x as fast, accuracy {precision['accuracy_change_points']:+.2f} points: "
        f"adopt bf16 {precision['adopt_bf16']} (the profile trains in {precision['profile_precision']})"
    )


def print_inference_rows(variants: dict[str, dict[str, Any]]) -> None:
    print(f"{'backend':<30}{'texts/s':>9}{'vs fp32':>9}{'latency ms':>12}{'vs fp32':>9}{'accuracy':>10}", end="")
    print(f"{'drop pts':>10}{'changed':>9}{'batch effect':>14}")
    for name, row in variants.items():
        accuracy = row["accuracy"] if isinstance(row["accuracy"], str) else f"{100 * row['accuracy']:.2f}%"
        drop = "n/a" if row["accuracy_drop_points"] is None else f"{row['accuracy_drop_points']:+.2f}"
        print(
            f"{name:<30}{row['texts_per_second']:>9.1f}{row['speedup_vs_fp32']:>8.2f}x{row['latency_ms_median']:>12.1f}"
            f"{row['latency_speedup_vs_fp32']:>8.2f}x{accuracy:>10}{drop:>10}{100 * row['changed_label_share']:>8.2f}%"
            f"{row['batch_effect_max_probability']:>14.1e}"
        )


def run_bench(profile_name: str, model_folder: Path | None = None, data_dir: Path | None = None) -> dict[str, Any]:
    """Every measurement of the module docstring for one profile, as one JSON-ready dict."""
    profile = resolve_profile(profile_name)
    settings = SETTINGS[profile_name]
    tokenizer = load_tokenizer(profile)
    tokenizer.model_max_length = profile.max_length  # the seed recipe pads to this
    data = subset_for_profile(load_emotion(data_dir), profile.train_size, profile.eval_size, profile.seed)
    result: dict[str, Any] = {
        "profile": profile.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": code_version(),
        "machine": machine_info(),
        "settings": {**asdict(settings), "seed_padded_length": profile.max_length, "train_texts": len(data["train"])},
        "training": {},
    }
    encoded = tokenizer(list(data["train"]["text"]), truncation=True, max_length=profile.max_length)
    features = [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], data["train"]["label"])
    ]
    lengths = [len(ids) for ids in encoded["input_ids"]]
    result["epoch_mean_padded_tokens"] = epoch_padding(
        lengths, profile.max_length, settings.train_batch_size, settings.seed
    )
    for plan in settings.training:
        progress(f"training {plan.model}: {plan.rounds} rounds of {settings.steps_per_round} steps per recipe")
        result["training"][plan.model] = bench_training(plan, tokenizer, features, settings)
    folder = model_folder or default_model_folder(profile.name)
    model, model_tokenizer = inference_model(profile, tokenizer, folder)
    progress(f"inference: {', '.join(BACKENDS)} on {len(data['validation'])} validation texts")
    inference = bench_inference(
        model,
        model_tokenizer,
        list(data["validation"]["text"]),
        list(data["validation"]["label"]),
        profile.max_length,
        settings,
        trained=folder is not None,
    )
    result["inference"] = {"model": str(folder) if folder else f"untrained {profile.model_name_or_path}", **inference}
    del model
    gc.collect()
    tokenized = tokenize_splits(
        DatasetDict({split: data[split] for split in ("train", "validation")}), tokenizer, profile.max_length
    )
    result["parallel"] = bench_parallel(profile, tokenized, tokenizer, settings.experiment, default_workers())
    result["precision"] = bench_precision(profile, tokenized, tokenizer, settings.precision, result["training"])
    result["machine"]["load_average_end"] = os.getloadavg()[0]
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, choices=sorted(SETTINGS))
    parser.add_argument("--output", required=True, type=Path, help="JSON file to write")
    parser.add_argument("--model", type=Path, help="trained model folder (default: the profile's latest run)")
    parser.add_argument("--data-dir", type=Path, help="folder with the splits (default: $EMOTION_DATA_DIR, else hub)")
    args = parser.parse_args(argv)
    result = run_bench(args.profile, args.model, args.data_dir)
    print_tables(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
