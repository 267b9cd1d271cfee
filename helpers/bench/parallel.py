"""Experiments per hour: seeds trained one at a time against in parallel worker processes."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from datasets import DatasetDict
from transformers import PreTrainedTokenizerBase

from helpers.bench.settings import ExperimentPlan
from helpers.bench.tables import progress
from helpers.bench.training import torch_threads, training_on_cpu
from helpers.data.loading import stratified_subset
from helpers.hardware import best_device, resolve_mixed_precision
from helpers.profiles import Profile
from helpers.training.finetune import TrainingResult, train_classifier
from helpers.training.workers import run_jobs, usable_cores

ARRANGEMENTS = ("one_at_a_time", "parallel")


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
