"""`make report`: the run's artifacts through the templates into report.md and report.html, figures published beside."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from helpers.evaluation.results import EvaluationResults
from helpers.paths import PROJECT_ROOT, REPORT_DIR, report_dirs, runs_root
from helpers.reporting.artifacts import (
    COMMITTED_BENCHMARKS,
    PUBLISHED,
    ReportInputError,
    choose_benchmarks,
    load_artifacts,
    load_published,
)
from helpers.reporting.context import build_context
from helpers.reporting.html import to_html
from helpers.reporting.pages import NotebookPages
from helpers.reporting.readme import update_readme
from helpers.reporting.templates import TEMPLATE, TEMPLATES, environment, render

SECTIONS = (
    "Introduction",
    "Data",
    "Method",
    "Baselines",
    "Fine-tuning",
    "Hyperparameter search",
    "Results",
    "Error analysis",
    "Parameter-efficient fine-tuning",
    "Robustness: text as people write it",
    "Speed on a CPU",
    "Limitations",
    "Ethical considerations",
    "Reproducibility",
)


# Figures and notebook pages, looked up by the template ---------------------------------------------------------


class Figures:
    """The template's `figure(name, caption)`: the Markdown for a figure the run saved; `copy()` then puts the
    figures used beside the report."""

    def __init__(self, source: Path, target: Path, report_dir: Path) -> None:
        self.source, self.target, self.report_dir = source, target, report_dir
        self.used: list[Path] = []

    def __call__(self, name: str, caption: str) -> str:
        path = self.source / f"{name}.png"
        if not path.is_file():
            raise ReportInputError(f"{path}: figure missing; re-run the notebook that saves it")
        self.used.append(path)
        relative = Path(os.path.relpath(self.target / path.name, self.report_dir)).as_posix()
        return f"![{caption}]({relative})\n\n*{caption}*"

    def copy(self) -> list[Path]:
        self.target.mkdir(parents=True, exist_ok=True)
        copied = []
        for path in self.used:
            target = self.target / path.name
            if path.resolve() != target.resolve():
                shutil.copy2(path, target)
            copied.append(target)
        return copied


def build_report(
    run: Path,
    report_dir: Path,
    figures_dir: Path,
    published: Path = PUBLISHED,
    templates: Path = TEMPLATES,
    committed_benchmarks: Path = COMMITTED_BENCHMARKS,
) -> dict[str, Path]:
    """Write report.md, report.html and metrics.json into `report_dir`, the figures they use into `figures_dir`."""
    artifacts = load_artifacts(run)
    bench = choose_benchmarks(run, artifacts["profile"]["name"], committed_benchmarks)
    figures = Figures(run / "figures", figures_dir, report_dir)
    context = build_context(artifacts, load_published(published), bench, figures, NotebookPages(report_dir))
    text = render(environment(templates), TEMPLATE, context)
    report_dir.mkdir(parents=True, exist_ok=True)
    # printed from the old HTML: `helpers.reporting.pdf` prints it anew
    (report_dir / "report.pdf").unlink(missing_ok=True)
    figures.copy()
    paths = {
        "markdown": report_dir / "report.md",
        "html": report_dir / "report.html",
        "metrics": report_dir / "metrics.json",
    }
    paths["markdown"].write_text(text, encoding="utf-8")
    paths["html"].write_text(to_html(text, report_dir, "Emotion detection: report"), encoding="utf-8")
    shutil.copy2(run / "evaluation" / "metrics.json", paths["metrics"])
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.reporting", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, help="the run to report on (runs/<profile>)")
    parser.add_argument("--report-dir", type=Path, help="default: report/ (runs/smoke/report for smoke)")
    parser.add_argument("--figures-dir", type=Path, help="default: figures/ (runs/smoke/report/figures for smoke)")
    args = parser.parse_args(argv)
    default_report, default_figures = report_dirs(args.profile)
    report_dir = args.report_dir or default_report
    figures_dir = args.figures_dir or (report_dir / "figures" if args.report_dir else default_figures)
    paths = build_report(runs_root() / args.profile, report_dir, figures_dir)
    if report_dir.resolve() == REPORT_DIR.resolve():
        update_readme(PROJECT_ROOT / "README.md", EvaluationResults.load(paths["metrics"]))
        paths["readme"] = PROJECT_ROOT / "README.md"
    print("\n".join(f"{kind}: {path}" for kind, path in paths.items()))
