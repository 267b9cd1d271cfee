"""metrics.json and analysis.json go through one definition each: what is saved is what is read back, and a file
from an older notebook (a field missing or renamed) fails where it is read, naming the file and the notebook."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from helpers.evaluation.results import AnalysisResults, EvaluationResults, ResultsFileError


def analysis() -> AnalysisResults:
    rows = [{"text": "i feel lost", "label": "sadness", "predicted": "fear"}]
    return AnalysisResults(
        errors=1,
        test_rows=4,
        misclassified=rows,
        confusion_pairs=[{"label": "sadness", "predicted": "fear", "errors": 1}],
        fear_surprise_errors=0,
        fear_surprise_examples=[],
        highest_loss=rows,
        accuracy_by_length=[{"bucket": "(0, 10]", "count": 4, "accuracy": 0.75}],
        conflicting_duplicates=[],
        seed_examples=[],
        occlusion=[],
        out_of_domain={"texts": 90, "raw": {"accuracy": 0.5}},
    )


def test_saved_results_read_back_equal(tmp_path: Path) -> None:
    saved = analysis()
    path = saved.save(tmp_path)
    assert path == tmp_path / "analysis.json"
    assert AnalysisResults.load(path) == saved
    assert json.loads(path.read_text())["errors"] == 1  # plain JSON for people and other tools


def test_a_missing_field_names_the_file_the_field_and_the_notebook(tmp_path: Path) -> None:
    fields = dataclasses.asdict(analysis())
    del fields["out_of_domain"]
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(fields))
    with pytest.raises(ResultsFileError, match=r"analysis\.json: lacks out_of_domain; run notebooks/06_error"):
        AnalysisResults.load(path)


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    fields = {field.name: {} for field in dataclasses.fields(EvaluationResults)} | {"profile": "smoke", "extra": 1}
    path.write_text(json.dumps(fields))
    with pytest.raises(ResultsFileError, match="has unknown extra; run notebooks/05_evaluation"):
        EvaluationResults.load(path)


def test_a_missing_file_names_its_notebook(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="missing; run notebooks/05_evaluation.ipynb"):
        EvaluationResults.load(tmp_path / "metrics.json")


def test_a_run_is_read_from_its_profile_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path))
    folder = tmp_path / "smoke" / "error_analysis"
    folder.mkdir(parents=True)
    analysis().save(folder)
    assert AnalysisResults.load_run("smoke").out_of_domain["texts"] == 90
