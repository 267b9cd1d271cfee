"""Optuna search over the seed report's space, shared by parallel workers through the study's storage.

Objective: validation weighted F1 of the best epoch, direction "maximize". The first trials are enqueued so
that every batch size and epoch count is tried at least once (the seed recipe among them); then a seeded TPE
sampler proposes. A median pruner stops trials that trail, comparing each only with finished trials of the
same schedule length at the same epoch: after one epoch, a four-epoch schedule has decayed its learning rate
less than a two-epoch one, so the two are not comparable there.

Trials run in worker processes (`helpers.training.workers`) that share the study: on this machine through its SQLite
file, or on several machines through a PostgreSQL database (`helpers.search.storage`, `python -m helpers.search`).
A worker claims a trial under a lock, so the search runs exactly the trials asked for; a worker that dies
mid-trial stops sending heartbeats, and the next claim fails its trial and queues its parameters again (Optuna's
heartbeat and `RetryHeartbeatStaleTrialCallback`). A worker joins only a study of its own search: the study
records the search's identity (code, data, settings) and a worker whose identity differs is refused."""

from __future__ import annotations

import json
import os
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import optuna
from datasets import DatasetDict
from optuna.storages import fail_stale_trials
from transformers import PreTrainedTokenizerBase, TrainerCallback

from helpers.data.fingerprints import differences
from helpers.data.loading import stratified_subset
from helpers.profiles import Profile, mask
from helpers.search.storage import DB_ATTEMPTS, open_storage, storage_failure, study_lock, unavailable
from helpers.training.finetune import SELECTION_METRIC, train_classifier, training_identity
from helpers.training.identity import code_digests, fingerprint
from helpers.training.workers import default_workers, run_jobs

DIRECTION = "maximize"

OBJECTIVE = f"validation {SELECTION_METRIC}"

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

EXTRA_RANDOM_TRIALS = 2
"""Random trials after the enqueued ones, before TPE starts modelling the space."""

PRUNER_MIN_TRIALS = 2
"""Finished trials of the same schedule length a trial must be compared with before it can be pruned."""

SCHEDULE_STEP = 1000
"""Pruning steps are `epochs * SCHEDULE_STEP + epoch`: a step is shared only by trials of the same length."""

HEARTBEAT_SECONDS = (30, 120)
"""How often a running trial says it is alive, and after how long without a word it counts as dead."""

SEARCH_CODE = (
    "helpers.search.study",
    "helpers.models.methods",
    "helpers.metrics",
    "helpers.models.building",
    "helpers.training.finetune",
)
"""The modules whose code decides what a trial trains and how it is scored. The data, device and profile code
act through values the identity holds already (data hashes, device, precision, settings)."""

SEARCH_PACKAGES = ("torch", "transformers", "accelerate", "optuna", "peft")


class StudyMismatchError(ValueError):
    """A shared study belongs to another search: other code, data or settings than this worker's."""


def schedule_step(epochs: int, epoch: int) -> int:
    return epochs * SCHEDULE_STEP + epoch


class PruningCallback(TrainerCallback):
    """Report each epoch's validation score to the trial at its schedule's own step; stop the run when Optuna
    says prune (never at the last epoch, when the trial has finished anyway)."""

    def __init__(self, trial: optuna.Trial, epochs: int) -> None:
        self.trial = trial
        self.epochs = epochs

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float], **kwargs: Any) -> None:
        epoch = round(state.epoch or 0)
        self.trial.report(metrics[f"eval_{SELECTION_METRIC}"], step=schedule_step(self.epochs, epoch))
        if epoch < self.epochs and self.trial.should_prune():
            raise optuna.TrialPruned(
                f"epoch {epoch} of {self.epochs}: {SELECTION_METRIC} below the median of finished {self.epochs}-epoch "
                "trials"
            )


def search_space(trial: optuna.Trial, profile: Profile) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", profile.hpo_lr_min, profile.hpo_lr_max, log=True),
        "batch_size": trial.suggest_categorical("batch_size", list(profile.hpo_batch_sizes)),
        "epochs": trial.suggest_categorical("epochs", list(profile.hpo_epochs)),
    }


def covering_trials(profile: Profile) -> list[dict[str, Any]]:
    """The trials enqueued first: the seed recipe (where the space holds it), then batch sizes paired with epoch
    counts until every value of both has been tried; their learning rates, unless fixed, are sampled."""
    recipe = {"learning_rate": profile.learning_rate, "batch_size": profile.batch_size, "epochs": profile.epochs}
    in_space = (
        profile.hpo_lr_min <= profile.learning_rate <= profile.hpo_lr_max
        and profile.batch_size in profile.hpo_batch_sizes
        and profile.epochs in profile.hpo_epochs
    )
    trials = [recipe] if in_space else []
    batches = [b for b in profile.hpo_batch_sizes if not (in_space and b == profile.batch_size)]
    epochs = [e for e in profile.hpo_epochs if not (in_space and e == profile.epochs)]
    for index in range(max(len(batches), len(epochs))):
        trials.append(
            {
                "batch_size": (batches or list(profile.hpo_batch_sizes))[index % max(len(batches), 1)],
                "epochs": (epochs or list(profile.hpo_epochs))[index % max(len(epochs), 1)],
            }
        )
    return trials


def search_identity(profile: Profile, trial_data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """Everything that defines a search: the trials' training identity without hyperparameters, plus the
    search space, objective, sampler and pruner. The number of trials is left out: asking for more trials
    extends the same search."""
    identity = training_identity(profile, trial_data, tokenizer, hyperparameters={})
    identity.pop("hyperparameters")
    for searched in ("learning_rate", "batch_size", "epochs"):  # the seed recipe's values: the space replaces them
        identity["settings"].pop(searched)
    covering = covering_trials(profile)
    return {
        **identity,
        "kind": "search",
        "code": code_identity(),
        "space": search_space_description(profile),
        "objective": OBJECTIVE,
        "direction": DIRECTION,
        "enqueued": covering,
        "sampler": {
            "name": "TPESampler",
            "seed": profile.seed,
            "seed_per_trial": "seed + trials claimed before it",
            "startup_trials": len(covering) + EXTRA_RANDOM_TRIALS,
            "constant_liar": True,
        },
        "pruner": {
            "name": "MedianPruner",
            "startup_trials": len(covering),
            "min_trials_per_step": PRUNER_MIN_TRIALS,
            "steps": "epochs * 1000 + epoch (same schedule length only)",
        },
    }


def code_identity() -> dict[str, Any]:
    """The code a trial runs: a digest of each module of `SEARCH_CODE` and the versions of the libraries that
    train and sample. Workers on several machines must run the same to share a study."""

    return {"modules": code_digests(SEARCH_CODE), "packages": {name: version(name) for name in SEARCH_PACKAGES}}


def search_space_description(profile: Profile) -> dict[str, Any]:
    return {
        "learning_rate": [profile.hpo_lr_min, profile.hpo_lr_max, "log"],
        "batch_size": list(profile.hpo_batch_sizes),
        "epochs": list(profile.hpo_epochs),
    }


def study_name(profile: Profile, search_fingerprint: str) -> str:
    """On this machine's SQLite file, one study per search (`emotion-<profile>-<fingerprint>`): a changed model,
    space or data opens a new study beside the old ones. On a shared database, the profile's `hpo_study` (default
    `emotion-<profile>`): every worker looks for the same study, so one with other settings finds it and is
    refused, instead of quietly filling a study of its own that nobody reads."""
    if profile.hpo_storage is None:
        return f"emotion-{profile.name}-{search_fingerprint}"
    return profile.hpo_study or f"emotion-{profile.name}"


def open_study(
    profile: Profile,
    folder: Path,
    identity: dict[str, Any],
    worker: int = 0,
    heartbeat: tuple[int, int] = HEARTBEAT_SECONDS,
    db_attempts: int = DB_ATTEMPTS,
) -> optuna.Study:
    """The study of this search (`identity`) in the profile's storage (`folder/study.db` unless `hpo_storage`
    names a database), created on first use and joined after.

    The study stores the search's fingerprint and identity as user attributes; a study that holds another
    search's raises `StudyMismatchError` naming what differs. A new study starts with `covering_trials`
    enqueued.
    """
    search_fingerprint = fingerprint(identity)
    name = study_name(profile, search_fingerprint)
    where = mask(profile.hpo_storage) if profile.hpo_storage else str(folder / "study.db")
    covering = identity["enqueued"]
    with study_lock(profile.hpo_storage, folder, db_attempts):
        storage = open_storage(profile.hpo_storage, folder, heartbeat, db_attempts)
        others = [other for other in optuna.get_all_study_names(storage) if other != name]
        if others and worker == 0:
            print(f"{where} also holds {len(others)} other search(es), kept beside this one: {others}")
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            direction=DIRECTION,
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=len(covering), n_warmup_steps=0, n_min_trials=PRUNER_MIN_TRIALS
            ),
            load_if_exists=True,
        )
        recorded = study.user_attrs.get("fingerprint")
        if recorded is None:
            study.set_user_attr("fingerprint", search_fingerprint)
            study.set_user_attr("identity", identity)
            for params in covering:
                study.enqueue_trial(params)
        elif recorded != search_fingerprint:
            ours = json.loads(json.dumps(identity, default=str))  # as the study stored it: tuples become lists
            changed = differences(study.user_attrs.get("identity", {}), ours) or [
                f"fingerprint {recorded} -> {search_fingerprint}"
            ]
            raise StudyMismatchError(
                f"study {name!r} in {where} belongs to another search; this worker differs in: "
                f"{'; '.join(changed[:8])}. Run the same code, data and settings as the workers that made it, or "
                "give this search a study of its own (hpo_study, --study)."
            )
    return study


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def trial_data_for(profile: Profile, tokenized: DatasetDict) -> DatasetDict:
    """The search's data: a stratified subset of the training split (the profile's size) and all of validation."""
    train = stratified_subset(tokenized["train"], profile.hpo_train_size, profile.seed)
    return DatasetDict({"train": train, "validation": tokenized["validation"]})


def trial_sampler(profile: Profile, claimed: int) -> optuna.samplers.TPESampler:
    """The sampler a worker proposes its next trial with, seeded by the profile's seed plus the number of trials
    claimed so far. Trials are claimed one at a time under the study's lock, each claim taking one more trial
    out of the queue or adding one, so every trial gets a seed of its own, whichever worker on whichever machine
    runs it (seeding by worker index would give the first workers of two machines the same random proposals)."""
    return optuna.samplers.TPESampler(
        seed=profile.seed + claimed,
        n_startup_trials=len(covering_trials(profile)) + EXTRA_RANDOM_TRIALS,
        constant_liar=True,
    )


def _claim(study: optuna.Study, trials: int) -> tuple[str, int]:
    """What this worker does next: "run" a trial, "wait" for others' running trials, or "stop"; and how many
    trials have been claimed (all but the queued ones). Only the finished and running trials count against
    `trials`: queued covering trials beyond it stay queued, so a search asked for fewer runs no more."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        fail_stale_trials(study)  # a dead worker's trial: failed, its parameters queued again
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    waiting = states.count(optuna.trial.TrialState.WAITING)
    running = states.count(optuna.trial.TrialState.RUNNING)
    taken = sum(state in FINISHED for state in states) + running
    claimed = len(states) - waiting
    if taken < trials:
        return "run", claimed
    return ("wait" if running else "stop"), claimed


def search_worker(
    profile: Profile,
    trial_data: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    folder: Path,
    worker: int = 0,
    heartbeat: tuple[int, int] = HEARTBEAT_SECONDS,
    db_attempts: int = DB_ATTEMPTS,
) -> int:
    """Join this search's study and run trials until `profile.hpo_trials` have finished; returns how many this
    worker ran. Claiming a trial (counting, then Optuna's ask) happens under the study's lock
    (`helpers.search.storage.study_lock`), so two workers, on one machine or several, never start the same queued trial
    nor more trials than asked for. A database away for longer than its retries wait stops the worker with
    `StorageUnavailableError`."""
    try:
        return _run_trials(profile, trial_data, tokenizer, folder, worker, heartbeat, db_attempts)
    except Exception as error:
        failure = storage_failure(error)
        if failure is None:
            raise
        raise unavailable(profile.hpo_storage, failure, db_attempts) from error


def _run_trials(
    profile: Profile,
    trial_data: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    folder: Path,
    worker: int,
    heartbeat: tuple[int, int],
    db_attempts: int,
) -> int:
    identity = search_identity(profile, trial_data, tokenizer)
    study = open_study(profile, folder, identity, worker, heartbeat, db_attempts)
    lock = study_lock(profile.hpo_storage, folder, db_attempts)

    def objective(trial: optuna.Trial) -> float:
        lock.release()  # the trial exists and is RUNNING: other workers may claim the next one
        params = search_space(trial, profile)
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        result = train_classifier(
            profile,
            trial_data,
            tokenizer,
            folder / "trials" / f"trial-{trial.number}",
            keep_model=False,
            callbacks=[PruningCallback(trial, params["epochs"])],
            **params,
        )
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.train_seconds, 1))
        trial.set_user_attr("validation_accuracy", result.best_validation["accuracy"])
        return result.best_validation[SELECTION_METRIC]

    ran = 0
    while True:
        lock.acquire()
        try:
            action, claimed = _claim(study, profile.hpo_trials)
            if action == "run":
                study.sampler = trial_sampler(profile, claimed)
                study.optimize(objective, n_trials=1, gc_after_trial=True)
                ran += 1
        finally:
            if lock.is_locked:
                lock.release()
        if action == "stop":
            return ran
        if action == "wait":
            time.sleep(min(heartbeat[0], 2))  # a cheap query: see soon whether the running trials finished


def run_search(
    profile: Profile,
    tokenized: DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    folder: Path,
    heartbeat: tuple[int, int] = HEARTBEAT_SECONDS,
    db_attempts: int = DB_ATTEMPTS,
) -> optuna.Study:
    """Run the trials still missing from this search's study (all of them on first call) in parallel workers
    (`profile.workers`, see `helpers.training.workers`) and return the study. Workers elsewhere may be filling the same
    shared study: these then run what is left, or wait for the others' running trials."""
    trial_data = trial_data_for(profile, tokenized)
    identity = search_identity(profile, trial_data, tokenizer)
    try:
        study = open_study(profile, folder, identity, heartbeat=heartbeat, db_attempts=db_attempts)
        workers = min(profile.workers or default_workers(), max(profile.hpo_trials - finished_trials(study), 1))
    except Exception as error:
        failure = storage_failure(error)
        if failure is None:
            raise
        raise unavailable(profile.hpo_storage, failure, db_attempts) from error
    job = {
        "profile": profile,
        "trial_data": trial_data,
        "tokenizer": tokenizer,
        "folder": folder,
        "heartbeat": heartbeat,
        "db_attempts": db_attempts,
    }
    ran = run_jobs(
        search_worker,
        [{**job, "worker": index} for index in range(workers)],
        workers,
        describe=lambda job: f"search worker {job['worker']}",
    )
    print(f"{sum(ran)} trial(s) run by {workers} worker(s) on this machine")
    return study
