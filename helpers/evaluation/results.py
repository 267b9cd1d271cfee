"""What notebooks 05 and 06 save for notebook 06, the report and the README, defined once: `metrics.json` and
`analysis.json` are written and read through these classes, so a field renamed or missing fails where it is read,
naming the file, instead of a report quietly falling back to a default."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar, Self

from helpers.paths import runs_root


class ResultsFileError(ValueError):
    """A results file is missing or lacks fields (written by an older notebook): the message names the file and
    the notebook that writes it."""


@dataclasses.dataclass(frozen=True)
class SavedResults:
    """Save as indented JSON, one field per top-level key; load back only a file with exactly these fields."""

    FOLDER: ClassVar[str]
    FILE: ClassVar[str]
    NOTEBOOK: ClassVar[str]

    def save(self, folder: Path) -> Path:
        path = folder / self.FILE
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Self:
        if not path.is_file():
            raise ResultsFileError(f"{path}: missing; run notebooks/{cls.NOTEBOOK}.ipynb (make report) first")
        saved = json.loads(path.read_text(encoding="utf-8"))
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in saved]
        unknown = sorted(set(saved) - set(names))
        if missing or unknown:
            problems = ", ".join(
                part
                for part in (
                    f"lacks {', '.join(missing)}" if missing else "",
                    f"has unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
            raise ResultsFileError(f"{path}: {problems}; run notebooks/{cls.NOTEBOOK}.ipynb again")
        return cls(**{name: saved[name] for name in names})

    @classmethod
    def load_run(cls, profile_name: str) -> Self:
        """The file of a profile's run, under `$EMOTION_RUNS_DIR` (default runs/)."""
        return cls.load(runs_root() / profile_name / cls.FOLDER / cls.FILE)


@dataclasses.dataclass(frozen=True)
class EvaluationResults(SavedResults):
    """Notebook 05's scores: every model on validation and test, the choice made on validation, and how."""

    FOLDER: ClassVar[str] = "evaluation"
    FILE: ClassVar[str] = "metrics.json"
    NOTEBOOK: ClassVar[str] = "05_evaluation"

    profile: str
    models: dict[str, dict[str, Any]]
    """model name (`helpers.evaluation.names`) -> {"validation": scores, "test": scores with "ci95" intervals}"""
    chosen: dict[str, Any]
    """`selection.choose_model` (name, metric, validation score, cost, candidates, comparisons), with the chosen
    model's members, their folders and fingerprints, and the model served for it"""
    seeds: dict[str, Any]
    """configuration -> `statistics.seed_summary`: each seed, mean and sd (None with one seed)"""
    search_gain: dict[str, Any]
    served_backend: dict[str, Any]
    """`serving.backends.decide_backend`: the back end chosen on validation, with its agreement and bounds"""
    runs: dict[str, dict[str, Any]]
    """model name -> the training run's fingerprint and identity (settings, rows, model)"""
    mcnemar: dict[str, Any]
    calibration: dict[str, Any]
    environment: dict[str, Any]
    """`hardware.machine_info` of the machine that scored the models"""


@dataclasses.dataclass(frozen=True)
class AnalysisResults(SavedResults):
    """Notebook 06's error analysis of the chosen model, and its scores out of domain."""

    FOLDER: ClassVar[str] = "error_analysis"
    FILE: ClassVar[str] = "analysis.json"
    NOTEBOOK: ClassVar[str] = "06_error_analysis"

    errors: int
    test_rows: int
    misclassified: list[dict[str, Any]]
    confusion_pairs: list[dict[str, Any]]
    fear_surprise_errors: int
    fear_surprise_examples: list[dict[str, Any]]
    highest_loss: list[dict[str, Any]]
    accuracy_by_length: list[dict[str, Any]]
    conflicting_duplicates: list[dict[str, Any]]
    seed_examples: list[dict[str, Any]]
    occlusion: list[dict[str, Any]]
    out_of_domain: dict[str, Any]


CHOICES_FILE = "choices.json"
"""Notebook 05's choices, written before it computes its first test score."""


def save_choices(folder: Path, **choices: Any) -> Path:
    """Write every choice notebook 05 makes on validation (the model, the one served, its back end, the
    temperature) before any test score exists, so that the file records them as they were made; `metrics.json`
    repeats them beside the test scores."""
    path = folder / CHOICES_FILE
    path.write_text(json.dumps(choices, indent=2) + "\n", encoding="utf-8")
    return path
