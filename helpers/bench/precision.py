"""bf16 autocast against float32: speed and validation accuracy over seeds, and whether bf16 wins on both."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from datasets import DatasetDict
from transformers import PreTrainedTokenizerBase

from helpers.bench.settings import PRECISIONS, PROJECT, PrecisionPlan
from helpers.bench.tables import progress
from helpers.bench.training import training_on_cpu
from helpers.hardware import best_device, cpu_has_native_bf16, resolve_mixed_precision
from helpers.profiles import Profile
from helpers.search.study import trial_data_for
from helpers.training.finetune import TrainingResult, train_classifier
from helpers.training.workers import run_jobs

"""The precisions compared, with the profile's `mixed_precision` value that trains in each."""


def adopt_bf16(speedup: float, float32_accuracy: float, bf16_accuracy: float) -> bool:
    """The bench's verdict, reported and never acted on (the profile's precision follows the CPU's flags): bf16
    wins only on both counts: faster (`speedup` = float32's seconds over bf16's, above 1)
    and a mean validation accuracy no lower than float32's."""
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
