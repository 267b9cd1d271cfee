"""Fine-tuning with the `Trainer`: dynamic padding, per-epoch evaluation, best checkpoint, resume.

Texts average ~22 tokens, so batches are padded only to their longest member and built from texts
of similar length (`group_by_length`); padding every text to 128 tokens, as the seed recipe did,
spends most of the compute on padding.

A run may span several processes (`torchrun` or `accelerate launch` of `helpers.training.launch`: PyTorch's distributed
data parallel through the Trainer, gloo on a CPU). The batch size is then the global one, what each optimizer
step sees, split evenly over the processes, so that a configuration means the same on one device or eight; the
main process alone prepares, writes and publishes the run folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from datasets import DatasetDict
from filelock import FileLock, Timeout
from transformers import (
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
    PrinterCallback,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import get_last_checkpoint

from helpers.data.fingerprints import data_hashes, differences
from helpers.hardware import best_device, machine_info, resolve_mixed_precision
from helpers.metrics import HEADLINE, format_mean_sd, mean_sd, trainer_metrics
from helpers.models.building import build_model
from helpers.models.methods import LORA_SETTINGS, apply_method, parameter_counts, save_base_record
from helpers.notebook import show_progress
from helpers.paths import run_dir
from helpers.profiles import Profile
from helpers.training.evaluation_precision import EVALUATION_PRECISION, Float32EvaluationTrainer
from helpers.training.identity import fingerprint, tokenizer_identity
from helpers.training.progress import EpochReport
from helpers.training.workers import run_jobs

SELECTION_METRIC = "f1_weighted"


@dataclass
class TrainingResult:
    """What a fine-tune produced: the saved model (if kept), its scores and its log history."""

    hyperparameters: dict[str, Any]
    best_validation: dict[str, float]
    best_epoch: float
    log_history: list[dict[str, Any]]
    train_seconds: float
    model_dir: Path | None = None
    resumed_from: str | None = None
    epochs_validation: list[dict[str, float]] = field(default_factory=list)
    fingerprint: str | None = None
    seed: int | None = None
    reused: bool = False
    """True when a finished run of the same fingerprint was found and returned instead of training again."""
    parameters: dict[str, int] = field(default_factory=dict)
    """Trainable and total parameters of the trained model (see `helpers.models.methods.parameter_counts`)."""


def tokenize_splits(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int) -> DatasetDict:
    """Token ids per text, truncated to `max_length` and left unpadded (the collator pads per batch).

    The texts stay beside the ids, so a run's fingerprint covers the data's content; the `Trainer` drops the
    column before batching, since the model takes no argument of that name."""

    def encode(batch: dict[str, list]) -> dict[str, list]:
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return data.map(encode, batched=True, desc="tokenize")


def processes() -> int:
    """How many processes train this run together: `$WORLD_SIZE`, as `torchrun` and `accelerate launch` set it."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def training_arguments(
    profile: Profile, output_dir: Path, learning_rate: float, batch_size: int, epochs: int, keep_model: bool
) -> TrainingArguments:
    """The profile's recipe as `TrainingArguments`; the Trainer's own progress bar only where someone watches.

    `batch_size` is the global batch, split evenly over the processes of a distributed run."""
    device = best_device()
    precision = resolve_mixed_precision(profile.mixed_precision, device)
    world = processes()
    if batch_size % world:
        raise ValueError(f"batch size {batch_size} does not split evenly over {world} processes")
    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size // world,
        per_device_eval_batch_size=profile.eval_batch_size,
        num_train_epochs=epochs,
        weight_decay=profile.weight_decay,
        warmup_steps=profile.warmup_ratio,  # transformers 5: a value below 1 is a ratio of all steps
        eval_strategy="epoch",
        save_strategy="epoch" if keep_model else "no",
        save_total_limit=2 if keep_model else None,
        load_best_model_at_end=keep_model,
        metric_for_best_model=SELECTION_METRIC,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=profile.logging_steps,
        train_sampling_strategy="group_by_length",
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        use_cpu=device == "cpu",  # honours $EMOTION_DEVICE=cpu on a GPU machine
        ddp_backend="gloo" if device == "cpu" and world > 1 else None,  # CPU processes; GPUs get NCCL
        ddp_find_unused_parameters=False,  # every parameter of these classifiers takes part in the loss
        # The classifiers' loss is already a mean over the batch: averaging "tokens" across processes would
        # multiply it, and its gradients, by the number of processes.
        average_tokens_across_devices=False,
        seed=profile.seed,
        data_seed=profile.seed,
        report_to="none",
        disable_tqdm=not show_progress(),
        dataloader_pin_memory=torch.cuda.is_available(),
    )


def _epoch_rows(log_history: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """The validation metrics logged at the end of each epoch, without the `eval_` prefix."""
    rows = []
    for entry in log_history:
        if "eval_loss" in entry:
            row = {key.removeprefix("eval_"): value for key, value in entry.items() if key.startswith("eval_")}
            row["epoch"] = entry["epoch"]
            rows.append(row)
    return rows


RUN_RECORD = "run_config.json"
"""Written last into a finished run folder: the run's identity and fingerprint."""
NOT_TRAINING = (
    "name",
    "bootstrap_resamples",
    "logging_steps",
    "seeds",
    "workers",
    "peft_learning_rates",
    "peft_ranks",
    "peft_measured_steps",
)
"""Profile settings that cannot change what a training run learns, left out of its fingerprint (with the search's
`hpo_*` settings, and the LoRA settings of runs of another method)."""


class RunMismatchError(ValueError):
    """A saved run does not belong to the configuration or data that asked for it."""


def training_identity(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, hyperparameters: dict[str, Any]
) -> dict[str, Any]:
    """Everything that defines a training run: model, tokenizer, data content, settings, seed, the device kind
    and precision it trains in (a run resumed on a GPU in bf16 is not the CPU's float32 run), and the precision
    its validation scores, which choose its best epoch, are computed in. A run in several processes records how
    many: each shuffles and drops out on its own share of the batch, so its numbers differ from one process's
    (left out for one, so single-process fingerprints stay as they were). The
    training method and its LoRA settings enter only when they apply: a full fine-tune's fingerprint is the one it
    had before there were other methods."""
    ignored = (*NOT_TRAINING, *(LORA_SETTINGS if profile.method != "lora" else ()))
    settings = {
        k: v for k, v in profile.to_dict().items() if k not in ignored and not k.startswith(("hpo_", "robust_"))
    }
    if profile.method == "full":
        del settings["method"]
    device = best_device()
    settings["device"] = torch.device(device).type
    settings["precision"] = resolve_mixed_precision(profile.mixed_precision, device)
    settings["evaluation_precision"] = EVALUATION_PRECISION  # validation scores choose the best epoch
    if processes() > 1:
        settings["processes"] = processes()
    return {
        "kind": "finetune",
        "model": profile.model_name_or_path,
        "tokenizer": tokenizer_identity(tokenizer),
        "data": data_hashes(tokenized),
        "rows": {split: len(tokenized[split]) for split in ("train", "validation")},
        "settings": settings,
        "hyperparameters": hyperparameters,
    }


def _partial_dir(output_dir: Path, run_fingerprint: str) -> Path:
    """Where a run is written until it has finished; the name carries its fingerprint."""
    return output_dir.parent / f".{output_dir.name}.partial-{run_fingerprint}"


def _read_record(folder: Path) -> dict[str, Any] | None:
    """The run record of a finished run; None where there is none, or one written before runs had fingerprints
    (such a folder is replaced like a run of another configuration and never loaded)."""
    path = folder / RUN_RECORD
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    return record if isinstance(record, dict) and "fingerprint" in record else None


def _prepare_run(output_dir: Path, identity: dict[str, Any], run_fingerprint: str) -> None:
    """Make the working folder of this run, keeping the checkpoints of an interrupted run of the same fingerprint.
    Partial runs of other fingerprints are deleted; a finished run of another fingerprint is moved to
    `<name>.previous` at once, so that nothing downstream loads it while this one trains."""
    work = _partial_dir(output_dir, run_fingerprint)
    for stale in output_dir.parent.glob(f".{output_dir.name}.partial-*"):
        if stale != work:
            print(f"removing {stale.name}: an unfinished run of another configuration", flush=True)
            shutil.rmtree(stale)
    published = _read_record(output_dir)
    unrecorded_run = published is None and (
        (output_dir / "model").exists() or (output_dir / "training_result.json").exists()
    )
    if unrecorded_run or (published is not None and published["fingerprint"] != run_fingerprint):
        previous = output_dir.with_name(f"{output_dir.name}.previous")
        changed = "; ".join(differences(published["identity"], identity)[:6]) if published else "no fingerprint"
        print(f"{output_dir.name}: configuration changed ({changed}); old run moved to {previous.name}", flush=True)
        shutil.rmtree(previous, ignore_errors=True)
        output_dir.rename(previous)
    work.mkdir(parents=True, exist_ok=True)


def _publish(work: Path, output_dir: Path) -> None:
    """Move a finished run into place in two renames: the folder never holds a mix of two runs."""
    old = output_dir.with_name(f".{output_dir.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    if output_dir.exists():
        output_dir.rename(old)
    work.rename(output_dir)
    shutil.rmtree(old, ignore_errors=True)


def train_classifier(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    output_dir: Path,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    epochs: int | None = None,
    keep_model: bool = True,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainingResult:
    """Fine-tune a fresh model for `profile` on `tokenized["train"]`, selecting on validation.

    Hyperparameters default to the profile's (the seed report's recipe). With `keep_model`, the run is
    written to a working folder named by its fingerprint (`training_identity`) and moved to `output_dir`
    only when finished, with the best epoch's model and tokenizer in `model/`, the log history and the
    identity; an interrupted run resumes from its last checkpoint when called again with the same
    fingerprint, and never from another's. Without it (search trials), nothing is written but the scores.
    """
    hyperparameters = {
        "learning_rate": learning_rate if learning_rate is not None else profile.learning_rate,
        "batch_size": batch_size if batch_size is not None else profile.batch_size,
        "epochs": epochs if epochs is not None else profile.epochs,
        "weight_decay": profile.weight_decay,
        "warmup_ratio": profile.warmup_ratio,
    }
    identity = training_identity(profile, tokenized, tokenizer, hyperparameters)
    run_fingerprint = fingerprint(identity)
    recipe = (hyperparameters["learning_rate"], hyperparameters["batch_size"], hyperparameters["epochs"])
    if not keep_model:
        args = training_arguments(profile, output_dir, *recipe, keep_model=False)
        return _train(profile, tokenized, tokenizer, args, hyperparameters, callbacks, run_fingerprint)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    work = _partial_dir(output_dir, run_fingerprint)
    args = training_arguments(profile, work, *recipe, keep_model=True)
    with ExitStack() as held:
        # The main process first: it alone moves and deletes folders; the others then find what it prepared.
        with args.main_process_first(local=False, desc="preparing the run folder"):
            if args.should_save:
                held.callback(_run_lock(output_dir).release)
                finished = _read_record(output_dir)
                if finished is None or finished["fingerprint"] != run_fingerprint:
                    _prepare_run(output_dir, identity, run_fingerprint)
        finished = _read_record(output_dir)
        if finished is not None and finished["fingerprint"] == run_fingerprint:
            return _finished_result(output_dir)
        resume = get_last_checkpoint(str(work))
        result = _train(profile, tokenized, tokenizer, args, hyperparameters, callbacks, run_fingerprint, resume)
        result.model_dir = output_dir / "model"
        if args.should_save:
            profile.save(work)
            record = {k: (str(v) if isinstance(v, Path) else v) for k, v in result.__dict__.items()}
            (work / "training_result.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            run_record = {"fingerprint": run_fingerprint, "identity": identity, "machine": machine_info()}
            (work / RUN_RECORD).write_text(json.dumps(run_record, indent=2) + "\n", encoding="utf-8")
            _publish(work, output_dir)
    return result


def _run_lock(output_dir: Path) -> FileLock:
    """Held while a run trains: two processes (a notebook and `make report`, two Colab runtimes on one Drive)
    never share a run folder."""
    lock = FileLock(output_dir.parent / f".{output_dir.name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RuntimeError(f"{output_dir}: another process is training into this folder; wait for it") from None
    return lock


def _finished_result(output_dir: Path) -> TrainingResult:
    """The saved result of a finished run of the asked-for fingerprint: the same run, so not trained again."""
    saved = json.loads((output_dir / "training_result.json").read_text(encoding="utf-8"))
    saved["model_dir"] = output_dir / "model"
    print(f"{output_dir.name}: run {saved['fingerprint']} already finished; reusing it", flush=True)
    return TrainingResult(**{**saved, "reused": True})


def seeds_of(profile: Profile) -> list[int]:
    """The seeds every compared configuration trains with: the profile's seed and the next `profile.seeds - 1`."""
    return [profile.seed + offset for offset in range(profile.seeds)]


def seed_run_dir(profile: Profile, kind: str, seed: int) -> Path:
    """`runs/<profile>/<kind>` for the profile's own seed (the run the demo, CLI and bench use), else
    `runs/<profile>/<kind>-seed<seed>`."""
    return run_dir(profile.name, kind if seed == profile.seed else f"{kind}-seed{seed}")


def train_job(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    output_dir: Path,
    seed: int,
    hyperparameters: dict[str, Any],
) -> TrainingResult:
    """One kept run with `seed` and `hyperparameters` (learning_rate, batch_size, epochs): a worker's job."""
    return train_classifier(replace(profile, seed=seed), tokenized, tokenizer, output_dir, **hyperparameters)


def train_seeds(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    kind: str,
    hyperparameters: dict[str, Any],
    extra_jobs: Sequence[dict[str, Any]] = (),
) -> tuple[list[TrainingResult], list[TrainingResult]]:
    """One configuration trained with every seed of `seeds_of(profile)` into `seed_run_dir`, in parallel workers,
    plus `extra_jobs` (other `train_job` arguments) sharing the same workers; finished runs are reused."""
    jobs = [
        {
            "profile": profile,
            "tokenized": tokenized,
            "tokenizer": tokenizer,
            "output_dir": seed_run_dir(profile, kind, seed),
            "seed": seed,
            "hyperparameters": hyperparameters,
        }
        for seed in seeds_of(profile)
    ]
    jobs += [{"profile": profile, "tokenized": tokenized, "tokenizer": tokenizer, **job} for job in extra_jobs]
    results = run_jobs(
        train_job, jobs, profile.workers, describe=lambda job: f"{job['output_dir'].name}, seed {job['seed']}"
    )
    return results[: profile.seeds], results[profile.seeds :]


def seed_table(results: Sequence[TrainingResult]) -> pd.DataFrame:
    """Each seed's best validation scores, then their mean and (with two seeds or more) sample standard deviation."""
    rows = pd.DataFrame(
        {
            f"seed {result.seed}": {
                **{metric: result.best_validation[metric] for metric in (*HEADLINE, "loss")},
                "best epoch": result.best_epoch,
                "minutes": result.train_seconds / 60,
            }
            for result in results
        }
    ).T
    spread = {column: mean_sd(rows[column]) for column in rows}
    summary = {"mean": {column: mean for column, (mean, _) in spread.items()}}
    if len(results) > 1:  # one seed has no spread: no sd row rather than a row of blanks
        summary["sd"] = {column: sd for column, (_, sd) in spread.items()}
    return pd.concat([rows, pd.DataFrame(summary).T]).round(4)


def validation_mean_sd(validations: Sequence[dict[str, float]]) -> dict[str, str]:
    """The headline metrics and loss over seeds, as "mean ± sample standard deviation" (the mean alone for one)."""
    return {
        metric: format_mean_sd(*mean_sd([validation[metric] for validation in validations]))
        for metric in (*HEADLINE, "loss")
    }


def _train(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    args: TrainingArguments,
    hyperparameters: dict[str, Any],
    callbacks: Sequence[TrainerCallback],
    run_fingerprint: str,
    resume: str | bool | None = False,
) -> TrainingResult:
    """One Trainer run in `args.output_dir`. With `resume` a checkpoint path or None, the run is kept: checkpoints
    each epoch, the best epoch's model saved to `model/` (by the main process); with False (search trials)
    nothing is saved."""
    keep_model = resume is not False
    work = Path(args.output_dir)
    model = build_model(profile, vocab_size=len(tokenizer))
    if keep_model and args.should_save and profile.method == "lora":  # an adapter is saved without its base
        save_base_record(model, profile, work / "model")
    model = apply_method(model, profile)
    trainer = Float32EvaluationTrainer(
        model=model,
        args=args,
        data_collator=DataCollatorWithPadding(tokenizer),
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        processing_class=tokenizer,
        compute_metrics=trainer_metrics,
        callbacks=[EpochReport(SELECTION_METRIC), *callbacks],
    )
    trainer.remove_callback(PrinterCallback)  # the log history is saved and plotted instead
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume or None)
    seconds = time.perf_counter() - started

    history = trainer.state.log_history
    epochs_validation = _epoch_rows(history)
    best = max(epochs_validation, key=lambda row: row[SELECTION_METRIC])
    if keep_model:
        trainer.save_model(str(work / "model"))  # written by the main process only
        if args.should_save:
            for checkpoint in work.glob("checkpoint-*"):
                shutil.rmtree(checkpoint)
    return TrainingResult(
        seed=profile.seed,
        hyperparameters=hyperparameters,
        best_validation={k: v for k, v in best.items() if k != "epoch"},
        best_epoch=best["epoch"],
        log_history=history,
        train_seconds=seconds,
        resumed_from=resume or None,
        epochs_validation=epochs_validation,
        fingerprint=run_fingerprint,
        parameters=parameter_counts(model),
    )


def load_training_result(output_dir: Path, data: DatasetDict | None = None) -> dict[str, Any]:
    """The saved summary of a finished `train_classifier` run, with its `fingerprint` and `identity`.

    With `data`, the run must have been trained and selected on exactly these train and validation texts
    and labels; a run of other data raises `RunMismatchError` naming what differs.
    """
    record = _read_record(output_dir)
    path = output_dir / "training_result.json"
    if record is None or not path.is_file():
        raise FileNotFoundError(
            f"{output_dir}: no finished training run here (or one from before runs had fingerprints); "
            "run its notebook first"
        )
    if data is not None:
        expected = data_hashes(data)
        if record["identity"]["data"] != expected:
            raise RunMismatchError(
                f"{output_dir}: run {record['fingerprint']} was trained on other data than this notebook loaded "
                f"({'; '.join(differences(record['identity']['data'], expected))}); re-run the notebook that "
                "trains it with the same profile and data"
            )
    return {**json.loads(path.read_text(encoding="utf-8")), **record}


def describe_run(run: dict[str, Any]) -> str:
    """One line naming a loaded run: its fingerprint, model, hyperparameters and data size."""
    identity = run["identity"]
    hp = identity["hyperparameters"]
    return (
        f"run {run['fingerprint']}: {identity['model']}, lr {hp['learning_rate']:g}, batch {hp['batch_size']}, "
        f"{hp['epochs']} epochs, seed {identity['settings']['seed']}, {identity['rows']['train']:,} training rows"
    )
