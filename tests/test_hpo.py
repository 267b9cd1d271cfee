"""The Optuna search maximises validation weighted F1 and resumes with its finished trials."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from datasets import DatasetDict

from helpers.hpo import finished_trials, open_study, run_search, save_search_summary
from helpers.modeling import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.training import tokenize_splits


@pytest.fixture(scope="module")
def setting(easy_data: DatasetDict):
    cfg = resolve_profile("smoke", hpo_trials=2, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5)
    tokenizer = load_tokenizer(cfg)
    return cfg, tokenizer, tokenize_splits(easy_data, tokenizer, cfg.max_length)


def test_search_resumes_with_finished_trials(setting, tmp_path: Path) -> None:
    cfg, tokenizer, tokenized = setting
    study = run_search(cfg, tokenized, tokenizer, tmp_path)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    first = [(t.number, t.params, t.value) for t in study.trials]
    assert len(first) == 2

    more = resolve_profile("smoke", hpo_trials=3, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5)
    resumed = run_search(more, tokenized, tokenizer, tmp_path)
    assert [(t.number, t.params, t.value) for t in resumed.trials][:2] == first
    assert finished_trials(resumed) == 3
    summary = save_search_summary(resumed, more, tmp_path)
    assert '"direction": "maximize"' in summary.read_text()


def test_trial_left_running_is_failed_and_queued_again(setting, tmp_path: Path) -> None:
    cfg, _, _ = setting
    study = open_study(cfg, tmp_path)
    orphan = study.ask()
    orphan_params = {"learning_rate": orphan.suggest_float("learning_rate", 1e-4, 1e-3, log=True)}

    reopened = open_study(cfg, tmp_path)  # as a restarted process would
    states = {t.number: t.state for t in reopened.trials}
    assert states[orphan.number] == optuna.trial.TrialState.FAIL
    queued = [t for t in reopened.trials if t.state == optuna.trial.TrialState.WAITING]
    assert [t.system_attrs["fixed_params"] for t in queued] == [orphan_params]
