"""Real (tiny) fine-tuning: the loss falls, the model beats the majority class, runs resume."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict
from filelock import FileLock
from transformers import AutoConfig, DataCollatorWithPadding, Trainer, TrainerCallback

from helpers import LABEL_NAMES
from helpers.models.building import build_model, load_tokenizer
from helpers.profiles import resolve_profile
from helpers.training.evaluation_precision import EVALUATION_PRECISION, Float32EvaluationTrainer
from helpers.training.finetune import (
    RunMismatchError,
    load_training_result,
    tokenize_splits,
    train_classifier,
    training_arguments,
    training_identity,
)
from helpers.training.identity import fingerprint


@pytest.fixture(scope="module")
def cfg():
    return resolve_profile("smoke", epochs=12, batch_size=16, learning_rate=2e-3, logging_steps=5)


@pytest.fixture(scope="module")
def tokenizer(cfg):
    return load_tokenizer(cfg)


@pytest.fixture(scope="module")
def tokenized(easy_data: DatasetDict, tokenizer, cfg) -> DatasetDict:
    return tokenize_splits(easy_data, tokenizer, cfg.max_length)


def test_training_lowers_loss_and_beats_majority(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    result = train_classifier(cfg, tokenized, tokenizer, tmp_path / "run")
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert losses[-1] < 0.5 * losses[0], losses
    majority = 1 / len(LABEL_NAMES)  # the easy set is balanced
    assert result.best_validation["accuracy"] > majority + 0.4, result.best_validation
    assert len(result.epochs_validation) == cfg.epochs


def test_saved_model_names_the_emotions(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    result = train_classifier(cfg, tokenized, tokenizer, tmp_path / "run", epochs=1)
    config = AutoConfig.from_pretrained(result.model_dir)
    assert [config.id2label[i] for i in range(6)] == list(LABEL_NAMES)
    assert config.label2id == {name: i for i, name in enumerate(LABEL_NAMES)}
    saved = load_training_result(tmp_path / "run")
    assert saved["hyperparameters"]["epochs"] == 1 and not list((tmp_path / "run").glob("checkpoint-*"))
    assert saved["machine"]["cpu_model"] and saved["identity"]["tokenizer"]["vocab_size"] == len(tokenizer)


def test_fresh_model_is_seeded(cfg, tokenizer) -> None:
    first, second = (build_model(cfg, len(tokenizer)) for _ in range(2))
    assert all((a == b).all() for a, b in zip(first.parameters(), second.parameters(), strict=True))


class Interrupt(TrainerCallback):
    """Stop the process the way a closed laptop would: right after the first checkpoint is written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


def partials(folder: Path) -> list[Path]:
    return sorted(folder.parent.glob(f".{folder.name}.partial-*"))


def test_interrupted_finetune_resumes_from_checkpoint(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, callbacks=[Interrupt()])
    (partial,) = partials(folder)
    checkpoints = sorted(partial.glob("checkpoint-*"))
    assert len(checkpoints) == 1 and not folder.exists()  # nothing is published before the run finishes
    result = train_classifier(cfg, tokenized, tokenizer, folder, epochs=2)
    assert result.resumed_from == str(checkpoints[0])
    assert [row["epoch"] for row in result.epochs_validation] == [1.0, 2.0]
    assert result.model_dir == folder / "model" and result.model_dir.is_dir()
    assert not partials(folder) and not list(folder.glob("checkpoint-*"))


def test_checkpoint_of_another_configuration_is_not_resumed(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path):
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, callbacks=[Interrupt()])
    result = train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, learning_rate=1e-3)
    assert result.resumed_from is None and not partials(folder)
    assert load_training_result(folder)["hyperparameters"]["learning_rate"] == 1e-3


def test_crash_after_a_change_leaves_no_stale_run_to_load(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path):
    """A finished run, then a changed configuration that crashes: downstream must not find the old model."""
    folder = tmp_path / "run"
    first = train_classifier(cfg, tokenized, tokenizer, folder, epochs=1)
    assert load_training_result(folder)["fingerprint"] == first.fingerprint
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, callbacks=[Interrupt()])
    with pytest.raises(FileNotFoundError, match="no finished training run"):
        load_training_result(folder)
    assert not (folder / "model").exists()
    kept = load_training_result(folder.with_name("run.previous"))  # the old run is kept beside, whole
    assert kept["fingerprint"] == first.fingerprint and (folder.with_name("run.previous") / "model").is_dir()

    third = train_classifier(cfg, tokenized, tokenizer, folder, epochs=1, learning_rate=5e-4)
    assert third.resumed_from is None and len({first.fingerprint, third.fingerprint}) == 2
    assert load_training_result(folder)["fingerprint"] == third.fingerprint and not partials(folder)


def test_fingerprint_covers_data_model_and_seed(cfg, tokenizer, tokenized: DatasetDict, easy_data: DatasetDict):
    hyperparameters = {"learning_rate": 1e-3}
    base = fingerprint(training_identity(cfg, tokenized, tokenizer, hyperparameters))
    flipped = easy_data["train"].map(
        lambda row, i: {"label": (row["label"] + 1) % 6 if i == 0 else row["label"]}, with_indices=True
    )
    changed_data = DatasetDict({"train": flipped, "validation": easy_data["validation"]})
    other_model = resolve_profile("smoke", model_name_or_path="some/other-model")
    other_seed = resolve_profile("smoke", seed=7)
    assert base == fingerprint(training_identity(cfg, tokenized, tokenizer, hyperparameters))
    for variant in (
        training_identity(cfg, changed_data, tokenizer, hyperparameters),
        training_identity(other_model, tokenized, tokenizer, hyperparameters),
        training_identity(other_seed, tokenized, tokenizer, hyperparameters),
        training_identity(cfg, tokenized, tokenizer, {"learning_rate": 2e-3}),
    ):
        assert fingerprint(variant) != base


def test_run_of_other_data_is_refused_downstream(cfg, tokenizer, tokenized: DatasetDict, easy_data, tmp_path: Path):
    folder = tmp_path / "run"
    train_classifier(cfg, tokenized, tokenizer, folder, epochs=1)
    assert load_training_result(folder, easy_data)["identity"]["rows"]["train"] == len(easy_data["train"])
    fewer = DatasetDict({"train": easy_data["train"].select(range(100)), "validation": easy_data["validation"]})
    with pytest.raises(RunMismatchError, match="other data"):
        load_training_result(folder, fewer)


def test_two_processes_never_train_into_one_folder(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with FileLock(tmp_path / ".run.lock"), pytest.raises(RuntimeError, match="another process is training"):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=1)  # as a second process would find it
    assert not folder.exists() and not partials(folder)


def test_run_from_before_fingerprints_is_never_loaded(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "model").mkdir(parents=True)
    old_record = {"profile": cfg.to_dict(), "hyperparameters": {}, "train_rows": 1, "validation_rows": 1}
    (folder / "run_config.json").write_text(json.dumps(old_record), encoding="utf-8")
    (folder / "training_result.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="before runs had fingerprints"):
        load_training_result(folder)
    result = train_classifier(cfg, tokenized, tokenizer, folder, epochs=1)
    assert load_training_result(folder)["fingerprint"] == result.fingerprint
    assert (folder.with_name("run.previous") / "run_config.json").is_file()  # kept beside, never mixed in


def _validation_logits(trainer_class, precision: str, cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path):
    """The validation logits of one fixed, freshly built model, scored by `trainer_class` set up to train in
    `precision`."""
    profile = dataclasses.replace(cfg, mixed_precision=precision)
    args = training_arguments(profile, tmp_path / precision, 1e-3, 16, 1, keep_model=False)
    trainer = trainer_class(
        model=build_model(profile, vocab_size=len(tokenizer)),
        args=args,
        data_collator=DataCollatorWithPadding(tokenizer),
        eval_dataset=tokenized["validation"],
        processing_class=tokenizer,
    )
    return trainer.predict(tokenized["validation"]).predictions


def test_validation_scores_are_float32_whatever_the_training_precision(cfg, tokenizer, tokenized, tmp_path) -> None:
    float32 = _validation_logits(Trainer, "no", cfg, tokenizer, tokenized, tmp_path)
    plain_bf16 = _validation_logits(Trainer, "bf16", cfg, tokenizer, tokenized, tmp_path)
    ours_bf16 = _validation_logits(Float32EvaluationTrainer, "bf16", cfg, tokenizer, tokenized, tmp_path)
    assert np.abs(plain_bf16 - float32).max() > 1e-4, "a plain Trainer under bf16 should score in bf16 here"
    np.testing.assert_allclose(ours_bf16, float32, rtol=0, atol=1e-6)


def test_evaluation_precision_is_part_of_a_run(cfg, tokenizer, tokenized: DatasetDict) -> None:
    identity = training_identity(cfg, tokenized, tokenizer, {"learning_rate": 1e-3, "batch_size": 16, "epochs": 1})
    assert identity["settings"]["evaluation_precision"] == EVALUATION_PRECISION == "float32"
