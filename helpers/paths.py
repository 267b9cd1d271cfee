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


def run_dir(profile_name: str, *parts: str) -> Path:
    """A folder under `runs/<profile>/`, created on first use."""
    path = runs_root() / profile_name
    for part in parts:
        path = path / part
    path.mkdir(parents=True, exist_ok=True)
    return path
