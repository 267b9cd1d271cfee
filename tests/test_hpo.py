"""The Optuna search maximises validation weighted F1 and resumes with its finished trials."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from datasets import DatasetDict

from helpers.hpo import (
    finished_trials,
    open_study,
    run_search,
    save_search_summary,
    search_identity,
    trial_data_for,
)
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
    cfg, tokenizer, tokenized = setting
    identity = search_identity(cfg, trial_data_for(cfg, tokenized), tokenizer)
    study = open_study(cfg, tmp_path, identity)
    orphan = study.ask()
    orphan_params = {"learning_rate": orphan.suggest_float("learning_rate", 1e-4, 1e-3, log=True)}

    reopened = open_study(cfg, tmp_path, identity)  # as a restarted process would
    states = {t.number: t.state for t in reopened.trials}
    assert states[orphan.number] == optuna.trial.TrialState.FAIL
    queued = [t for t in reopened.trials if t.state == optuna.trial.TrialState.WAITING]
    assert [t.system_attrs["fixed_params"] for t in queued] == [orphan_params]


def smoke(**changes):
    settings = dict(hpo_trials=2, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5) | changes
    return resolve_profile("smoke", **settings)


@pytest.mark.parametrize(
    "change",
    [
        {"hpo_batch_sizes": (16,)},  # a changed search space
        {"hpo_lr_min": 5e-4},
        {"model_name_or_path": "tiny-random-bert", "seed": 3},  # a changed model seed
        {"hpo_train_size": 120},  # a changed subset
    ],
)
def test_changed_search_starts_a_new_study_beside_the_old(setting, tmp_path: Path, change) -> None:
    _, tokenizer, tokenized = setting
    old = run_search(smoke(), tokenized, tokenizer, tmp_path)
    new = run_search(smoke(**change), tokenized, tokenizer, tmp_path)
    assert new.study_name != old.study_name
    assert len(new.trials) == 2 and finished_trials(new) == 2  # its own trials, none of the old ones
    assert {t.datetime_start for t in new.trials}.isdisjoint({t.datetime_start for t in old.trials})
    if "hpo_batch_sizes" in change:
        assert {t.params["batch_size"] for t in new.trials} == {16}
    names = optuna.get_all_study_names(f"sqlite:///{tmp_path / 'study.db'}")
    assert sorted(names) == sorted([old.study_name, new.study_name])  # the old search is kept, whole
    assert new.user_attrs["identity"]["kind"] == "search" and new.user_attrs["fingerprint"] in new.study_name


def test_changed_data_starts_a_new_study(setting, tmp_path: Path, easy_data: DatasetDict) -> None:
    cfg, tokenizer, tokenized = setting
    old = run_search(cfg, tokenized, tokenizer, tmp_path)
    relabelled = easy_data["validation"].map(lambda row: {"label": (row["label"] + 1) % 6})
    changed = tokenize_splits(DatasetDict({"train": easy_data["train"], "validation": relabelled}), tokenizer, 64)
    new = run_search(cfg, changed, tokenizer, tmp_path)
    assert new.study_name != old.study_name and len(new.trials) == 2
