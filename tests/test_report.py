"""The report builder, run on a real smoke run of notebooks 01-06, writes every section from the artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill
import pytest
from datasets import DatasetDict

from helpers.audit import audit_splits, save_audit
from helpers.evaluation import ENSEMBLES, MODELS, SERVED
from helpers.inference import BACKENDS
from helpers.modeling import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.report import (
    MODEL_TITLES,
    SECTIONS,
    ReportInputError,
    ReportWriter,
    _baselines,
    _data,
    _out_of_domain_result,
    build_report,
    f4,
    pct,
)
from helpers.tfidf import describe_choice, fit_tfidf

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


@pytest.fixture
def section_writer(easy_data: DatasetDict, tmp_path: Path) -> ReportWriter:
    """A report writer over the audit and TF-IDF grid of the easy set, read back from the JSON files they are
    saved in; the other artifacts are stand-ins and the figures empty files."""
    audit = audit_splits(easy_data, load_tokenizer(resolve_profile("smoke")))
    train, validation = easy_data["train"], easy_data["validation"]
    grid = fit_tfidf(train["text"], train["label"], validation["text"], validation["label"], seed=0)
    scores = {"accuracy": 0.5, "f1_weighted": 0.5, "f1_macro": 0.5, "loss": 1.0}
    artifacts = {
        "audit": json.loads(save_audit(audit, tmp_path).read_text()),
        "tfidf_grid": json.loads(grid.save_search(tmp_path / "tfidf_grid.json").read_text()),
        "metrics": {"models": {name: {"validation": scores} for name in MODELS}},
    }
    source = tmp_path / "source"
    source.mkdir()
    for name in ("class_distribution", "token_lengths", "baselines_validation"):
        (source / f"{name}.png").write_bytes(b"")
    return ReportWriter(artifacts, source, tmp_path / "figures", tmp_path / "report")


def test_data_section_states_the_text_form_from_audit_json(section_writer: ReportWriter) -> None:
    form = section_writer.a["audit"]["text_form"]
    _data(section_writer)
    text = section_writer.text()
    assert f"{pct(form['train']['feel_forms']['share'])} of the training texts contain feel" in text
    assert f"{pct(form['validation']['feel_forms']['share'])} of validation" in text
    assert f"{pct(form['train']['feel_word']['share'])} the word feel itself" in text
    first = form["train"]["first_words"][0]
    assert f"“{first['word']}” ({pct(first['share'])})" in text
    assert "No text in any split contains an upper-case letter" in text and "a–z and the space alone" in text

    form["train"]["upper_case"] = {"count": 24, "share": 0.1}  # a data set written by people
    section_writer.parts.clear()
    _data(section_writer)
    assert "10.0% contain an upper-case letter" in section_writer.text()


def test_baselines_section_describes_the_grid_from_its_json(section_writer: ReportWriter) -> None:
    grid = section_writer.a["tfidf_grid"]
    _baselines(section_writer)
    text = section_writer.text()
    chosen = grid["chosen"]
    assert f"best of {len(grid['grid'])} combinations" in text
    assert f"**{describe_choice(chosen)}**: weighted F1 {f4(chosen['f1_weighted'])}" in text
    assert "linear SVM with C in {0.03, 0.1, 0.3, 1, 3}" in text and "class weights none or balanced" in text
    for name, facts in grid["feature_sets"].items():
        assert f"{name} ({facts['features']:,} n-grams)" in text
    assert text.count("| word 1-2 | ") == text.count("| word 1-2 + char_wb 2-5 | ") == 2  # best per features, model
