"""Notebook 07: full fine-tuning, LoRA at a few ranks and the head alone, trained and measured alike.

Every method trains with the profile's recipe (batch size, epochs, seeds); only the learning rate differs.
LoRA and the head alone move few weights and need a higher rate than full fine-tuning, so each picks its
rate among `profile.peft_learning_rates` on validation with the profile's seed; the other seeds then train
at the chosen rate. LoRA's alpha is twice its rank (a common default: the adapters' scale alpha / rank is 2 at
every rank). Full fine-tuning keeps the recipe of notebook 03, whose runs it reuses.

Speed and memory come from separate short runs, one method after the other in a fresh process each, with
every core: the seed runs share the cores between parallel workers, which would blur both. Peak memory is the
process's resident high-water mark on a CPU, and the GPU memory PyTorch allocated on CUDA.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import DatasetDict
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase, PrinterCallback, Trainer, TrainerCallback

from helpers.hardware import best_device
from helpers.metrics import classification_scores, mean_sd
from helpers.models.batching import batched_logits
from helpers.models.building import build_model
from helpers.models.folder import load_model_folder
from helpers.models.methods import apply_method, head_modules, parameter_counts, saved_size, target_modules
from helpers.profiles import FULL_FINE_TUNING, Profile
from helpers.training.finetune import (
    SELECTION_METRIC,
    TrainingResult,
    seed_run_dir,
    seeds_of,
    train_job,
    training_arguments,
)
from helpers.training.workers import run_jobs

SKIPPED_STEPS = 10
"""Training steps not timed at the start of a speed measurement: the first ones pay for warming up."""


def method_profile(profile: Profile, method: str, rank: int | None = None) -> Profile:
    """The profile a method trains with: LoRA at `rank` with alpha = 2 * rank."""
    if method == "lora":
        return replace(profile, method="lora", lora_rank=rank, lora_alpha=2 * rank)
    return replace(profile, method=method)


def configurations(profile: Profile) -> dict[str, Profile]:
    """The compared methods by name: full fine-tuning, LoRA at each of `profile.peft_ranks`, the head alone."""
    named = {FULL_FINE_TUNING: method_profile(profile, "full")}
    for rank in profile.peft_ranks:
        named[f"LoRA r={rank}"] = method_profile(profile, "lora", rank)
    named["head only"] = method_profile(profile, "head")
    return named


def run_kind(profile: Profile, learning_rate: float) -> str:
    """The run folder of a configuration (`runs/<profile>/<kind>`): full fine-tuning shares notebook 03's."""
    if profile.method == "full":
        return "finetune"
    name = f"lora-r{profile.lora_rank}" if profile.method == "lora" else "head"
    return f"peft/{name}-lr{learning_rate:g}"


def _job(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, seed: int, learning_rate: float
) -> dict[str, Any]:
    return {
        "profile": profile,
        "tokenized": tokenized,
        "tokenizer": tokenizer,
        "output_dir": seed_run_dir(profile, run_kind(profile, learning_rate), seed),
        "seed": seed,
        "hyperparameters": {
            "learning_rate": learning_rate,
            "batch_size": profile.batch_size,
            "epochs": profile.epochs,
        },
    }


def choose_learning_rates(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase
) -> tuple[dict[str, float], pd.DataFrame]:
    """Each configuration's learning rate: the recipe's for full fine-tuning; for the others, the candidate of
    `profile.peft_learning_rates` with the best validation score, trained with the profile's seed (in parallel)."""
    chosen = {FULL_FINE_TUNING: profile.learning_rate}
    jobs = [
        (name, _job(config, tokenized, tokenizer, profile.seed, rate))
        for name, config in configurations(profile).items()
        if name != FULL_FINE_TUNING
        for rate in profile.peft_learning_rates
    ]
    results = run_jobs(
        train_job, [job for _, job in jobs], profile.workers, describe=lambda job: job["output_dir"].name
    )
    rows = [
        {
            "configuration": name,
            "learning rate": job["hyperparameters"]["learning_rate"],
            f"validation {SELECTION_METRIC}": result.best_validation[SELECTION_METRIC],
            "validation accuracy": result.best_validation["accuracy"],
        }
        for (name, job), result in zip(jobs, results)
    ]
    table = pd.DataFrame(rows)
    for name, group in table.groupby("configuration", sort=False):
        chosen[name] = float(group.loc[group[f"validation {SELECTION_METRIC}"].idxmax(), "learning rate"])
    table["chosen"] = [chosen[row["configuration"]] == row["learning rate"] for row in rows]
    return chosen, table


def train_configurations(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, rates: dict[str, float]
) -> dict[str, list[TrainingResult]]:
    """Every configuration at its chosen rate with every seed of `seeds_of(profile)`, in parallel workers;
    finished runs (notebook 03's, the rate choice's) are reused."""
    named = configurations(profile)
    jobs = [
        (name, _job(config, tokenized, tokenizer, seed, rates[name]))
        for name, config in named.items()
        for seed in seeds_of(profile)
    ]
    results = run_jobs(
        train_job, [job for _, job in jobs], profile.workers, describe=lambda job: str(job["output_dir"].name)
    )
    trained: dict[str, list[TrainingResult]] = {name: [] for name in named}
    for (name, _), result in zip(jobs, results):
        trained[name].append(result)
    return trained


def split_scores(
    trained: dict[str, list[TrainingResult]],
    texts: dict[str, list[str]],
    labels: dict[str, list[int]],
    profile: Profile,
) -> pd.DataFrame:
    """Accuracy and macro F1 of every seed's model on each split of `texts`: one row per configuration, seed and
    split. Adapters are merged into their base to predict, as the inference API does."""
    rows = []
    for name, results in trained.items():
        for result in results:
            model, tokenizer = load_model_folder(Path(result.model_dir))
            for split, rows_of_split in texts.items():
                logits = batched_logits(model, tokenizer, rows_of_split, profile.eval_batch_size, profile.max_length)
                scores = classification_scores(labels[split], np.argmax(logits, axis=1))
                rows.append({"configuration": name, "seed": result.seed, "split": split, **scores})
    return pd.DataFrame(rows)


class _Stopwatch(TrainerCallback):
    """Times the steps after the first `SKIPPED_STEPS`, waiting for the GPU's queued work at both ends."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.seconds = 0.0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step not in (SKIPPED_STEPS, state.max_steps):
            return
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == SKIPPED_STEPS:
            self.started = time.perf_counter()
        elif self.started is not None:
            self.seconds = time.perf_counter() - self.started


def peak_memory_mib() -> float:
    """This process's peak memory: on CUDA what PyTorch allocated on the GPU; on a CPU the resident high-water
    mark of this process's own address space (`VmHWM`; `ru_maxrss` would also count the parent's memory at the
    fork before the spawned interpreter started)."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def measure_training(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, steps: int
) -> dict[str, float]:
    """Training samples per second over `steps - SKIPPED_STEPS` steps of `profile`'s method, and this process's
    peak memory. Meant for a fresh process (`measure_in_fresh_process`): the peak is the process's own."""
    if steps <= SKIPPED_STEPS:
        raise ValueError(f"steps must exceed the {SKIPPED_STEPS} untimed warm-up steps, got {steps}")
    with tempfile.TemporaryDirectory() as scratch:
        return _measure(profile, tokenized, tokenizer, steps, Path(scratch))


def _measure(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, steps: int, scratch: Path
) -> dict[str, float]:
    model = apply_method(build_model(profile, vocab_size=len(tokenizer)), profile)
    recipe = training_arguments(profile, scratch, profile.learning_rate, profile.batch_size, 1, keep_model=False)
    args = dataclasses.replace(recipe, max_steps=steps, logging_strategy="no", eval_strategy="no", disable_tqdm=True)
    watch = _Stopwatch()
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=DataCollatorWithPadding(tokenizer),
        train_dataset=tokenized["train"],
        processing_class=tokenizer,
        callbacks=[watch],
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return {
        "samples per second": (steps - SKIPPED_STEPS) * profile.batch_size / watch.seconds,
        "peak memory (MiB)": peak_memory_mib(),
        **parameter_counts(model),
    }


def measure_in_fresh_process(**kwargs: Any) -> dict[str, float]:
    """`measure_training` in a new interpreter, so that its peak memory is this method's alone."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(measure_training, **kwargs).result()


def measure_methods(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    rates: dict[str, float],
) -> pd.DataFrame:
    """Samples per second (over `profile.peft_measured_steps` steps, the first `SKIPPED_STEPS` not counted), peak
    memory and parameters of every configuration, one after the other."""
    rows = []
    for name, config in configurations(profile).items():
        measured = measure_in_fresh_process(
            profile=replace(config, learning_rate=rates[name]),
            tokenized=tokenized,
            tokenizer=tokenizer,
            steps=profile.peft_measured_steps,
        )
        rows.append({"configuration": name, **measured})
    return pd.DataFrame(rows).set_index("configuration")


def comparison_table(
    trained: dict[str, list[TrainingResult]], scores: pd.DataFrame, measured: pd.DataFrame, rates: dict[str, float]
) -> pd.DataFrame:
    """One row per configuration: learning rate, parameters, saved size, speed, memory, and the mean and sample
    standard deviation over seeds of validation and test accuracy and macro F1."""
    rows = []
    for name, results in trained.items():
        row: dict[str, Any] = {
            "configuration": name,
            "learning rate": rates[name],
            "trainable parameters": int(measured.loc[name, "trainable"]),
            "share trained": measured.loc[name, "trainable"] / measured.loc[name, "total"],
            "saved MB": saved_size(Path(results[0].model_dir)) / 1e6,
            "samples per second": measured.loc[name, "samples per second"],
            "peak memory (MiB)": measured.loc[name, "peak memory (MiB)"],
            "seeds": len(results),
        }
        own = scores[scores["configuration"] == name]
        for split in ("validation", "test"):
            for metric in ("accuracy", "f1_macro"):
                row[f"{split} {metric} mean"], row[f"{split} {metric} sd"] = mean_sd(
                    own.loc[own["split"] == split, metric]
                )
        rows.append(row)
    return pd.DataFrame(rows).set_index("configuration")


def save_comparison(
    folder: Path,
    table: pd.DataFrame,
    choice: pd.DataFrame,
    scores: pd.DataFrame,
    profile: Profile,
    tokenizer: PreTrainedTokenizerBase,
) -> Path:
    """comparison.json: the table, the learning-rate choice, every seed's scores and what the methods trained
    (head modules, LoRA targets, the device), for the report."""
    model = build_model(profile, vocab_size=len(tokenizer))
    record = {
        "device": torch.device(best_device()).type,
        "model_type": model.config.model_type,
        "head_modules": head_modules(model),
        "lora_target_modules": target_modules(model, profile.lora_target_modules),
        "versus_full": json.loads(versus_full(table).reset_index().to_json(orient="records")),
        "table": json.loads(table.reset_index().to_json(orient="records")),
        "learning_rate_choice": json.loads(choice.to_json(orient="records")),
        "scores": json.loads(scores.to_json(orient="records")),
        "measured_steps": profile.peft_measured_steps,
        "skipped_steps": SKIPPED_STEPS,
        "ranks": list(profile.peft_ranks),
        "learning_rates": list(profile.peft_learning_rates),
        "seeds": profile.seeds,
    }
    path = folder / "comparison.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def versus_full(table: pd.DataFrame) -> pd.DataFrame:
    """Each other method against full fine-tuning: what it trains and saves, how fast and in how much memory it
    trains, and the points it gives up (negative) or gains. Its validation means include the run that chose its
    learning rate on validation, which full fine-tuning did not; test chose nothing."""
    full = table.loc[FULL_FINE_TUNING]
    others = table.drop(index=FULL_FINE_TUNING)

    def points(column: str) -> pd.Series:
        return 100 * (others[column] - full[column])

    return pd.DataFrame(
        {
            "share of weights trained": others["share trained"],
            "saved size, share of full": others["saved MB"] / full["saved MB"],
            "training speed, times full": others["samples per second"] / full["samples per second"],
            "peak memory, MiB more than full": others["peak memory (MiB)"] - full["peak memory (MiB)"],
            "validation macro F1, points": points("validation f1_macro mean"),
            "validation accuracy, points": points("validation accuracy mean"),
            "test macro F1, points": points("test f1_macro mean"),
            "test accuracy, points": points("test accuracy mean"),
        }
    )
