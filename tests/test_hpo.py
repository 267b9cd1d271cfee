"""The Optuna search maximises validation weighted F1, resumes with its finished trials, covers its space, prunes
like with like, and shares its study between parallel workers without losing or repeating a trial."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from datasets import DatasetDict
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from helpers.models.building import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.search.study import (
    PruningCallback,
    _claim,
    covering_trials,
    finished_trials,
    open_study,
    run_search,
    schedule_step,
    search_identity,
    search_worker,
    trial_data_for,
)
from helpers.search.summary import dimension_coverage, ranked_trials, save_search_summary
from helpers.training.finetune import tokenize_splits


@pytest.fixture(scope="module")
def setting(easy_data: DatasetDict):
    cfg = resolve_profile("smoke", hpo_trials=2, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5, workers=1)
    tokenizer = load_tokenizer(cfg)
    return cfg, tokenizer, tokenize_splits(easy_data, tokenizer, cfg.max_length)


def test_search_resumes_with_finished_trials(setting, tmp_path: Path) -> None:
    cfg, tokenizer, tokenized = setting
    study = run_search(cfg, tokenized, tokenizer, tmp_path)
    first = [(t.number, t.params, t.value) for t in study.trials]
    assert len(first) == 2

    more = resolve_profile("smoke", hpo_trials=3, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5, workers=1)
    resumed = run_search(more, tokenized, tokenizer, tmp_path)
    assert [(t.number, t.params, t.value) for t in resumed.trials][:2] == first
    assert finished_trials(resumed) == 3
    summary = json.loads(save_search_summary(resumed, more, tmp_path).read_text(encoding="utf-8"))
    values = [t.value for t in resumed.trials if t.state == TrialState.COMPLETE]
    assert summary["best_value"] == max(values) == ranked_trials(resumed)[0].value
    assert [row["trial"] for row in summary["trials"]] == [0, 1, 2]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # trials are told by hand, not optimised
def test_the_study_maximises_and_prunes_only_against_its_own_schedule(tmp_path: Path) -> None:
    """The study the search opens ranks the highest validation score first, and its pruner stops a trial that
    trails the finished trials of its own schedule length, never one that leads them or has none to compare with."""
    study = open_study(smoke(), tmp_path, {"kind": "test", "enqueued": []})

    def finish(epochs: int, values: tuple[float, ...]) -> None:
        for value in values:
            done = study.ask()
            done.report(value, schedule_step(epochs, 1))
            study.tell(done, value)

    finish(2, (0.5, 0.9, 0.7))
    assert [t.value for t in ranked_trials(study)] == [0.9, 0.7, 0.5]
    assert study.best_value == 0.9

    def pruned_at_epoch_one(epochs: int, value: float) -> bool:
        trial = study.ask()
        trial.report(value, schedule_step(epochs, 1))
        pruned = trial.should_prune()
        study.tell(trial, state=TrialState.PRUNED if pruned else TrialState.FAIL)
        return pruned

    assert pruned_at_epoch_one(2, 0.6)  # below the median 0.7 of the two-epoch trials
    assert not pruned_at_epoch_one(2, 0.8)  # above it: a low median is not what a maximising search stops
    assert not pruned_at_epoch_one(3, 0.1)  # no finished three-epoch trial to compare with


def test_ranking_follows_the_direction_of_the_study() -> None:
    study = optuna.create_study(direction="minimize")
    for value in (0.5, 0.9, 0.7):
        study.tell(study.ask(), value)
    assert [t.value for t in ranked_trials(study)] == [0.5, 0.7, 0.9]


def test_worker_killed_mid_trial_leaves_it_failed_and_its_parameters_finished_by_another(
    setting, tmp_path: Path
) -> None:
    cfg, tokenizer, tokenized = setting
    cfg = replace(cfg, hpo_epochs=(3,))
    trial_data = trial_data_for(cfg, tokenized)
    job = {"profile": cfg, "trial_data": trial_data, "tokenizer": tokenizer, "folder": tmp_path, "heartbeat": (1, 2)}
    study = open_study(cfg, tmp_path, search_identity(cfg, trial_data, tokenizer), heartbeat=(1, 2))
    doomed = multiprocessing.get_context("spawn").Process(target=search_worker, kwargs=job)
    doomed.start()
    deadline = time.monotonic() + 120
    while not (running := study.get_trials(states=(TrialState.RUNNING,))) or len(running[0].params) < 3:
        assert time.monotonic() < deadline and doomed.is_alive(), "the worker never started a trial"
        time.sleep(0.05)
    doomed.kill()
    doomed.join()
    killed = study.get_trials()[running[0].number]  # as the dead worker left it

    assert search_worker(**job) >= 1  # another worker joins, fails the dead trial and runs its parameters again
    trials = {t.number: t for t in study.get_trials()}
    assert trials[killed.number].state == TrialState.FAIL
    rerun = [t for t in trials.values() if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed.number]
    assert [t.params for t in rerun] == [killed.params]
    assert len(rerun) == 1 and rerun[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert finished_trials(study) == cfg.hpo_trials  # exactly the trials asked for: none lost, none extra


def test_two_workers_share_one_study_and_never_run_a_trial_twice(setting, tmp_path: Path) -> None:
    _, tokenizer, tokenized = setting
    cfg = smoke(hpo_trials=5, hpo_batch_sizes=(16, 32), hpo_epochs=(1, 2), workers=2)
    study = run_search(cfg, tokenized, tokenizer, tmp_path)
    trials = study.get_trials()
    assert len(trials) == 5 and finished_trials(study) == 5  # exactly as many as asked, none failed
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials
    assert len({t.number for t in trials}) == 5
    enqueued = covering_trials(cfg)
    assert [{k: t.params[k] for k in params} for t, params in zip(trials, enqueued)] == enqueued


def test_every_value_of_every_dimension_is_reached_by_a_completed_trial(setting, tmp_path: Path) -> None:
    _, tokenizer, tokenized = setting
    cfg = smoke(hpo_trials=3, hpo_batch_sizes=(8, 16, 32), hpo_epochs=(1, 2, 3))
    assert covering_trials(cfg)[0] == {"learning_rate": 1e-3, "batch_size": 32, "epochs": 2}  # the seed recipe
    study = run_search(cfg, tokenized, tokenizer, tmp_path)
    coverage = dimension_coverage(study, cfg)
    for dimension in ("batch_size", "epochs"):
        assert all(counts["complete"] >= 1 for counts in coverage[dimension].values()), coverage


def test_pruning_compares_only_schedules_of_the_same_length(tmp_path: Path) -> None:
    """A four-epoch trial scoring below every finished two-epoch trial at epoch 1 is not pruned: there is no
    finished four-epoch trial to compare it with; once two are, it is compared with them alone."""
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=0, n_min_trials=2)
    )

    def finish(epochs: int, values: tuple[float, ...]) -> None:
        for value in values:
            done = study.ask()
            done.report(value, schedule_step(epochs, 1))
            study.tell(done, value)

    finish(2, (0.8, 0.9))
    long = study.ask()
    long.report(0.1, schedule_step(4, 1))
    assert not long.should_prune()
    finish(4, (0.05, 0.08))
    late = study.ask()
    late.report(0.01, schedule_step(4, 1))
    assert late.should_prune()

    last = PruningCallback(late, epochs=1)  # never pruned at its last epoch, whatever it scores
    state = SimpleNamespace(epoch=1.0)
    last.on_evaluate(None, state, None, {"eval_f1_weighted": 0.0})
    with pytest.raises(optuna.TrialPruned):
        PruningCallback(study.ask(), epochs=4).on_evaluate(None, state, None, {"eval_f1_weighted": 0.0})


def smoke(**changes):
    settings = dict(hpo_trials=2, hpo_epochs=(1,), hpo_batch_sizes=(32,), logging_steps=5, workers=1) | changes
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


def test_fewer_trials_asked_for_than_queued_runs_only_those_asked_for() -> None:
    """Three covering trials queued, one asked for: one runs, then the worker stops with two still queued."""
    study = optuna.create_study(direction="maximize")
    for rate in (1e-5, 2e-5, 3e-5):
        study.enqueue_trial({"learning_rate": rate})
    ran = 0
    while (action := _claim(study, 1)[0]) == "run":
        study.optimize(lambda trial: trial.suggest_float("learning_rate", 1e-6, 1e-4), n_trials=1)
        ran += 1
        assert ran <= 3
    assert action == "stop"
    assert ran == 1
    assert [trial.state for trial in study.get_trials()].count(TrialState.WAITING) == 2


def test_search_goes_on_when_one_of_its_pool_workers_is_killed_mid_trial(setting, tmp_path: Path) -> None:
    """Notebook 04's own path: `run_search` with two pool workers, one SIGKILLed while its trial runs."""
    _, tokenizer, tokenized = setting
    cfg = smoke(hpo_trials=3, hpo_epochs=(3,), workers=2)
    identity = search_identity(cfg, trial_data_for(cfg, tokenized), tokenizer)
    study = open_study(cfg, tmp_path, identity, heartbeat=(1, 2))  # the study run_search joins
    searched: dict[str, optuna.Study] = {}
    search = threading.Thread(
        target=lambda: searched.update(study=run_search(cfg, tokenized, tokenizer, tmp_path, heartbeat=(1, 2)))
    )
    search.start()
    deadline = time.monotonic() + 120
    while not (running := [t for t in study.get_trials(states=(TrialState.RUNNING,)) if "worker" in t.user_attrs]):
        assert time.monotonic() < deadline and search.is_alive(), "no pool worker started a trial"
        time.sleep(0.05)
    doomed = running[0]
    os.kill(int(doomed.user_attrs["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    search.join(timeout=300)
    assert not search.is_alive() and "study" in searched  # the search finished rather than raising

    trials = {t.number: t for t in searched["study"].get_trials()}
    assert trials[doomed.number].state == TrialState.FAIL
    rerun = [t for t in trials.values() if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == doomed.number]
    assert len(rerun) == 1 and rerun[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert finished_trials(searched["study"]) == cfg.hpo_trials
