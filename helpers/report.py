"""Build the written report of one run: Markdown, one self-contained HTML page, and the metrics it quotes.

The prose lives in `report/template.md.j2` and the section files it includes (`report/sections/`); this module
gathers the run's artifacts into one context and renders the template, nothing more. Every number comes from a
file: the JSON files the notebooks wrote, `benchmarks.json` from `make bench`, and `report/published.yaml` for
other people's figures. A fact the template asks for and the context lacks stops the build (StrictUndefined).

    python -m helpers.notebook_pages --profile cpu   # the executed notebooks as pages, which the report links
    python -m helpers.report --profile cpu           # report/report.md, report.html, figures/, the README table
    python -m helpers.pdf --profile cpu              # report/report.pdf from report.html

`make report PROFILE=cpu` runs the notebooks and then these three. The smoke profile writes everything under
runs/smoke/report/, never into report/ or figures/.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import yaml
from PIL import Image

from helpers import LABEL_NAMES
from helpers.evaluation import ENSEMBLES, MODELS, SERVED
from helpers.machine import describe
from helpers.method_comparison import FULL as FULL_FINE_TUNING
from helpers.notebook_pages import compress_png
from helpers.paths import PROJECT_ROOT, REPORT_DIR, report_dirs, runs_root
from helpers.tfidf import CLASSIFIER_TITLES, describe_choice

TEMPLATES = REPORT_DIR
TEMPLATE = "template.md.j2"
PUBLISHED = REPORT_DIR / "published.yaml"
COMMITTED_BENCHMARKS = REPORT_DIR / "benchmarks.json"
MODEL_TITLES = {
    "majority_class": "Majority class",
    "tfidf": "TF-IDF + linear model (chosen on validation)",
    "frozen_encoder_logreg": "Frozen encoder + logistic regression",
    "untrained_head": "Untrained classification head",
    "finetune_seed_recipe": "Fine-tuned, seed recipe",
    "finetune_tuned": "Fine-tuned, tuned by Optuna",
    SERVED: "Tuned, as served by default",
    "ensemble_seed_recipe": "Seed recipe, its seeds' ensemble",
    "ensemble_tuned": "Tuned, its seeds' ensemble",
}
CONFIGURATION_TITLES = {"finetune_seed_recipe": "seed recipe", "finetune_tuned": "tuned"}
METRIC_NAMES = {"accuracy": "accuracy", "f1_weighted": "weighted F1", "f1_macro": "macro F1"}
PRECISION_NAMES = {"bf16": "bf16 autocast", "fp16": "fp16 autocast", "no": "float32"}
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
    "Speed on a CPU",
    "Limitations",
    "Ethical considerations",
    "Reproducibility",
)
README_MARKERS = ("<!-- headline-table:start -->", "<!-- headline-table:end -->")


class ReportInputError(FileNotFoundError):
    """An input the report needs is missing or malformed: the message names it and what writes it."""


def _read_json(path: Path, notebook: str) -> Any:
    if not path.is_file():
        raise ReportInputError(f"{path}: missing; run notebooks/{notebook}.ipynb (make report) first")
    return json.loads(path.read_text(encoding="utf-8"))


def load_artifacts(run: Path) -> dict[str, Any]:
    """Everything the notebooks saved that the report is built from, read from the run folder."""
    artifacts = {
        "profile": _read_json(run / "evaluation" / "profile.json", "05_evaluation"),
        "audit": _read_json(run / "data" / "audit.json", "01_data"),
        "tfidf_grid": _read_json(run / "baselines" / "tfidf_grid.json", "02_baselines"),
        "finetune": _read_json(run / "finetune" / "training_result.json", "03_finetune"),
        "search": _read_json(run / "hpo" / "search.json", "04_hpo"),
        "tuned": _read_json(run / "tuned" / "training_result.json", "04_hpo"),
        "metrics": _read_json(run / "evaluation" / "metrics.json", "05_evaluation"),
        "analysis": _read_json(run / "error_analysis" / "analysis.json", "06_error_analysis"),
        "peft": _read_json(run / "peft" / "comparison.json", "07_peft"),
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


# Formatting: the template's filters ----------------------------------------------------------------------------


def f4(value: float) -> str:
    return f"{value:.4f}"


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def thousands(value: int) -> str:
    return f"{value:,}"


def fmt(value: Any, spec: str) -> str:
    """Python's format mini-language for the template: `{{ x | fmt("+.2f") }}`."""
    return format(value, spec)


def ci(value: float, interval: Sequence[float]) -> str:
    """A score with its 95% interval: `0.9280 [0.9160, 0.9385]`."""
    low, high = interval
    return f"{f4(value)} [{f4(low)}, {f4(high)}]"


def pm(mean: float, sd: float | None) -> str:
    """A mean over seeds with its standard deviation, or the mean alone when there is one seed."""
    return f4(mean) if sd is None else f"{f4(mean)} ± {f4(sd)}"


def cell(value: Any) -> str:
    """A value made safe for a Markdown table cell."""
    return str(value).replace("|", "\\|")


def quote(text: str, limit: int = 110) -> str:
    """A text on one line between quotation marks, cut at `limit` characters, safe for a table cell."""
    text = " ".join(text.split())
    return cell(f"“{text[:limit]}{'…' if len(text) > limit else ''}”")


FILTERS: dict[str, Callable[..., str]] = {
    "f4": f4,
    "pct": pct,
    "thousands": thousands,
    "fmt": fmt,
    "ci": ci,
    "pm": pm,
    "cell": cell,
    "quote": quote,
}


# The context: one function per section ------------------------------------------------------------------------


def _test(a: dict[str, Any], model: str) -> dict[str, Any]:
    return a["metrics"]["models"][model]["test"]


def _analysed(a: dict[str, Any]) -> str:
    """The model notebooks 05 and 06 analyse: chosen on validation (older runs: the tuned model)."""
    return a["metrics"].get("chosen", {}).get("name", "finetune_tuned")


def rows_facts(a: dict[str, Any]) -> dict[str, Any]:
    """How many texts the data set has and how many the run's models used (fewer when the profile takes subsets)."""
    full = a["audit"]["rows"]
    trained = a["metrics"]["runs"]["finetune_seed_recipe"]["rows"]
    used = {"train": trained["train"], "validation": trained["validation"], "test": a["analysis"]["test_rows"]}
    return {"full": full, "used": used, "subset": used != full, "trials": a["search"]["trial_train_rows"]}


def intro_facts(a: dict[str, Any]) -> dict[str, Any]:
    analysed = _analysed(a)
    return {
        "analysed": analysed,
        "analysed_test": _test(a, analysed),
        "tfidf_test": _test(a, "tfidf"),
        "tfidf_classifier": CLASSIFIER_TITLES[a["tfidf_grid"]["chosen"]["model"]],
    }


def data_facts(a: dict[str, Any]) -> dict[str, Any]:
    """The audit, with the class shares and the text-form findings the prose turns on."""
    audit = a["audit"]
    form = audit["text_form"]
    counts, rows = audit["class_counts"]["train"], audit["rows"]["train"]
    share = {name: counts[name] / rows for name in LABEL_NAMES}
    by_size = sorted(LABEL_NAMES, key=share.__getitem__, reverse=True)
    return {
        **audit,
        "train_share": share,
        "largest": by_size[:2],
        "smallest": by_size[-2:],
        "length": audit["token_length"]["train"]["all"],
        "longest": max(split["all"]["max"] for split in audit["token_length"].values()),
        "other_splits": [split for split in form if split != "train"],
        "cased_or_punctuated": any(f["upper_case"]["count"] or f["punctuation"]["count"] for f in form.values()),
        "only_a_z": not any(f["other_than_a_z_and_space"]["count"] for f in form.values()),
    }


def method_facts(a: dict[str, Any]) -> dict[str, Any]:
    return {"precision": a["metrics"]["runs"]["finetune_tuned"]["settings"]["precision"]}


def baseline_facts(a: dict[str, Any]) -> dict[str, Any]:
    """The four baselines on validation and the TF-IDF grid, with the best row per feature set and model."""
    grid = a["tfidf_grid"]
    rows = grid["grid"]
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:  # grid order, so a tie keeps the earlier row, as the search did
        key = (row["features"], row["model"])
        if key not in best or row["f1_weighted"] > best[key]["f1_weighted"]:
            best[key] = row
    models = list(dict.fromkeys(row["model"] for row in rows))
    return {
        "validation": {name: a["metrics"]["models"][name]["validation"] for name in MODELS[:4]},
        "grid": grid,
        "chosen_words": describe_choice(grid["chosen"]),
        "c_values": {model: sorted({r["C"] for r in rows if r["model"] == model}) for model in models},
        "class_weights": list(dict.fromkeys(r["class_weight"] for r in rows)),
        "best_rows": list(best.values()),
    }


def seed_table(summary: dict[str, Any], split: str) -> dict[str, Any]:
    """One configuration's seeds on one split: a row per seed, then the mean and sd."""
    return {
        "seeds": {name: scores[split] for name, scores in summary["seeds"].items()},
        "mean": summary["mean"][split],
        "sd": summary["sd"][split],
    }


def finetune_facts(a: dict[str, Any]) -> dict[str, Any]:
    seeds = a["metrics"].get("seeds", {}).get("finetune_seed_recipe")
    return {**a["finetune"], "seeds": seed_table(seeds, "validation") if seeds else None}


def search_facts(a: dict[str, Any]) -> dict[str, Any]:
    s = a["search"]
    states = [t["state"] for t in s["trials"]]
    return {
        **s,
        "counts": {state.lower(): states.count(state) for state in ("COMPLETE", "PRUNED", "FAIL")},
        "machines": len({str(t["worker"]).split(":")[0] for t in s["trials"] if t.get("worker")}) or 1,
        "storage": s.get("storage", "SQLite"),
        "tuned": a["tuned"],
        "coverage": s.get("coverage"),
        "retrained": s.get("retrained"),
    }


def results_facts(a: dict[str, Any]) -> dict[str, Any]:
    m = a["metrics"]
    analysed = _analysed(a)
    return {
        "headline": headline_rows(m),
        "seeds": {
            CONFIGURATION_TITLES.get(name, name): seed_table(summary, "test")
            for name, summary in m.get("seeds", {}).items()
        },
        "gain": m.get("search_gain"),
        "chosen": m.get("chosen"),
        "chosen_validation": m["models"][analysed]["validation"],
        "served": m.get("served_backend"),
        "mcnemar": m["mcnemar"],
        "analysed": analysed,
        "analysed_test": _test(a, analysed),
        "calibration": m["calibration"],
    }


def error_facts(a: dict[str, Any]) -> dict[str, Any]:
    return {**a["analysis"], "analysed": _analysed(a)}


def ood_facts(a: dict[str, Any]) -> dict[str, Any]:
    """The hand-written out-of-domain set; its test-split row is the analysed model's, interval included."""
    ood = a["analysis"].get("out_of_domain")
    if ood is None:
        raise ReportInputError(
            "error_analysis/analysis.json has no out_of_domain section; run notebooks/06_error_analysis.ipynb again"
        )
    per_label = ood["per_label"].values()
    return {
        **ood,
        "test_ci": _test(a, _analysed(a))["ci95"],
        "per_label_range": (min(per_label), max(per_label)),
        "remedy_points": ood["raw"]["gap_points"] - ood["normalised"]["gap_points"],
    }


def peft_facts(a: dict[str, Any]) -> dict[str, Any]:
    """Notebook 07's comparison: its table, and each method against full fine-tuning under short names."""
    comparison = a["peft"]
    full = next(row for row in comparison["table"] if row["configuration"] == FULL_FINE_TUNING)
    names = {
        "share": "share of weights trained",
        "saved_share": "saved size, share of full",
        "speed": "training speed, times full",
        "memory_mib": "peak memory, MiB more than full",
        "validation_f1_points": "validation macro F1, points",
        "validation_accuracy_points": "validation accuracy, points",
        "test_f1_points": "test macro F1, points",
        "test_accuracy_points": "test accuracy, points",
    }
    versus = [
        {"configuration": row["configuration"], **{short: row[long] for short, long in names.items()}}
        for row in comparison["versus_full"]
    ]
    return {**comparison, "full": full, "versus": versus}


def shown_path(path: Path) -> str:
    """A path as the report names it: relative to the repository, or under `runs/`, wherever runs are kept."""
    path = path.resolve()
    for root, shown in ((runs_root().resolve(), Path("runs")), (PROJECT_ROOT, Path())):
        if path.is_relative_to(root):
            return (shown / path.relative_to(root)).as_posix()
    return path.as_posix()


def speed_facts(bench: dict[str, Any] | None) -> dict[str, Any] | None:
    """`make bench`'s measurements, where the file came from, and the machine in words."""
    if bench is None:
        return None
    return {
        **bench,
        "file": shown_path(Path(bench["path"])),
        "date": bench["created"][:10],
        "machine_words": describe(bench["machine"]),
        "training_rows": [
            {"model": name, "recipe": recipe, **row}
            for name, model in bench["training"].items()
            for recipe, row in model["recipes"].items()
        ],
        "has_parallel": "parallel" in bench,
        "has_precision": "precision" in bench,
    }


def reproducibility_facts(a: dict[str, Any]) -> dict[str, Any]:
    env = a["metrics"].get("environment", {})
    wall = a["wall_seconds"]
    return {
        "environment": env,
        "machine_words": describe(env),
        "libraries": {name: version for name, version in env.get("libraries", {}).items() if version},
        "wall_minutes": {name: seconds / 60 for name, seconds in sorted(wall.items())},
        "total_minutes": sum(wall.values()) / 60,
    }


def build_context(
    artifacts: dict[str, Any],
    published: dict[str, Any],
    bench: dict[str, Any] | None,
    figure: Callable[[str, str], str],
    pages: NotebookPages,
) -> dict[str, Any]:
    """Everything the template may say, as plain data; figures and notebook pages are looked up by name."""
    a = artifacts
    return {
        "profile": a["profile"],
        "rows": rows_facts(a),
        "published": published,
        "intro": intro_facts(a),
        "data": data_facts(a),
        "method": method_facts(a),
        "baselines": baseline_facts(a),
        "finetune": finetune_facts(a),
        "search": search_facts(a),
        "results": results_facts(a),
        "errors": error_facts(a),
        "ood": ood_facts(a),
        "peft": peft_facts(a),
        "speed": speed_facts(bench),
        "reproducibility": reproducibility_facts(a),
        "labels": LABEL_NAMES,
        "model_titles": MODEL_TITLES,
        "classifier_titles": CLASSIFIER_TITLES,
        "precision_names": PRECISION_NAMES,
        "metric_names": METRIC_NAMES,
        "figure": figure,
        "notebook": pages,
        "notebooks": pages.all(),
    }


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


class NotebookPages:
    """The executed notebooks published beside the report (`helpers.notebook_pages`), found by name."""

    def __init__(self, report_dir: Path) -> None:
        self.folder = report_dir / "notebooks"
        self.report_dir = report_dir

    def __call__(self, name: str) -> dict[str, str]:
        page = self.folder / f"{name}.md"
        if not page.is_file():
            raise ReportInputError(
                f"{page}: missing; publish the executed notebooks first (python -m helpers.notebook_pages, or "
                "make report)"
            )
        lines = page.read_text(encoding="utf-8").split("\n")
        title = next((line[2:].strip() for line in lines if line.startswith("# ")), name)
        base = Path(os.path.relpath(page, self.report_dir)).with_suffix("")
        return {"name": name, "title": title, "md": f"{base.as_posix()}.md", "html": f"{base.as_posix()}.html"}

    def all(self) -> list[dict[str, str]]:
        return [self(page.stem) for page in sorted(self.folder.glob("*.md"))]


# Rendering ----------------------------------------------------------------------------------------------------


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """Jinja2 for Markdown: no HTML escaping, StrictUndefined, block tags leave no blank lines behind."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def reflow(text: str) -> str:
    """Join the lines the template wraps for its editors, so each paragraph and list item is one line.

    Tables, headings, images and code keep their lines; runs of blank lines become one.
    """
    blocks = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.strip("\n").split("\n")]
        if lines[0].startswith(("|", "#", "```", "<")):
            out.append("\n".join(lines))
            continue
        items: list[str] = []
        for line in lines:
            if line.startswith("- ") or not items:
                items.append(line)
            else:
                items[-1] += " " + line
        out.append("\n".join(items))
    return "\n\n".join(out) + "\n"


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """The template rendered and reflowed; a fact it asks for and the context lacks names the template line."""
    try:
        return reflow(env.get_template(name).render(context))
    except jinja2.UndefinedError as error:
        frames = traceback.extract_tb(error.__traceback__)
        where = next((f"{f.filename}, line {f.lineno}" for f in reversed(frames) if f.filename.endswith(".j2")), name)
        raise ReportInputError(f"{where}: the template asks for a fact the context lacks: {error}") from error


def headline_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Every model's test scores (the fine-tuned ones with the profile's seed); the analysed model is marked."""
    chosen = metrics.get("chosen", {}).get("name")
    return [
        {"title": MODEL_TITLES[model], "chosen": model == chosen, "test": metrics["models"][model]["test"]}
        for model in (*MODELS, *ENSEMBLES, SERVED)
        if model in metrics["models"]
    ]


def headline_table(metrics: dict[str, Any], templates: Path = TEMPLATES) -> str:
    """The headline table alone, as the report and the README show it."""
    text = environment(templates).get_template("sections/_headline_table.md.j2").render(headline=headline_rows(metrics))
    return text.strip()


def update_readme(readme: Path, metrics: dict[str, Any]) -> None:
    """Replace the README's headline table (between its markers) with the one from `metrics`."""
    start, end = README_MARKERS
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{readme}: no {start} ... {end} markers to put the headline table between")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{headline_table(metrics)}\n{end}{after}", encoding="utf-8")


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem}"
    "img{max-width:100%}em{color:#555}code{background:#f4f4f4;padding:0 .2rem}"
    "figure{margin:1rem 0}figcaption{color:#555;font-style:italic}"
)
PRINT_STYLE = (
    "@page{size:A4;margin:16mm 14mm 18mm;"
    "@bottom-center{content:counter(page) ' / ' counter(pages);font:9pt system-ui,sans-serif;color:#666}}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.4}"
    "figure,table,tr,li,pre,blockquote{break-inside:avoid}h1,h2,h3,h4{break-after:avoid}"
    "p:has(+table),p:has(+figure),p:has(+ul){break-after:avoid}"
    "figure img{display:block;max-width:100%;max-height:120mm;margin:0 auto}figure.tall img{max-height:215mm}"
    "figcaption{text-align:center}"
    "a{color:inherit}td,th{padding:.15rem .35rem}}"
)


def to_html(markdown_text: str, base: Path, title: str) -> str:
    """One self-contained HTML page: the Markdown rendered, each figure embedded (in 256 colours, as the notebook
    pages) with its caption, links to the notebook pages pointing at their HTML copies, and print rules for the
    PDF. A figure taller than wide is marked, so that print gives it more of the page's height."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])

    def figure(match: re.Match[str]) -> str:
        image, caption = match.groups()
        path = base / re.search(r'src="([^"]+)"', image).group(1)
        width, height = Image.open(path).size
        png = base64.b64encode(compress_png(path.read_bytes())).decode("ascii")
        image = re.sub(r'src="[^"]+"', f'src="data:image/png;base64,{png}"', image)
        tall = ' class="tall"' if height > width else ""
        return f"<figure{tall}>{image}<figcaption>{caption}</figcaption></figure>"

    body = re.sub(r"<p>(<img [^>]+>)</p>\s*<p><em>(.*?)</em></p>", figure, body)
    body = re.sub(r'href="(notebooks/[^"]+)\.md"', r'href="\1.html"', body)
    head = f'<meta charset="utf-8"><title>{title}</title><style>{PAGE_STYLE}{PRINT_STYLE}</style>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>\n'


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
    (report_dir / "report.pdf").unlink(missing_ok=True)  # printed from the old HTML: `helpers.pdf` prints it anew
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
    parser = argparse.ArgumentParser(prog="python -m helpers.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, help="the run to report on (runs/<profile>)")
    parser.add_argument("--report-dir", type=Path, help="default: report/ (runs/smoke/report for smoke)")
    parser.add_argument("--figures-dir", type=Path, help="default: figures/ (runs/smoke/report/figures for smoke)")
    args = parser.parse_args(argv)
    default_report, default_figures = report_dirs(args.profile)
    report_dir = args.report_dir or default_report
    figures_dir = args.figures_dir or (report_dir / "figures" if args.report_dir else default_figures)
    paths = build_report(runs_root() / args.profile, report_dir, figures_dir)
    if report_dir.resolve() == REPORT_DIR.resolve():
        update_readme(PROJECT_ROOT / "README.md", json.loads(paths["metrics"].read_text(encoding="utf-8")))
        paths["readme"] = PROJECT_ROOT / "README.md"
    print("\n".join(f"{kind}: {path}" for kind, path in paths.items()))


if __name__ == "__main__":
    main()
