"""Texts per second and agreement with float32 for each serving back end, and the one to recommend."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from helpers.bench.settings import BATCH_EFFECT_TOLERANCE, PAUSE_SECONDS, BenchSettings
from helpers.bench.training import rotated
from helpers.models.batching import LogitsFunction, length_sorted_batches
from helpers.models.building import build_model
from helpers.models.folder import load_model_folder
from helpers.paths import runs_root
from helpers.probabilities import softmax
from helpers.profiles import Profile
from helpers.serving.backends import (
    BACKENDS,
    MAX_ACCURACY_CHANGE_POINTS,
    MAX_CHANGED_LABELS,
    backend_agreement,
    build_backend,
    onnx_backend,
    within_bounds,
)
from helpers.serving.onnx_export import build_onnx
from helpers.serving.served import read_served_record


def default_model_folder(profile_name: str) -> Path | None:
    """The model the profile's run serves (notebook 08's or 05's record), else its tuned model, else its
    seed-recipe fine-tune, else None."""
    record = read_served_record(runs_root() / profile_name)
    if record is not None and (record["path"] / "config.json").is_file():
        return record["path"]
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
    `helpers.serving.backends.within_bounds` (and, with `batch_invariant`, whose probabilities do not depend on
    the batch)."""
    allowed = [
        name
        for name, row in variants.items()
        if within_bounds(
            {"changed_label_share": row["changed_label_share"], "accuracy_change_points": -row["accuracy_drop_points"]}
        )
        and (not batch_invariant or row["batch_effect_max_probability"] <= BATCH_EFFECT_TOLERANCE)
    ]
    return max(allowed, key=lambda name: variants[name]["texts_per_second"])
