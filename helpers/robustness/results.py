"""What notebook 08 saves for the report: its choice, written before any test score, then every score."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar

from helpers.evaluation.results import SavedResults

CHOICES_FILE = "choices.json"
"""Notebook 08's choice of the model for use, written before it computes its first test score."""


def save_robustness_choices(folder: Path, choice: dict[str, Any]) -> Path:
    """Write the choice as it was made, from validation and OOD-dev numbers only; `robustness.json` repeats it."""
    path = folder / CHOICES_FILE
    path.write_text(json.dumps(choice, indent=2) + "\n", encoding="utf-8")
    return path


@dataclasses.dataclass(frozen=True)
class RobustnessResults(SavedResults):
    """Every candidate on the choice sets and the test sets, the choice, behaviour and the model served."""

    FOLDER: ClassVar[str] = "robustness"
    FILE: ClassVar[str] = "robustness.json"
    NOTEBOOK: ClassVar[str] = "08_robustness"

    profile: str
    sets: dict[str, int]
    """evaluation set -> its number of texts"""
    annotation: dict[str, Any]
    """`helpers.data.annotation.agreement` of the hand-written test set's two labelling passes"""
    choice: dict[str, Any]
    """`helpers.robustness.choice.choose_for_use`"""
    validation: dict[str, dict[str, Any]]
    """candidate -> choice set -> `scoring.set_scores`"""
    test: dict[str, dict[str, Any]]
    """candidate -> test set -> `scoring.set_scores`"""
    behaviour: dict[str, Any]
    """model -> its behavioural suite's results"""
    served: dict[str, Any]
    environment: dict[str, Any]
