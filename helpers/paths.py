"""Every path the project writes to hangs off one root, so no notebook writes `../`."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIGURES_DIR = PROJECT_ROOT / "figures"
REPORT_DIR = PROJECT_ROOT / "report"
RUNS_ENV = "EMOTION_RUNS_DIR"


def runs_root() -> Path:
    """Where run outputs live; `EMOTION_RUNS_DIR` moves them (tests, read-only checkouts)."""
    return Path(os.environ.get(RUNS_ENV, PROJECT_ROOT / "runs"))


def report_dirs(profile_name: str) -> tuple[Path, Path]:
    """Where a profile's report and its figures go: report/ and figures/, except for smoke runs, which write
    under runs/smoke/report/ so that they never overwrite the reference report."""
    if profile_name == "smoke":
        folder = runs_root() / profile_name / "report"
        return folder, folder / "figures"
    return REPORT_DIR, FIGURES_DIR


def run_dir(profile_name: str, *parts: str) -> Path:
    """A folder under `runs/<profile>/`, created on first use."""
    path = runs_root() / profile_name
    for part in parts:
        path = path / part
    path.mkdir(parents=True, exist_ok=True)
    return path


UPSTREAM: dict[str, dict[str, tuple[str, ...]]] = {
    "02_baselines": {},
    "03_finetune": {},
    "04_hpo": {"03_finetune": ("finetune/training_result.json",)},
    "05_evaluation": {
        "02_baselines": tuple(
            f"baselines/{name}.joblib" for name in ("majority_class", "tfidf", "frozen_encoder_logreg")
        ),
        "03_finetune": ("finetune/model/config.json", "finetune/training_result.json"),
        "04_hpo": ("tuned/model/config.json", "tuned/training_result.json"),
    },
    "06_error_analysis": {
        "01_data": ("data/audit.json",),
        "04_hpo": ("tuned/model/config.json", "tuned/training_result.json"),
        "05_evaluation": ("evaluation/test_predictions.csv", "evaluation/metrics.json"),
    },
    "07_peft": {"03_finetune": ("finetune/training_result.json",)},
    "08_robustness": {
        "03_finetune": ("finetune/model/config.json", "finetune/training_result.json"),
        "04_hpo": ("tuned/model/config.json", "tuned/training_result.json"),
        "05_evaluation": ("evaluation/metrics.json",),  # and the seeds' runs it trained
    },
}
"""notebook -> {earlier notebook: the files under runs/<profile>/ it reads from that notebook's run}."""


def require_upstream(profile_name: str, notebook: str) -> None:
    """Stop a notebook in its first cells, naming the notebook to run first, if what it reads is missing.

    Each notebook on Colab runs in a fresh runtime, so earlier outputs exist only where `$EMOTION_RUNS_DIR`
    keeps them; checking up front avoids failing after an hour of training.
    """
    if notebook not in UPSTREAM:
        raise ValueError(f"unknown notebook {notebook!r}; choose one of {sorted(UPSTREAM)}")
    root = runs_root() / profile_name
    missing = {
        producer: [name for name in files if not (root / name).is_file()]
        for producer, files in UPSTREAM[notebook].items()
    }
    missing = {producer: names for producer, names in missing.items() if names}
    if missing:
        first = min(missing)
        lines = "\n".join(f"  {producer}: {', '.join(names)}" for producer, names in sorted(missing.items()))
        raise FileNotFoundError(
            f"{notebook} needs the outputs of earlier notebooks for profile {profile_name!r} in {root}:\n{lines}\n"
            f"Run notebooks/{first}.ipynb first (same profile and ${RUNS_ENV}); on Colab, keep runs on Google Drive."
        )
