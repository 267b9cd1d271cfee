"""The report, built as `make report` builds it from a real smoke run of notebooks 01-06: the template renders
every section from the artifacts, says what the smoke run used, quotes published figures from their data file,
links the executed notebooks' pages, and Chromium prints it to a PDF of several pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import papermill
import pytest
from datasets import DatasetDict
from PIL import Image

from helpers import LABEL_NAMES
from helpers.baselines.tfidf import CLASSIFIER_TITLES, describe_choice, fit_tfidf
from helpers.data.audit import audit_splits, save_audit
from helpers.evaluation.names import ENSEMBLES, MODELS, SERVED
from helpers.evaluation.results import EvaluationResults
from helpers.models.building import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.reporting.artifacts import (
    COMMITTED_BENCHMARKS,
    PUBLISHED,
    ReportInputError,
    choose_benchmarks,
    load_published,
)
from helpers.reporting.build import SECTIONS, build_report
from helpers.reporting.context import baseline_facts, data_facts
from helpers.reporting.filters import f4, pct
from helpers.reporting.pages import publish_notebooks
from helpers.reporting.pdf import print_pdf
from helpers.reporting.templates import environment, reflow
from helpers.reporting.titles import MODEL_TITLES, model_title
from helpers.serving.backends import BACKENDS
from helpers.serving.served import SERVED_RECORD, served_model_folder

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path) -> Path:
    """Execute every notebook in the smoke profile into a scratch runs folder, as `make notebooks` would."""
    runs = tmp_path_factory.mktemp("runs")
    executed = runs / "smoke" / "notebooks"
    executed.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOTION_RUNS_DIR", str(runs))
        patch.setenv("EMOTION_DATA_DIR", str(real_data_dir))
        for notebook in NOTEBOOKS:
            papermill.execute_notebook(
                str(notebook), str(executed / notebook.name), parameters={"profile": "smoke"}, progress_bar=False
            )
    return runs / "smoke"


@pytest.fixture(scope="module")
def report(smoke_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The notebook pages, then the report, as `make report` writes them (the PDF has its own test)."""
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOTION_RUNS_DIR", str(smoke_run.parent))
        publish_notebooks(smoke_run / "notebooks", out / "report")
        return build_report(smoke_run, out / "report", out / "figures")


@pytest.fixture(scope="module")
def artifacts(smoke_run: Path) -> Callable[[str], Any]:
    return lambda path: json.loads((smoke_run / path).read_text())


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
    for model in dict.fromkeys((*MODELS, *ENSEMBLES, chosen, SERVED)):  # the chosen one whatever its seed
        title = model_title(model) + (" **(chosen on validation)**" if model == chosen else "")
        row = next(line for line in text.split("\n") if line.startswith(f"| {title} | ") and "[" in line)
        shown = [float(cell.split(" [")[0]) for cell in row.strip("| ").split(" | ")[1:]]
        test = metrics["models"][model]["test"]
        expected = [test[k] for k in ("accuracy", "f1_weighted", "f1_macro", "loss")]
        assert shown == pytest.approx(expected, abs=5e-5), model


def test_smoke_report_says_what_the_run_used(report: dict[str, Path], artifacts: Callable[[str], Any]) -> None:
    """A smoke run trains on subsets and its search has no trial subset of its own: the prose says so."""
    text = report["markdown"].read_text()
    rows = artifacts("evaluation/metrics.json")["runs"]["finetune_seed_recipe"]["rows"]
    test_rows = artifacts("error_analysis/analysis.json")["test_rows"]
    full = artifacts("data/audit.json")["rows"]
    assert artifacts("hpo/search.json")["trial_train_rows"] is None and rows["train"] < full["train"]
    used = f"{rows['train']:,} training, {rows['validation']:,} validation and {test_rows:,} test texts"
    assert f"stratified subsets of the data ({used})" in text
    assert f"each trained on the same {rows['train']:,} training texts as the other models (this run's subset)" in text
    assert f"trained on {rows['train']:,} texts" in text  # the seed recipe
    assert f"({test_rows:,} tweets, a stratified subset of the {full['test']:,})" in text
    assert "full training split" not in text and "on the trial subset" not in text
    assert "Did the subset predict the full data?" not in text and "| trial rank | trial score |" in text


def test_out_of_domain_numbers_come_from_the_analysis(report: dict[str, Path], artifacts: Callable[[str], Any]) -> None:
    ood = artifacts("error_analysis/analysis.json")["out_of_domain"]
    metrics = artifacts("evaluation/metrics.json")
    lines = report["markdown"].read_text().split("\n")
    assert "### Out-of-domain text" in lines and any(line.startswith("- **Ordinary writing.**") for line in lines)
    for condition, key in (("as typed", "raw"), ("normalised", "normalised")):
        row = next(line for line in lines if line.startswith(f"| hand-written, {condition} | "))
        cells = row.strip("| ").split(" | ")
        assert cells[1] == str(ood["texts"]) and cells[2].startswith(f4(ood[key]["accuracy"]) + " [")
        assert cells[3].startswith(f4(ood[key]["f1_macro"]) + " [") and cells[4] == f"{ood[key]['gap_points']:.1f}"
    low, high = metrics["models"][metrics["chosen"]["name"]]["test"]["ci95"]["accuracy"]  # the analysed model's
    row = next(line for line in lines if line.startswith("| test split | "))
    assert f"{f4(ood['in_domain_test']['accuracy'])} [{f4(low)}, {f4(high)}]" in row


def test_a_fact_missing_from_the_context_names_the_template_line(smoke_run: Path, tmp_path: Path) -> None:
    """StrictUndefined: a template that asks for something the artifacts lack fails, naming where."""
    templates = tmp_path / "templates"
    shutil.copytree(PUBLISHED.parent / "sections", templates / "sections")
    shutil.copy(PUBLISHED.parent / "template.md.j2", templates)
    ethics = templates / "sections" / "ethics.md.j2"
    ethics.write_text(ethics.read_text() + "\n{{ results.calibration.no_such_fact }}\n")
    publish_notebooks(smoke_run / "notebooks", tmp_path / "report")
    with pytest.raises(ReportInputError, match=r"ethics\.md\.j2, line \d+: .*no_such_fact"):
        build_report(smoke_run, tmp_path / "report", tmp_path / "figures", templates=templates)


def test_published_figures_come_from_their_data_file(report: dict[str, Path], smoke_run: Path, tmp_path: Path) -> None:
    published = load_published()
    text = report["markdown"].read_text()
    for source in published.values():
        assert source["source"] in text
        for figure in source["figures"].values():
            assert figure["value"] in text
    changed = tmp_path / "published.yaml"
    changed.write_text(PUBLISHED.read_text().replace('"0.941"', '"0.777"'))
    shutil.copytree(report["markdown"].parent / "notebooks", tmp_path / "report" / "notebooks")
    rebuilt = build_report(smoke_run, tmp_path / "report", tmp_path / "figures", published=changed)
    text = rebuilt["markdown"].read_text()
    assert "a *validation* accuracy of 0.777" in text and "0.941" not in text

    changed.write_text(PUBLISHED.read_text().replace("split: validation", "split: dev", 1))
    with pytest.raises(ReportInputError, match="seed_model_card.figures.accuracy"):
        load_published(changed)


def test_notebook_pages_exist_and_are_linked(report: dict[str, Path], smoke_run: Path) -> None:
    folder = report["markdown"].parent / "notebooks"
    text = report["markdown"].read_text()
    html = report["html"].read_text()
    for executed in sorted((smoke_run / "notebooks").glob("*.ipynb")):
        name = executed.stem
        page = folder / f"{name}.md"
        assert page.is_file() and (folder / f"{name}.html").is_file()
        assert f"](notebooks/{name}.md)" in text and f'href="notebooks/{name}.html"' in html
        images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text())
        for image in images:
            assert (folder / image).is_file() and Image.open(folder / image).mode == "P"  # 256 colours
        assert all(src in (folder / f"{name}.html").read_text() for src in images)
        assert str(smoke_run.parent) not in page.read_text()  # the machine's paths read runs/...
    assert len(list(folder.glob("*.md"))) == len(NOTEBOOKS)
    for section, name in (("Data", "01_data"), ("Hyperparameter search", "04_hpo"), ("Results", "05_evaluation")):
        body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert f"](notebooks/{name}.md)" in body


def test_html_is_one_self_contained_file(report: dict[str, Path]) -> None:
    html = report["html"].read_text()
    assert html.count("<img") >= 10 and html.count('src="data:image/png;base64,') == html.count("<img")
    assert "<table>" in html and html.count("<figure") == html.count("<img") and "@page" in html


def test_report_prints_to_a_pdf_with_chromium(report: dict[str, Path], chromium: Path, poppler: None) -> None:
    pdf = print_pdf(report["html"], report["html"].with_suffix(".pdf"), chromium)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"^Pages:\s+(\d+)", info, flags=re.MULTILINE).group(1)) > 1
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Hyperparameter search" in text and "Ethical considerations" in text and "1 / " in text


def test_speed_section_names_its_command_and_date(
    report: dict[str, Path], smoke_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(smoke_run.parent))
    text = report["markdown"].read_text()
    assert "No speed measurements for profile `smoke`: `make bench PROFILE=smoke`" in text
    bench = json.loads(COMMITTED_BENCHMARKS.read_text()) | {"profile": "smoke", "created": "2031-01-02T03:04:05"}
    (smoke_run / "benchmarks.json").write_text(json.dumps(bench))
    try:
        shutil.copytree(report["markdown"].parent / "notebooks", tmp_path / "report" / "notebooks")
        text = build_report(smoke_run, tmp_path / "report", tmp_path / "figures")["markdown"].read_text()
    finally:
        (smoke_run / "benchmarks.json").unlink()
    assert "*Measured by `make bench PROFILE=smoke` on 2031-01-02" in text
    assert "read from `runs/smoke/benchmarks.json`" in text


def test_the_newest_benchmark_of_the_profile_wins(tmp_path: Path) -> None:
    def bench(path: Path, profile: str, created: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"profile": profile, "created": created, "inference": {"split": "validation"}}))
        return path

    run, committed = tmp_path / "runs" / "cpu", bench(tmp_path / "report" / "benchmarks.json", "cpu", "2030-01-01")
    assert choose_benchmarks(run, "cpu", committed)["path"] == committed  # a fresh clone: the committed one
    bench(run / "benchmarks.json", "cpu", "2029-12-31")
    assert choose_benchmarks(run, "cpu", committed)["path"] == committed  # older than the committed one
    bench(run / "benchmarks.json", "cpu", "2030-02-01")
    assert choose_benchmarks(run, "cpu", committed)["path"] == run / "benchmarks.json"
    assert choose_benchmarks(run, "gpu", committed) is None  # another profile's measurements are not shown


def test_smoke_run_left_the_expected_artifacts(smoke_run: Path) -> None:
    for path in ("data/audit.json", "baselines/validation.json", "hpo/study.db", "evaluation/test_predictions.csv",
                 "evaluation/choices.json", "error_analysis/analysis.json"):  # fmt: skip
        assert (smoke_run / path).is_file(), path
    metrics = json.loads((smoke_run / "evaluation/metrics.json").read_text())
    choices = json.loads((smoke_run / "evaluation/choices.json").read_text())
    assert choices["chosen"] == metrics["chosen"] and choices["served_backend"] == metrics["served_backend"]
    robustness = json.loads((smoke_run / "robustness" / SERVED_RECORD).read_text())
    assert served_model_folder(smoke_run) == smoke_run / robustness["folder"]  # what the demo and CLI load: 08's
    served_dir = smoke_run / json.loads((smoke_run / "evaluation" / SERVED_RECORD).read_text())["folder"]
    chosen = metrics["chosen"]
    served_run = Path(chosen["folders"][chosen["members"].index(chosen["served"])])
    assert served_dir.parent.name == served_run.name and served_dir.name == "model"
    decision = json.loads((served_dir / "backend.json").read_text())
    assert decision == metrics["served_backend"] and decision["backend"] in BACKENDS
    card = (served_dir / "README.md").read_text()
    assert card.startswith("---\n") and "model-index" in card and "dair-ai/emotion" in card
    agreement = decision["agreement"]  # the card's account of the decision is the decision's own measurement
    assert f"served as `{decision['backend']}`" in card
    assert f"changed {agreement['changed_labels']} of {agreement['texts']} float32 labels" in card
    assert agreement["texts"] == metrics["runs"][chosen["served"]]["rows"]["validation"]  # validation's texts
    rows = metrics["runs"][metrics["chosen"]["served"]]["rows"]
    assert f"{rows['train']:,} training texts" in card and "% of the training texts" in card


def test_missing_artifact_names_its_notebook(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="05_evaluation"):
        build_report(tmp_path, tmp_path / "report", tmp_path / "figures")


def test_readme_headline_table_is_the_committed_reference_run() -> None:
    from helpers.paths import PROJECT_ROOT, REPORT_DIR
    from helpers.reporting.readme import README_MARKERS, headline_table

    reference = REPORT_DIR / "metrics.json"
    if not reference.is_file():
        pytest.skip("no committed reference run yet (make report PROFILE=cpu)")
    readme = (PROJECT_ROOT / "README.md").read_text()
    start, end = README_MARKERS
    shown = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert shown == headline_table(EvaluationResults.load(reference))
    assert (REPORT_DIR / "report.md").is_file() and (REPORT_DIR / "report.html").is_file()


def test_reflow_joins_wrapped_lines_and_keeps_tables() -> None:
    text = "## Title\n\nOne\nparagraph.\n\n- an item\n  that wraps\n- another\n\n| a | b |\n| --- | --- |\n\n\n\nEnd.\n"
    joined = "## Title\n\nOne paragraph.\n\n- an item that wraps\n- another\n\n| a | b |\n| --- | --- |\n\nEnd.\n"
    assert reflow(text) == joined


@pytest.fixture
def section_context(easy_data: DatasetDict, tmp_path: Path) -> dict[str, Any]:
    """Facts for one section over the audit and TF-IDF grid of the easy set, read back from their JSON files; the
    other facts are stand-ins, and figures and notebook pages are looked up by name only."""
    audit = audit_splits(easy_data, load_tokenizer(resolve_profile("smoke")))
    train, validation = easy_data["train"], easy_data["validation"]
    grid = fit_tfidf(train["text"], train["label"], validation["text"], validation["label"], seed=0)
    scores = {"accuracy": 0.5, "f1_weighted": 0.5, "f1_macro": 0.5, "loss": 1.0}
    artifacts = {
        "audit": json.loads(save_audit(audit, tmp_path).read_text()),
        "tfidf_grid": json.loads(grid.save_search(tmp_path / "tfidf_grid.json").read_text()),
        "metrics": EvaluationResults(
            profile="smoke",
            models={name: {"validation": scores} for name in MODELS},
            **dict.fromkeys(("chosen", "seeds", "search_gain", "served_backend", "runs", "mcnemar"), {}),
            calibration={},
            environment={},
        ),
    }
    rows = artifacts["audit"]["rows"]
    return {
        "artifacts": artifacts,
        "profile": {"name": "smoke"},
        "rows": {"full": rows, "used": rows, "subset": False, "trials": None},
        "data": data_facts(artifacts),
        "baselines": baseline_facts(artifacts),
        "labels": LABEL_NAMES,
        "model_titles": MODEL_TITLES,
        "classifier_titles": CLASSIFIER_TITLES,
        "figure": lambda name, caption: f"![{caption}]({name}.png)",
        "notebook": lambda name: {"title": name, "md": f"notebooks/{name}.md"},
    }


def render_section(name: str, context: dict[str, Any]) -> str:
    return reflow(environment().get_template(f"sections/{name}.md.j2").render(context))


def test_data_section_states_the_text_form_from_audit_json(section_context: dict[str, Any]) -> None:
    form = section_context["artifacts"]["audit"]["text_form"]
    text = render_section("01_data", section_context)
    assert f"{pct(form['train']['feel_forms']['share'])} of the training texts contain feel" in text
    assert f"{pct(form['validation']['feel_forms']['share'])} of validation" in text
    assert f"{pct(form['train']['feel_word']['share'])} the word feel itself" in text
    first = form["train"]["first_words"][0]
    assert f"“{first['word']}” ({pct(first['share'])})" in text
    assert "No text in any split contains an upper-case letter" in text and "a–z and the space alone" in text

    form["train"]["upper_case"] = {"count": 24, "share": 0.1}  # a data set written by people
    section_context["data"] = data_facts(section_context["artifacts"])
    assert "10.0% contain an upper-case letter" in render_section("01_data", section_context)


def test_data_section_names_the_largest_and_smallest_classes(section_context: dict[str, Any]) -> None:
    counts = section_context["artifacts"]["audit"]["class_counts"]["train"]
    counts.update({"joy": counts["joy"] + 30, "love": counts["love"] - 20})  # no longer balanced
    section_context["data"] = data_facts(section_context["artifacts"])
    text = render_section("01_data", section_context)
    assert re.search(r"joy \(\d+\.\d%\) and \w+ \(\d+\.\d%\) dominate", text)
    assert "love is" in text.split("dominate the training split,", 1)[1][:12]


def test_baselines_section_describes_the_grid_from_its_json(section_context: dict[str, Any]) -> None:
    grid = section_context["artifacts"]["tfidf_grid"]
    text = render_section("02_baselines", section_context)
    chosen = grid["chosen"]
    assert f"best of {len(grid['grid'])} combinations" in text
    assert f"**{describe_choice(chosen)}**: weighted F1 {f4(chosen['f1_weighted'])}" in text
    assert "linear SVM with C in {0.03, 0.1, 0.3, 1, 3}" in text and "class weights none or balanced" in text
    for name, facts in grid["feature_sets"].items():
        assert f"{name} ({facts['features']:,} n-grams)" in text
    assert text.count("| word 1-2 | ") == text.count("| word 1-2 + char_wb 2-5 | ") == 2  # best per features, model
