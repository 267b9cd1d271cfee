"""Real (tiny) fine-tuning: the loss falls, the model beats the majority class, runs resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import DatasetDict
from transformers import AutoConfig, TrainerCallback

from helpers import LABEL_NAMES
from helpers.modeling import build_model, load_tokenizer
from helpers.profiles import resolve_profile
from helpers.training import load_training_result, tokenize_splits, train_classifier


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


def test_fresh_model_is_seeded(cfg, tokenizer) -> None:
    first, second = (build_model(cfg, len(tokenizer)) for _ in range(2))
    assert all((a == b).all() for a, b in zip(first.parameters(), second.parameters(), strict=True))


class Interrupt(TrainerCallback):
    """Stop the process the way a closed laptop would: right after the first checkpoint is written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


def test_interrupted_finetune_resumes_from_checkpoint(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, callbacks=[Interrupt()])
    checkpoints = sorted(folder.glob("checkpoint-*"))
    assert len(checkpoints) == 1
    result = train_classifier(cfg, tokenized, tokenizer, folder, epochs=2)
    assert result.resumed_from == str(checkpoints[0])
    assert [row["epoch"] for row in result.epochs_validation] == [1.0, 2.0]
    assert result.model_dir.is_dir()


def test_checkpoint_of_another_configuration_is_not_resumed(cfg, tokenizer, tokenized: DatasetDict, tmp_path: Path):
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, callbacks=[Interrupt()])
    result = train_classifier(cfg, tokenized, tokenizer, folder, epochs=2, learning_rate=1e-3)
    assert result.resumed_from is None
