"""Fine-tuning with the `Trainer`: dynamic padding, per-epoch evaluation, best checkpoint, resume.

Texts average ~22 tokens, so batches are padded only to their longest member and built from texts
of similar length (`group_by_length`); padding every text to 128 tokens, as the seed recipe did,
spends most of the compute on padding.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from datasets import DatasetDict
from transformers import (
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import get_last_checkpoint

from helpers.metrics import trainer_metrics
from helpers.modeling import build_model
from helpers.notebook import show_progress
from helpers.profiles import Profile

SELECTION_METRIC = "f1_weighted"


class EpochReport(TrainerCallback):
    """One printed line per evaluation: all the progress a headless run shows, since the Trainer's own bar is
    drawn only where someone watches (`helpers.notebook.show_progress`)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float], **kwargs: Any) -> None:
        minutes = (time.perf_counter() - self.started) / 60
        print(
            f"epoch {state.epoch:g}/{args.num_train_epochs:g}: validation loss {metrics['eval_loss']:.4f}, "
            f"accuracy {metrics['eval_accuracy']:.4f}, weighted F1 {metrics[f'eval_{SELECTION_METRIC}']:.4f} "
            f"({minutes:.1f} min)",
            flush=True,
        )


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


def tokenize_splits(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int) -> DatasetDict:
    """Token ids per text, truncated to `max_length` and left unpadded (the collator pads per batch)."""

    def encode(batch: dict[str, list]) -> dict[str, list]:
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return data.map(encode, batched=True, remove_columns=["text"], desc="tokenize")


def _training_arguments(
    profile: Profile, output_dir: Path, learning_rate: float, batch_size: int, epochs: int, keep_model: bool
) -> TrainingArguments:
    """The profile's recipe as `TrainingArguments`; the Trainer's own progress bar only where someone watches."""
    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size,
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
        fp16=profile.fp16,
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


def _reusable_checkpoint(output_dir: Path, run_config: dict[str, Any]) -> str | None:
    """The last checkpoint of an interrupted run with the same configuration, else None.

    Checkpoints of a different configuration are deleted: resuming them would silently mix runs.
    """
    config_path = output_dir / "run_config.json"
    checkpoint = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    same = config_path.is_file() and json.loads(config_path.read_text()) == json.loads(json.dumps(run_config))
    if checkpoint and same:
        return checkpoint
    for stale in output_dir.glob("checkpoint-*"):
        shutil.rmtree(stale)
    return None


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

    Hyperparameters default to the profile's (the seed report's recipe). With `keep_model`, the
    best epoch's model and tokenizer are saved to `output_dir/model` with the log history and the
    configuration; a run interrupted mid-way resumes from its last checkpoint when called again.
    Without it (search trials), nothing is written but the scores.
    """
    hyperparameters = {
        "learning_rate": learning_rate if learning_rate is not None else profile.learning_rate,
        "batch_size": batch_size if batch_size is not None else profile.batch_size,
        "epochs": epochs if epochs is not None else profile.epochs,
        "weight_decay": profile.weight_decay,
        "warmup_ratio": profile.warmup_ratio,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    run_config = {
        "profile": profile.to_dict(),
        "hyperparameters": hyperparameters,
        "train_rows": len(tokenized["train"]),
        "validation_rows": len(tokenized["validation"]),
    }
    resume = _reusable_checkpoint(output_dir, run_config) if keep_model else None
    if keep_model:
        (output_dir / "run_config.json").write_text(json.dumps(run_config, indent=2) + "\n")

    args = _training_arguments(
        profile,
        output_dir,
        hyperparameters["learning_rate"],
        hyperparameters["batch_size"],
        hyperparameters["epochs"],
        keep_model,
    )
    trainer = Trainer(
        model=build_model(profile, vocab_size=len(tokenizer)),
        args=args,
        data_collator=DataCollatorWithPadding(tokenizer),
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        processing_class=tokenizer,
        compute_metrics=trainer_metrics,
        callbacks=[EpochReport(), *callbacks],
    )
    trainer.remove_callback(PrinterCallback)  # the log history is saved and plotted instead
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - started

    history = trainer.state.log_history
    epochs_validation = _epoch_rows(history)
    best = max(epochs_validation, key=lambda row: row[SELECTION_METRIC])
    result = TrainingResult(
        hyperparameters=hyperparameters,
        best_validation={k: v for k, v in best.items() if k != "epoch"},
        best_epoch=best["epoch"],
        log_history=history,
        train_seconds=seconds,
        resumed_from=resume,
        epochs_validation=epochs_validation,
    )
    if keep_model:
        result.model_dir = output_dir / "model"
        trainer.save_model(str(result.model_dir))
        profile.save(output_dir)
        (output_dir / "training_result.json").write_text(
            json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in result.__dict__.items()}, indent=2) + "\n"
        )
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint)
    return result


def load_training_result(output_dir: Path) -> dict[str, Any]:
    """The saved summary of a finished `train_classifier` run."""
    path = output_dir / "training_result.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no finished training run here; run its notebook first")
    return json.loads(path.read_text())
