"""Optuna search over the seed report's space, resumable from its SQLite storage.

Objective: validation weighted F1 of the best epoch, direction "maximize". A seeded TPE sampler
proposes; a median pruner, fed each epoch's score, stops trials that trail the others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
from datasets import DatasetDict
from transformers import PreTrainedTokenizerBase, TrainerCallback

from helpers.data import stratified_subset
from helpers.identity import fingerprint
from helpers.notebook import show_progress
from helpers.profiles import Profile
from helpers.training import SELECTION_METRIC, train_classifier, training_identity

DIRECTION = "maximize"
OBJECTIVE = f"validation {SELECTION_METRIC}"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
STARTUP_TRIALS = 4
"""Random trials before TPE starts modelling the space."""


class PruningCallback(TrainerCallback):
    """Report each epoch's validation score to the trial; stop the run when Optuna says prune."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float], **kwargs: Any) -> None:
        epoch = round(state.epoch or 0)
        self.trial.report(metrics[f"eval_{SELECTION_METRIC}"], step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"epoch {epoch}: {SELECTION_METRIC} below the median of earlier trials")


def search_space(trial: optuna.Trial, profile: Profile) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", profile.hpo_lr_min, profile.hpo_lr_max, log=True),
        "batch_size": trial.suggest_categorical("batch_size", list(profile.hpo_batch_sizes)),
        "epochs": trial.suggest_categorical("epochs", list(profile.hpo_epochs)),
    }


def search_identity(profile: Profile, trial_data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """Everything that defines a search: the trials' training identity without hyperparameters, plus the
    search space, objective, sampler and pruner. The number of trials is left out: asking for more trials
    extends the same search."""
    identity = training_identity(profile, trial_data, tokenizer, hyperparameters={})
    identity.pop("hyperparameters")
    for searched in ("learning_rate", "batch_size", "epochs"):  # the seed recipe's values: the space replaces them
        identity["settings"].pop(searched)
    return {
        **identity,
        "kind": "search",
        "space": search_space_description(profile),
        "objective": OBJECTIVE,
        "direction": DIRECTION,
        "sampler": {"name": "TPESampler", "seed": profile.seed, "startup_trials": STARTUP_TRIALS},
        "pruner": {"name": "MedianPruner", "startup_trials": 2, "warmup_steps": 1},
    }


def search_space_description(profile: Profile) -> dict[str, Any]:
    return {
        "learning_rate": [profile.hpo_lr_min, profile.hpo_lr_max, "log"],
        "batch_size": list(profile.hpo_batch_sizes),
        "epochs": list(profile.hpo_epochs),
    }


def open_study(profile: Profile, folder: Path, identity: dict[str, Any]) -> optuna.Study:
    """The study of this search (`identity`) in `folder/study.db`, created on first use and reopened after.

    The study is named by the search's fingerprint and stores its identity as user attributes, so a
    changed model, space or data opens a new study beside the old ones instead of reusing their trials.
    Trials left RUNNING by an interrupted process are marked FAIL and their parameters queued again, so a
    resumed search still runs every trial it was asked for.
    """
    folder.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{folder / 'study.db'}"
    search_fingerprint = fingerprint(identity)
    name = f"emotion-{profile.name}-{search_fingerprint}"
    others = [other for other in optuna.get_all_study_names(storage) if other != name]
    if others:
        print(f"{folder / 'study.db'} also holds {len(others)} other search(es), kept beside this one: {others}")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=DIRECTION,
        sampler=optuna.samplers.TPESampler(seed=profile.seed, n_startup_trials=STARTUP_TRIALS),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        load_if_exists=True,
    )
    if study.user_attrs.get("fingerprint") != search_fingerprint:
        study.set_user_attr("fingerprint", search_fingerprint)
        study.set_user_attr("identity", identity)
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(stale.params)
    return study


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def trial_data_for(profile: Profile, tokenized: DatasetDict) -> DatasetDict:
    """The search's data: a stratified subset of the training split (the profile's size) and all of validation."""
    train = stratified_subset(tokenized["train"], profile.hpo_train_size, profile.seed)
    return DatasetDict({"train": train, "validation": tokenized["validation"]})


def run_search(
    profile: Profile, tokenized: DatasetDict, tokenizer: PreTrainedTokenizerBase, folder: Path
) -> optuna.Study:
    """Run the trials still missing from this search's study (all of them on first call) and return it."""
    trial_data = trial_data_for(profile, tokenized)
    study = open_study(profile, folder, search_identity(profile, trial_data, tokenizer))

    def objective(trial: optuna.Trial) -> float:
        params = search_space(trial, profile)
        result = train_classifier(
            profile,
            trial_data,
            tokenizer,
            folder / "trials" / f"trial-{trial.number}",
            keep_model=False,
            callbacks=[PruningCallback(trial)],
            **params,
        )
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.train_seconds, 1))
        trial.set_user_attr("validation_accuracy", result.best_validation["accuracy"])
        return result.best_validation[SELECTION_METRIC]

    remaining = profile.hpo_trials - finished_trials(study)
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, gc_after_trial=True, show_progress_bar=show_progress())
    return study


def trials_table(study: optuna.Study) -> list[dict[str, Any]]:
    """One row per trial: state, parameters, score and time, for the notebook and the report."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name,
                **trial.params,
                OBJECTIVE: trial.value,
                "last_epoch_reported": max(trial.intermediate_values, default=None),
                **trial.user_attrs,
            }
        )
    return rows


def save_search_summary(study: optuna.Study, profile: Profile, folder: Path) -> Path:
    summary = {
        "objective": OBJECTIVE,
        "direction": DIRECTION,
        "sampler": type(study.sampler).__name__,
        "pruner": type(study.pruner).__name__,
        "trials_requested": profile.hpo_trials,
        "trial_train_rows": profile.hpo_train_size,
        "space": search_space_description(profile),
        "best_params": study.best_params,
        "best_value": study.best_value,
        "fingerprint": study.user_attrs["fingerprint"],
        "study_name": study.study_name,
        "trials": trials_table(study),
    }
    path = folder / "search.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def save_optuna_plots(study: optuna.Study, folder: Path) -> list[Path]:
    """Optuna's own matplotlib plots: optimisation history, parameter importances, parallel coordinates."""
    import warnings

    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    plots = {
        "hpo_history": ovm.plot_optimization_history,
        "hpo_importances": ovm.plot_param_importances,
        "hpo_parallel": ovm.plot_parallel_coordinate,
    }
    paths = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for name, plot in plots.items():
            axes = plot(study)
            figure = axes.figure if hasattr(axes, "figure") else axes[0].figure
            figure.set_size_inches(8, 4.5)
            figure.tight_layout()
            path = folder / f"{name}.png"
            figure.savefig(path, dpi=120)
            plt.close(figure)
            paths.append(path)
    return paths
