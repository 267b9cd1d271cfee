"""Notebook 07: full fine-tuning, LoRA at a few ranks and the head alone, trained and measured alike.

Every method trains with the profile's recipe (batch size, epochs, seeds); only the learning rate differs.
LoRA and the head alone move few weights and need a higher rate than full fine-tuning, so each picks its
rate among `profile.peft_learning_rates` on validation with the profile's seed; the other seeds then train
at the chosen rate. LoRA's alpha is twice its rank at every rank, so its scale, and with it the rate that
suits it, stays the same across ranks. Full fine-tuning keeps the recipe of notebook 03, whose runs it reuses.

Speed and memory come from separate short runs, one method after the other in a fresh process each, with
every core: the seed runs share the cores between parallel workers, which would blur both.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import DatasetDict
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase, PrinterCallback, Trainer, TrainerCallback

from helpers.lora import apply_method, parameter_counts, saved_size
from helpers.metrics import classification_scores
from helpers.profiles import Profile
from helpers.training import SELECTION_METRIC, TrainingResult, seed_run_dir, seeds_of, train_job

FULL = "full fine-tuning"


def method_profile(profile: Profile, method: str, rank: int | None = None) -> Profile:
    """The profile a method trains with: LoRA at `rank` with alpha = 2 * rank."""
    if method == "lora":
        return replace(profile, method="lora", lora_rank=rank, lora_alpha=2 * rank)
    return replace(profile, method=method)


def configurations(profile: Profile) -> dict[str, Profile]:
    """The compared methods by name: full fine-tuning, LoRA at each of `profile.peft_ranks`, the head alone."""
    named = {FULL: method_profile(profile, "full")}
    for rank in profile.peft_ranks:
        named[f"LoRA r={rank}"] = method_profile(profile, "lora", rank)
    named["head only"] = method_profile(profile, "head")
    return named


def run_kind(profile: Profile, learning_rate: float | None = None) -> str:
    """The run folder of a configuration (`runs/<profile>/<kind>`): full fine-tuning shares notebook 03's."""
    if profile.method == "full":
        return "finetune"
    name = f"lora-r{profile.lora_rank}" if profile.method == "lora" else "head"
    return f"peft/{name}-lr{learning_rate:g}"


def _job(profile: Profile, tokenized: DatasetDict, tokenizer: Any, seed: int, learning_rate: float) -> dict:
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
    from helpers.workers import run_jobs

    chosen = {FULL: profile.learning_rate}
    jobs = [
        (name, _job(config, tokenized, tokenizer, profile.seed, rate))
        for name, config in configurations(profile).items()
        if name != FULL
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
    from helpers.workers import run_jobs

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
    from helpers.inference import batched_logits, load_model_folder

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
    """Times the steps after the first `skip`, which pay for warming up."""

    def __init__(self, skip: int) -> None:
        self.skip = skip
        self.started: float | None = None
        self.seconds = 0.0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.skip:
            self.started = time.perf_counter()
        elif state.global_step == state.max_steps and self.started is not None:
            self.seconds = time.perf_counter() - self.started


def measure_training(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, steps: int, skip: int
) -> dict[str, float]:
    """Training samples per second over `steps - skip` steps of `profile`'s method, and this process's peak
    resident memory. Meant for a fresh process (`measure_in_fresh_process`): the peak is the process's own."""
    with tempfile.TemporaryDirectory() as scratch:
        return _measure(profile, tokenized, tokenizer, steps, skip, Path(scratch))


def _measure(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, steps: int, skip: int, scratch: Path
) -> dict[str, float]:
    from helpers.modeling import build_model
    from helpers.training import training_arguments

    model = apply_method(build_model(profile, vocab_size=len(tokenizer)), profile)
    recipe = training_arguments(profile, scratch, profile.learning_rate, profile.batch_size, 1, keep_model=False)
    args = dataclasses.replace(recipe, max_steps=steps, logging_strategy="no", eval_strategy="no", disable_tqdm=True)
    watch = _Stopwatch(skip)
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
        "samples per second": (steps - skip) * profile.batch_size / watch.seconds,
        "peak memory (MiB)": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    skip: int = 10,
) -> pd.DataFrame:
    """Samples per second (over `profile.peft_measured_steps` steps, the first `skip` not counted), peak memory
    and parameters of every configuration, one after the other."""
    rows = []
    for name, config in configurations(profile).items():
        measured = measure_in_fresh_process(
            profile=replace(config, learning_rate=rates[name]),
            tokenized=tokenized,
            tokenizer=tokenizer,
            steps=profile.peft_measured_steps,
            skip=skip,
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
                values = own.loc[own["split"] == split, metric]
                row[f"{split} {metric} mean"] = values.mean()
                row[f"{split} {metric} sd"] = values.std()
        rows.append(row)
    return pd.DataFrame(rows).set_index("configuration")


def save_comparison(
    folder: Path,
    table: pd.DataFrame,
    choice: pd.DataFrame,
    scores: pd.DataFrame,
    profile: Profile,
) -> Path:
    """comparison.json: the table, the learning-rate choice and every seed's scores, for the report."""
    record = {
        "table": json.loads(table.reset_index().to_json(orient="records")),
        "learning_rate_choice": json.loads(choice.to_json(orient="records")),
        "scores": json.loads(scores.to_json(orient="records")),
        "measured_steps": profile.peft_measured_steps,
        "ranks": list(profile.peft_ranks),
        "learning_rates": list(profile.peft_learning_rates),
        "seeds": profile.seeds,
    }
    path = folder / "comparison.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def versus_full(table: pd.DataFrame) -> pd.DataFrame:
    """Each other method against full fine-tuning: what it trains and saves, how fast and in how much memory it
    trains, and the validation points it gives up (negative) or gains."""
    full = table.loc[FULL]
    others = table.drop(index=FULL)

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
        }
    )
