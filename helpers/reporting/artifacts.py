"""What the report reads: a run's saved artifacts, the published figures it compares with, and the bench it quotes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, TypeVar

import yaml

from helpers.evaluation.results import AnalysisResults, EvaluationResults, ResultsFileError
from helpers.models.folder import weights_sha256
from helpers.paths import REPORT_DIR
from helpers.reporting.titles import METRIC_NAMES
from helpers.robustness.results import RobustnessResults
from helpers.serving.served import read_served_record

Results = TypeVar("Results", EvaluationResults, AnalysisResults)

PUBLISHED = REPORT_DIR / "published.yaml"

COMMITTED_BENCHMARKS = REPORT_DIR / "benchmarks.json"


class ReportInputError(FileNotFoundError):
    """An input the report needs is missing or malformed: the message names it and what writes it."""


def _read_json(path: Path, notebook: str) -> Any:
    if not path.is_file():
        raise ReportInputError(f"{path}: missing; run notebooks/{notebook}.ipynb (make report) first")
    return json.loads(path.read_text(encoding="utf-8"))


def _read_results(kind: type[Results], run: Path) -> Results:
    try:
        return kind.load(run / kind.FOLDER / kind.FILE)
    except ResultsFileError as error:
        raise ReportInputError(str(error)) from error


def served_model_facts(run: Path) -> dict[str, Any] | None:
    """The model the run serves (notebook 08's record, else 05's) and its weights' fingerprint, or None."""
    record = read_served_record(run)
    if record is None:
        return None
    return {"name": record["model"], "folder": record["folder"], "sha256": weights_sha256(record["path"])}


def load_artifacts(run: Path) -> dict[str, Any]:
    """Everything the notebooks saved that the report is built from, read from the run folder."""
    artifacts = {
        "profile": _read_json(run / "evaluation" / "profile.json", "05_evaluation"),
        "audit": _read_json(run / "data" / "audit.json", "01_data"),
        "tfidf_grid": _read_json(run / "baselines" / "tfidf_grid.json", "02_baselines"),
        "finetune": _read_json(run / "finetune" / "training_result.json", "03_finetune"),
        "search": _read_json(run / "hpo" / "search.json", "04_hpo"),
        "tuned": _read_json(run / "tuned" / "training_result.json", "04_hpo"),
        "metrics": _read_results(EvaluationResults, run),
        "analysis": _read_results(AnalysisResults, run),
        "peft": _read_json(run / "peft" / "comparison.json", "07_peft"),
        "robustness": _read_results(RobustnessResults, run),
        "served_model": served_model_facts(run),
        "wall_seconds": {},
    }
    wall = run / "wall_seconds.txt"
    if wall.is_file():  # one line per notebook run; the last run of each notebook counts
        for line in wall.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                name, seconds = line.split()
                artifacts["wall_seconds"][name] = int(seconds)
    return artifacts


# Published figures ---------------------------------------------------------------------------------------------

PUBLISHED_SOURCE_KEYS = {"name", "source", "model", "figures"}

PUBLISHED_FIGURE_KEYS = {"value", "metric", "split", "note"}

SPLITS = ("train", "validation", "test")


def load_published(path: Path = PUBLISHED) -> dict[str, Any]:
    """Other people's figures, each with its metric, split and source; a malformed entry is an error here rather
    than a wrong sentence in the report."""
    if not path.is_file():
        raise ReportInputError(f"{path}: missing; it holds the published figures the introduction quotes")
    sources = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, source in sources.items():
        if set(source) != PUBLISHED_SOURCE_KEYS:
            raise ReportInputError(f"{path}: {key} needs exactly the keys {sorted(PUBLISHED_SOURCE_KEYS)}")
        for name, figure in source["figures"].items():
            where = f"{path}: {key}.figures.{name}"
            if not {"value", "metric", "split"} <= set(figure) <= PUBLISHED_FIGURE_KEYS:
                raise ReportInputError(f"{where} needs value, metric and split (and at most a note)")
            if figure["metric"] not in METRIC_NAMES or figure["split"] not in SPLITS:
                raise ReportInputError(f"{where}: metric in {sorted(METRIC_NAMES)}, split in {SPLITS}")
            value = figure["value"]
            if not isinstance(value, str) or not re.fullmatch(r"0\.\d+|1\.0*", value):
                raise ReportInputError(f"{where}: a score between 0 and 1, quoted as the source prints it ('0.90')")
    return sources


# Benchmarks ----------------------------------------------------------------------------------------------------


def choose_benchmarks(run: Path, profile: str, committed: Path = COMMITTED_BENCHMARKS) -> dict[str, Any] | None:
    """The newest `make bench` result for this profile: the run's own, else the committed one; None if neither.

    The bench takes too long to run inside every report, so a fresh clone's report keeps the committed file's
    speed section, and says which command wrote it and when.
    """
    chosen: tuple[str, Path, dict[str, Any]] | None = None
    for path in (committed, run / "benchmarks.json"):  # the run's own file wins only when it is newer
        if not path.is_file():
            continue
        bench = json.loads(path.read_text(encoding="utf-8"))
        if bench.get("profile") != profile:
            continue
        if bench["inference"].get("split") != "validation":  # an older bench scored the test split
            print(f"{path} predates validation-split benchmarks: run `make bench PROFILE={profile}` again")
            continue
        if chosen is None or bench["created"] > chosen[0]:
            chosen = (bench["created"], path, bench)
    if chosen is None:
        return None
    _, path, bench = chosen
    return {**bench, "path": path, "commit": bench.get("commit"), "committed_in": _last_commit(path)}


def _last_commit(path: Path) -> str | None:
    """The commit that last changed a tracked file, for a benchmark file written before benches recorded theirs."""
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", str(path)], cwd=path.parent, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None
