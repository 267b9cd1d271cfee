"""What a finished search found: the trials table, coverage of each dimension, subset against full data, Optuna's
plots.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import optuna
from optuna.visualization import matplotlib as ovm

from helpers.metrics import mean_sd
from helpers.profiles import Profile
from helpers.search.study import DIRECTION, FINISHED, OBJECTIVE, SCHEDULE_STEP, search_space_description
from helpers.training.finetune import SELECTION_METRIC


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
                "last_epoch_reported": max(trial.intermediate_values, default=SCHEDULE_STEP) % SCHEDULE_STEP or None,
                **trial.user_attrs,
            }
        )
    return rows


def ranked_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The completed trials, best first by the study's own direction."""
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sorted(
        completed, key=lambda trial: trial.value, reverse=study.direction == optuna.study.StudyDirection.MAXIMIZE
    )


def dimension_coverage(study: optuna.Study, profile: Profile) -> dict[str, Any]:
    """For each searched value, how many trials completed and how many were pruned with it; for the learning
    rate, the range the completed trials spanned."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    coverage: dict[str, Any] = {}
    for name, values in (("batch_size", profile.hpo_batch_sizes), ("epochs", profile.hpo_epochs)):
        coverage[name] = {
            str(value): {
                state.name.lower(): sum(t.state == state and t.params.get(name) == value for t in trials)
                for state in FINISHED
            }
            for value in values
        }
    rates = [t.params["learning_rate"] for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    coverage["learning_rate"] = {"completed_min": min(rates, default=None), "completed_max": max(rates, default=None)}
    return coverage


def subset_versus_full(
    study: optuna.Study, configurations: dict[str, tuple[dict[str, Any], list[dict[str, float]]]]
) -> list[dict[str, Any]]:
    """For each named configuration (its parameters and its full-data best validation scores, one per seed): the
    score of its trial on the subset beside the mean and spread of its full-data validation scores."""
    ranked = ranked_trials(study)
    rows = []
    for name, (params, validations) in configurations.items():
        trial = next((t for t in ranked if t.params == params), None)
        scores = [validation[SELECTION_METRIC] for validation in validations]
        rows.append(
            {
                "configuration": name,
                **params,
                "trial": trial.number if trial else None,
                "subset_rank": ranked.index(trial) + 1 if trial else None,
                f"subset {OBJECTIVE}": trial.value if trial else None,
                **dict(zip((f"full {OBJECTIVE} mean", f"full {OBJECTIVE} sd"), mean_sd(scores), strict=True)),
                "seeds": len(scores),
            }
        )
    return rows


def save_search_summary(
    study: optuna.Study, profile: Profile, folder: Path, retrained: list[dict[str, Any]] | None = None
) -> Path:
    """search.json: the search's settings, every trial, the values each dimension reached and, with `retrained`,
    the configurations retrained on the full training split beside their trial scores on the subset."""
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
        "storage": "PostgreSQL" if profile.hpo_storage else "SQLite",
        "trials": trials_table(study),
        "coverage": dimension_coverage(study, profile),
        "retrained": retrained or [],
    }
    path = folder / "search.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def save_optuna_plots(study: optuna.Study, folder: Path) -> list[Path]:
    """Optuna's own matplotlib plots: optimisation history, parameter importances, parallel coordinates."""

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
