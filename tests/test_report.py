"""The report builder, run on a real smoke run of notebooks 01-06, writes every section from the artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill
import pytest

from helpers.evaluation import ENSEMBLES, MODELS, SERVED
from helpers.inference import BACKENDS
from helpers.report import MODEL_TITLES, SECTIONS, ReportInputError, _out_of_domain_result, build_report, f4

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path) -> Path:
    """Execute every notebook in the smoke profile into a scratch runs folder, as `make report` would."""
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOTION_RUNS_DIR", str(runs))
        patch.setenv("EMOTION_DATA_DIR", str(real_data_dir))
        for notebook in NOTEBOOKS:
            papermill.execute_notebook(
                str(notebook), str(runs / notebook.name), parameters={"profile": "smoke"}, progress_bar=False
            )
    return runs / "smoke"


@pytest.fixture(scope="module")
def report(smoke_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return build_report(smoke_run, out / "report", out / "figures")


def test_every_section_is_written(report: dict[str, Path]) -> None:
    text = report["markdown"].read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == list(SECTIONS)


def test_every_referenced_figure_exists(report: dict[str, Path]) -> None:
    text = report["markdown"].read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) >= 10
    for figure in figures:
        assert (report["markdown"].parent / figure).is_file(), figure


def test_headline_numbers_equal_the_metrics_json(report: dict[str, Path]) -> None:
    text = report["markdown"].read_text()
    metrics = json.loads(report["metrics"].read_text())
    assert {*MODELS, *ENSEMBLES, SERVED} <= set(metrics["models"])  # and every other seed of the fine-tuned ones
    chosen = metrics["chosen"]["name"]
    for model in (*MODELS, *ENSEMBLES, SERVED):
        title = MODEL_TITLES[model] + (" **(chosen on validation)**" if model == chosen else "")
        row = next(line for line in text.split("\n") if line.startswith(f"| {title} | ") and "[" in line)
        shown = [float(cell.split(" [")[0]) for cell in row.strip("| ").split(" | ")[1:]]
        test = metrics["models"][model]["test"]
        expected = [test[k] for k in ("accuracy", "f1_weighted", "f1_macro", "loss")]
        assert shown == pytest.approx(expected, abs=5e-5), model


def test_out_of_domain_numbers_come_from_the_analysis(report: dict[str, Path], smoke_run: Path) -> None:
    ood = json.loads((smoke_run / "error_analysis" / "analysis.json").read_text())["out_of_domain"]
    lines = report["markdown"].read_text().split("\n")
    assert "### Out-of-domain text" in lines and any(line.startswith("- **Ordinary writing.**") for line in lines)
    for condition, key in (("as typed", "raw"), ("normalised", "normalised")):
        row = next(line for line in lines if line.startswith(f"| hand-written, {condition} | "))
        cells = row.strip("| ").split(" | ")
        assert cells[1] == str(ood["texts"]) and cells[2].startswith(f4(ood[key]["accuracy"]) + " [")
        assert cells[3].startswith(f4(ood[key]["f1_macro"]) + " [") and cells[4] == f"{ood[key]['gap_points']:.1f}"


def test_an_analysis_without_out_of_domain_results_names_notebook_06() -> None:
    with pytest.raises(ReportInputError, match="06_error_analysis"):
        _out_of_domain_result({"analysis": {}})


def test_html_is_one_self_contained_file(report: dict[str, Path]) -> None:
    html = report["html"].read_text()
    assert html.count("<img") >= 10 and html.count('src="data:image/png;base64,') == html.count("<img")
    assert "<table>" in html


def test_smoke_run_left_the_expected_artifacts(smoke_run: Path) -> None:
    for path in ("data/audit.json", "baselines/validation.json", "hpo/study.db", "evaluation/test_predictions.csv",
                 "tuned/model/README.md", "tuned/model/backend.json", "error_analysis/analysis.json"):  # fmt: skip
        assert (smoke_run / path).is_file(), path
    decision = json.loads((smoke_run / "tuned/model/backend.json").read_text())
    served = json.loads((smoke_run / "evaluation/metrics.json").read_text())["served_backend"]
    assert decision == served and decision["split"] == "validation" and decision["backend"] in BACKENDS
    card = (smoke_run / "tuned/model/README.md").read_text()
    assert card.startswith("---\n") and "model-index" in card and "dair-ai/emotion" in card
    assert f"served as `{decision['backend']}`" in card and "decided on the validation split" in card


def test_missing_artifact_names_its_notebook(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="05_evaluation"):
        build_report(tmp_path, tmp_path / "report", tmp_path / "figures")


def test_readme_headline_table_is_the_committed_reference_run() -> None:
    from helpers.paths import PROJECT_ROOT, REPORT_DIR
    from helpers.report import README_MARKERS, headline_table

    reference = REPORT_DIR / "metrics.json"
    if not reference.is_file():
        pytest.skip("no committed reference run yet (make report PROFILE=cpu)")
    readme = (PROJECT_ROOT / "README.md").read_text()
    start, end = README_MARKERS
    shown = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert shown == headline_table(json.loads(reference.read_text()))
    assert (REPORT_DIR / "report.md").is_file() and (REPORT_DIR / "report.html").is_file()
