"""The README's headline table, rendered from a run's metrics between its markers."""

from __future__ import annotations

from pathlib import Path

from helpers.evaluation.names import ENSEMBLES, MODELS, SERVED
from helpers.evaluation.results import EvaluationResults
from helpers.reporting.templates import TEMPLATES, environment
from helpers.reporting.titles import model_title

README_MARKERS = ("<!-- headline-table:start -->", "<!-- headline-table:end -->")


def headline_rows(metrics: EvaluationResults) -> list[dict[str, object]]:
    """Every model's test scores (the fine-tuned ones with the profile's seed, and the chosen model whatever its
    seed), then the served model on its back end; the analysed model is marked."""
    chosen = metrics.chosen["name"]
    shown = [*MODELS, *ENSEMBLES]
    if chosen not in shown:
        shown.append(chosen)
    return [
        {"title": model_title(model), "chosen": model == chosen, "test": metrics.models[model]["test"]}
        for model in (*shown, SERVED)
        if model in metrics.models
    ]


def headline_table(metrics: EvaluationResults, templates: Path = TEMPLATES) -> str:
    """The headline table alone, as the report and the README show it."""
    text = environment(templates).get_template("sections/_headline_table.md.j2").render(headline=headline_rows(metrics))
    return text.strip()


def update_readme(readme: Path, metrics: EvaluationResults) -> None:
    """Replace the README's headline table (between its markers) with the one from `metrics`."""
    start, end = README_MARKERS
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{readme}: no {start} ... {end} markers to put the headline table between")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{headline_table(metrics)}\n{end}{after}", encoding="utf-8")
