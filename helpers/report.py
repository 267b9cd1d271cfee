"""Build the written report (Markdown and one self-contained HTML file) from a run's saved artifacts.

Every number in the report is read from the JSON files the notebooks wrote; none is typed here.

    python -m helpers.report --profile cpu      # writes report/ and figures/
    python -m helpers.report --profile smoke    # writes runs/smoke/report/ (never report/ or figures/)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from helpers import LABEL_NAMES
from helpers.evaluation import ENSEMBLES, MODELS, SERVED
from helpers.machine import describe
from helpers.paths import FIGURES_DIR, PROJECT_ROOT, REPORT_DIR, runs_root
from helpers.tfidf import CLASSIFIER_TITLES, describe_choice

NOTEBOOK_ORDER = ("01_data", "02_baselines", "03_finetune", "04_hpo", "05_evaluation", "06_error_analysis")
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
SECTIONS = (
    "Introduction",
    "Data",
    "Method",
    "Baselines",
    "Fine-tuning",
    "Hyperparameter search",
    "Results",
    "Error analysis",
    "Limitations",
    "Ethical considerations",
    "Reproducibility",
)


class ReportInputError(FileNotFoundError):
    """An artifact the report needs is missing: the message names it and the notebook that writes it."""


def f4(value: float) -> str:
    return f"{value:.4f}"


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _read_json(path: Path, notebook: str) -> Any:
    if not path.is_file():
        raise ReportInputError(f"{path}: missing; run notebooks/{notebook}.ipynb (make report) first")
    return json.loads(path.read_text(encoding="utf-8"))


def load_artifacts(run: Path) -> dict[str, Any]:
    """Everything the report is built from, read from the run folder."""
    artifacts = {
        "profile": _read_json(run / "evaluation" / "profile.json", "05_evaluation"),
        "audit": _read_json(run / "data" / "audit.json", "01_data"),
        "tfidf_grid": _read_json(run / "baselines" / "tfidf_grid.json", "02_baselines"),
        "finetune": _read_json(run / "finetune" / "training_result.json", "03_finetune"),
        "search": _read_json(run / "hpo" / "search.json", "04_hpo"),
        "tuned": _read_json(run / "tuned" / "training_result.json", "04_hpo"),
        "metrics": _read_json(run / "evaluation" / "metrics.json", "05_evaluation"),
        "analysis": _read_json(run / "error_analysis" / "analysis.json", "06_error_analysis"),
        "wall_seconds": {},
        "benchmarks": None,
    }
    wall = run / "wall_seconds.txt"
    if wall.is_file():  # one line per notebook run; the last run of each notebook counts
        for line in wall.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                name, seconds = line.split()
                artifacts["wall_seconds"][name] = int(seconds)
    if (run / "benchmarks.json").is_file():
        artifacts["benchmarks"] = json.loads((run / "benchmarks.json").read_text(encoding="utf-8"))
    return artifacts


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table; `align` is one letter per column (l or r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def quote(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


class ReportWriter:
    """Assembles the Markdown; figures are referenced relative to the report file and checked to exist."""

    def __init__(self, artifacts: dict[str, Any], figure_source: Path, figures_dir: Path, report_dir: Path) -> None:
        self.a = artifacts
        self.figure_source = figure_source
        self.figures_dir = figures_dir
        self.report_dir = report_dir
        self.parts: list[str] = []
        self.figures: list[Path] = []

    def add(self, *blocks: str) -> None:
        self.parts.extend(blocks)

    def figure(self, name: str, caption: str) -> None:
        source = self.figure_source / f"{name}.png"
        if not source.is_file():
            raise ReportInputError(f"{source}: figure missing; re-run the notebook that saves it")
        target = self.figures_dir / source.name
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            shutil.copy2(source, target)
        self.figures.append(target)
        relative = Path(os.path.relpath(target, self.report_dir)).as_posix()
        self.add(f"![{caption}]({relative})\n\n*{caption}*")

    def text(self) -> str:
        return "\n\n".join(self.parts).rstrip() + "\n"


def _test(a: dict[str, Any], model: str) -> dict[str, Any]:
    return a["metrics"]["models"][model]["test"]


def _val(a: dict[str, Any], model: str) -> dict[str, Any]:
    return a["metrics"]["models"][model]["validation"]


def headline_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """Test accuracy, weighted F1, macro F1 and loss of every model (the fine-tuned ones with the profile's seed),
    with 95% intervals; the model chosen on validation for analysis is marked."""
    rows = []
    chosen = metrics.get("chosen", {}).get("name")
    for model in (name for name in (*MODELS, *ENSEMBLES, SERVED) if name in metrics["models"]):
        test = metrics["models"][model]["test"]
        cells = [MODEL_TITLES[model] + (" **(chosen on validation)**" if model == chosen else "")]
        for key in ("accuracy", "f1_weighted", "f1_macro", "loss"):
            low, high = test["ci95"][key]
            cells.append(f"{f4(test[key])} [{f4(low)}, {f4(high)}]")
        rows.append(cells)
    return rows


HEADLINE_HEADER = ("model", "accuracy [95% CI]", "F1 weighted [95% CI]", "F1 macro [95% CI]", "loss [95% CI]")
README_MARKERS = ("<!-- headline-table:start -->", "<!-- headline-table:end -->")


def headline_table(metrics: dict[str, Any]) -> str:
    return table(HEADLINE_HEADER, headline_rows(metrics))


def update_readme(readme: Path, metrics: dict[str, Any]) -> None:
    """Replace the README's headline table (between its markers) with the one from `metrics`."""
    start, end = README_MARKERS
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{readme}: no {start} ... {end} markers to put the headline table between")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{headline_table(metrics)}\n{end}{after}", encoding="utf-8")


def _intro(w: ReportWriter) -> None:
    a = w.a
    profile = a["profile"]
    chosen = a["metrics"].get("chosen", {}).get("name", "finetune_tuned")
    tuned = _test(a, chosen)
    tfidf = _test(a, "tfidf")
    w.add(
        "# Fine-tuning a pre-trained transformer for emotion detection",
        f"*Generated by `make report PROFILE={profile['name']}` from the artifacts of one run; model "
        f"`{profile['model_name_or_path']}`.*",
        "## Introduction",
        "Short texts carry emotion, and recognising it is useful in aggregate — for customer feedback, social-media "
        "research or teaching — as long as its limits are understood. This report fine-tunes a pre-trained "
        "transformer to assign one of six emotions (sadness, joy, love, anger, fear, surprise) to an English tweet, "
        "and asks three questions of it: how much does fine-tuning gain over honest baselines, does a "
        "hyperparameter search improve on a standard recipe, and where does the model still fail?",
        f"In short: the model chosen on validation for analysis (`{chosen}`) reaches a test accuracy of "
        f"{f4(tuned['accuracy'])} and a macro F1 of {f4(tuned['f1_macro'])}, against {f4(tfidf['accuracy'])} and "
        f"{f4(tfidf['f1_macro'])} for the TF-IDF baseline (a {CLASSIFIER_TITLES[a['tfidf_grid']['chosen']['model']]} "
        "chosen on validation). Every test figure below was measured once per model, after all choices had been "
        "made on the validation split.",
        "For context, published claims for DistilBERT on this data set (not reproduced here): the course report "
        "this project started from reports a test accuracy of 0.91 and weighted F1 of 0.90; a public model card "
        "reports 0.941 *validation* accuracy; the most-downloaded public DistilBERT emotion model scores 0.927 "
        "test accuracy and 0.883 macro F1 (its often-quoted 0.938 is a validation figure).",
    )


def _text_form(form: dict[str, dict[str, Any]]) -> str:
    """How the texts are written, per audit.json: the word "feel", first words, casing and punctuation."""
    train = form["train"]
    others = " and ".join(f"{pct(form[split]['feel_forms']['share'])} of {split}" for split in form if split != "train")
    starts = ", ".join(f"“{entry['word']}” ({pct(entry['share'])})" for entry in train["first_words"][:3])
    text = (
        f"They were collected through the word *feel*: {pct(train['feel_forms']['share'])} of the training texts "
        f"contain feel, feels, feeling or feelings as a word ({others}), {pct(train['feel_word']['share'])} the "
        f"word feel itself; the most common first words are {starts}. "
    )
    if any(f["upper_case"]["count"] or f["punctuation"]["count"] for f in form.values()):
        return text + (
            f"Of the training texts, {pct(train['upper_case']['share'])} contain an upper-case letter and "
            f"{pct(train['punctuation']['share'])} a punctuation character (Unicode categories P*)."
        )
    text += "No text in any split contains an upper-case letter or a punctuation character (Unicode categories P*)"
    if not any(f["other_than_a_z_and_space"]["count"] for f in form.values()):
        text += ": every text is written with the letters a–z and the space alone"
    return text + ", unlike what a person types."


def _data(w: ReportWriter) -> None:
    audit = w.a["audit"]
    rows = audit["rows"]
    counts = audit["class_counts"]
    length = audit["token_length"]["train"]["all"]
    within = audit["duplicates_within"]
    shared = audit["shared_between"]
    train_share = {name: counts["train"][name] / rows["train"] for name in LABEL_NAMES}
    w.add(
        "## Data",
        f"The data is `dair-ai/emotion` (configuration `split`): {rows['train']:,} training, "
        f"{rows['validation']:,} validation and {rows['test']:,} test tweets, each with one of six labels. "
        + _text_form(audit["text_form"]),
        table(
            ["split", *LABEL_NAMES, "total"],
            [[split, *(counts[split][n] for n in LABEL_NAMES), rows[split]] for split in rows],
        ),
    )
    w.figure("class_distribution", "Share of each emotion per split.")
    w.add(
        f"The classes are imbalanced and the imbalance is the same in every split: joy ({pct(train_share['joy'])}) "
        f"and sadness ({pct(train_share['sadness'])}) dominate the training split, surprise is "
        f"{pct(train_share['surprise'])} of it. Accuracy alone would reward ignoring the small classes, so macro "
        "F1 (every class counts equally) is reported beside weighted F1 throughout.",
        f"Texts are short: {length['mean']} tokens on average in the training split (median {length['median']:g}, "
        f"99th percentile {length['p99']:g}, longest {length['max']}), counted with the model's tokenizer "
        "including the two special tokens.",
    )
    w.figure(
        "token_lengths", "Tokens per training text by emotion; the dashed line is the seed recipe's padding length."
    )
    w.add(
        "The data also contains label noise that caps what any model can score. "
        f"In the training split {within['train']['repeated_texts']} texts occur twice, "
        f"{within['train']['repeated_with_conflicting_labels']} of them with two different labels; the validation "
        f"split has {within['validation']['repeated_texts']} such texts. "
        f"{shared['train/test']['shared_texts']} texts appear in both train and test "
        f"({shared['train/test']['with_different_labels']} of them with a different label), "
        f"{shared['train/validation']['shared_texts']} in both train and validation "
        f"({shared['train/validation']['with_different_labels']} with a different label). Nothing was removed: "
        "the splits are used exactly as published.",
    )


def _method(w: ReportWriter) -> None:
    p = w.a["profile"]
    longest = max(split["all"]["max"] for split in w.a["audit"]["token_length"].values())
    w.add(
        "## Method",
        f"**Model.** `{p['model_name_or_path']}` with a new linear classification head over six labels "
        f"(profile `{p['name']}`). Texts are truncated at {p['max_length']} tokens; "
        + (
            "no text here is that long."
            if longest <= p["max_length"]
            else f"the longest text has {longest}, so the few longer texts lose their ends."
        ),
        "**Training.** The Hugging Face `Trainer` with AdamW, a linear learning-rate decay, evaluation and a "
        "checkpoint after every epoch, and the checkpoint with the best validation weighted F1 kept. Batches are "
        "padded to their own longest text and drawn from texts of similar length (`group_by_length`) instead of "
        "padding every text to 128 tokens: the same computation on real tokens, several times faster on a CPU."
        + (
            f" Attention runs PyTorch's `{p['attn_implementation']}` implementation (the profile's choice; the speed "
            "section below compares it with the fused SDPA kernel)."
            if p["attn_implementation"]
            else ""
        )
        + f" Training precision: `{w.a['metrics']['runs']['finetune_tuned']['settings']['precision']}` (the "
        f"profile's `{p['mixed_precision']}`: on a CPU, bf16 autocast where the CPU computes bf16 natively, "
        "else float32).",
        f"**Seeds and workers.** Each fine-tuned configuration is trained with {p.get('seeds', 1)} seeds (the "
        "profile's seed and the next ones); independent runs — search trials and seeds — run side by side in "
        "worker processes, one per CPU core with one thread each, or one per GPU.",
        "**Selection and testing.** Every choice — the TF-IDF baseline's features, model and regularisation, the "
        "checkpoint, the hyperparameters, the model analysed in notebooks 05 and 06, "
        "the inference back end served by default, the calibration temperature — was made on the validation "
        "split. What read the test split, and why: notebook 01 counts its labels and token lengths and finds the "
        "texts it shares with the other splits (no model sees it there); notebook 05 scores every model on it "
        "once, after all choices; notebook 06 analyses the test predictions that notebook 05 saved (errors, "
        "length, occlusion of a few texts) and chooses nothing. The speed benchmark measures on validation. "
        "Intervals are 95% percentile bootstrap intervals over the test texts; McNemar's exact test compares two "
        "models on the texts where exactly one of them is right.",
    )


def _tfidf_grid(grid: dict[str, Any]) -> list[str]:
    """The TF-IDF grid in words and its best row per feature set and model, from tfidf_grid.json."""
    rows, chosen = grid["grid"], grid["chosen"]
    features = ", ".join(f"{name} ({facts['features']:,} n-grams)" for name, facts in grid["feature_sets"].items())
    c_values = {model: sorted({r["C"] for r in rows if r["model"] == model}) for model in (r["model"] for r in rows)}
    models = " or ".join(
        f"{CLASSIFIER_TITLES[model]} with C in {{{', '.join(f'{c:g}' for c in values)}}}"
        for model, values in c_values.items()
    )
    weights = " or ".join("none" if w is None else w for w in dict.fromkeys(r["class_weight"] for r in rows))
    text = (
        f"**The TF-IDF baseline** is the best of {len(rows)} combinations, each fitted on the "
        f"{grid['train_rows']:,} training texts and scored on the {grid['validation_rows']:,} validation texts: "
        f"features {features}; {models}; class weights {weights}. The highest validation weighted F1 chose "
        f"**{describe_choice(chosen)}**: weighted F1 {f4(chosen['f1_weighted'])}, accuracy {f4(chosen['accuracy'])}. "
        f"The whole grid took {grid['seconds']:.0f} seconds and is saved in `baselines/tfidf_grid.json`."
    )
    if chosen["temperature"] is not None:
        text += (
            " A linear SVM has no probabilities: the one temperature, fitted on validation, turns its margins "
            "into a softmax without changing any prediction (so its validation loss below is slightly optimistic)."
        )
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:  # grid order, so a tie keeps the earlier row, as the search did
        key = (row["features"], row["model"])
        if key not in best or row["f1_weighted"] > best[key]["f1_weighted"]:
            best[key] = row
    return [
        text,
        "The best row of each feature set and model, on validation:",
        table(
            ["features", "model", "C", "class weights", "F1 weighted", "accuracy"],
            [
                [
                    f,
                    CLASSIFIER_TITLES[m],
                    f"{r['C']:g}",
                    r["class_weight"] or "none",
                    f4(r["f1_weighted"]),
                    f4(r["accuracy"]),
                ]
                for (f, m), r in best.items()
            ],
            "llllrr",
        ),
    ]


def _baselines(w: ReportWriter) -> None:
    a = w.a
    names = ("majority_class", "tfidf", "frozen_encoder_logreg", "untrained_head")
    w.add(
        "## Baselines",
        "Four baselines, scored on the validation split:",
        "- **Majority class** predicts the training class frequencies: the floor.\n"
        "- **TF-IDF + a linear model**, the yardstick for every claim: features, model, C and class weights "
        "chosen on validation (below).\n"
        "- **Frozen encoder + logistic regression**: mean-pooled embeddings of the pre-trained encoder, no "
        "fine-tuning (feature extraction).\n"
        "- **Untrained head**: the classification model before training — what the seed report called a "
        "“pre-trained baseline”. Its head has never seen a label, so its score measures chance, not the encoder.",
        table(
            ["model (validation)", "accuracy", "F1 weighted", "F1 macro", "loss"],
            [
                [MODEL_TITLES[n], *(f4(_val(a, n)[k]) for k in ("accuracy", "f1_weighted", "f1_macro", "loss"))]
                for n in names
            ],
        ),
        *_tfidf_grid(a["tfidf_grid"]),
    )
    w.figure("baselines_validation", "Baselines on the validation split.")


def _finetune(w: ReportWriter) -> None:
    a = w.a
    run = a["finetune"]
    hp = run["hyperparameters"]
    epochs = run["epochs_validation"]
    w.add(
        "## Fine-tuning",
        f"The seed recipe: learning rate {hp['learning_rate']:g}, batch size {hp['batch_size']}, {hp['epochs']} "
        f"epochs, weight decay {hp['weight_decay']:g}. Training took {run['train_seconds'] / 60:.1f} minutes; the "
        f"best epoch by validation weighted F1 was epoch {run['best_epoch']:g}.",
        table(
            ["epoch", "validation loss", "accuracy", "F1 weighted", "F1 macro"],
            [
                [f"{e['epoch']:g}", f4(e["loss"]), f4(e["accuracy"]), f4(e["f1_weighted"]), f4(e["f1_macro"])]
                for e in epochs
            ],
        ),
    )
    w.figure("finetune_loss", "Seed recipe: training loss per logging step and validation loss per epoch.")
    seeds = a["metrics"].get("seeds", {}).get("finetune_seed_recipe")
    if seeds:
        w.add(
            f"The table above is the run with the profile's seed. The recipe was trained with {len(seeds['seeds'])} "
            "seeds, side by side in worker processes; their validation scores:",
            _seed_rows(seeds, "validation"),
        )


def _seed_rows(summary: dict[str, Any], split: str) -> str:
    """One row per seed and a mean ± sd row, for one configuration and split."""
    metrics = ("accuracy", "f1_weighted", "f1_macro")
    rows = [[name, *(f4(scores[split][m]) for m in metrics)] for name, scores in summary["seeds"].items()]
    rows.append(["mean ± sd", *(f"{f4(summary['mean'][split][m])} ± {f4(summary['sd'][split][m])}" for m in metrics)])
    return table(["model (seed)", "accuracy", "F1 weighted", "F1 macro"], rows)


def _search(w: ReportWriter) -> None:
    a = w.a
    s = a["search"]
    tuned = a["tuned"]
    space = s["space"]
    rows = []
    for t in s["trials"]:
        value = t.get(s["objective"])
        rows.append(
            [
                t["trial"],
                t["state"].lower(),
                f"{t.get('learning_rate', float('nan')):.2e}",
                t.get("batch_size", ""),
                t.get("epochs", ""),
                f4(value) if value is not None else "—",
                t.get("last_epoch_reported") or "—",
            ]
        )
    trial_rows = s["trial_train_rows"]
    subset = f"a stratified subset of {trial_rows:,} training texts" if trial_rows else "the full training split"
    states = [t["state"] for t in s["trials"]]
    machines = len({str(t["worker"]).split(":")[0] for t in s["trials"] if t.get("worker")}) or 1
    w.add(
        "## Hyperparameter search",
        f"Optuna searched learning rate ({space['learning_rate'][0]:g} to {space['learning_rate'][1]:g}, log scale), "
        f"batch size {space['batch_size']} and epochs {space['epochs']}. Objective: **{s['objective']}** of a "
        f"trial's best epoch, direction **{s['direction']}**; {s['trials_requested']} trials, each trained on "
        f"{subset}. The first trials were enqueued so that every batch size and epoch count is tried at least once "
        "(the seed recipe among them); then TPE (seeded per trial) proposed. The median pruner compares a trial "
        "only with finished trials of the same number of epochs, at the same epoch, and never prunes a last "
        "epoch: a long schedule is not cut for trailing short ones whose learning rate has decayed further. "
        f"Trials ran in parallel worker processes on {machines} machine(s), sharing the study's "
        f"{s.get('storage', 'SQLite')} storage.",
        f"**{states.count('COMPLETE')} trials completed and {states.count('PRUNED')} were pruned** "
        f"({states.count('FAIL')} failed).",
        table(
            ["trial", "state", "learning rate", "batch", "epochs", "objective", "epochs run"],
            rows,
            "rlrrrrr",
        ),
    )
    coverage = s.get("coverage")
    if coverage:
        cover_rows = [
            [f"{dimension} = {value}", counts["complete"], counts["pruned"]]
            for dimension in ("batch_size", "epochs")
            for value, counts in coverage[dimension].items()
        ]
        rates = coverage["learning_rate"]
        w.add(
            "Values each dimension reached (trials completed and pruned with it); the completed trials' learning "
            f"rates spanned {rates['completed_min']:.2e} to {rates['completed_max']:.2e}:",
            table(["value", "completed", "pruned"], cover_rows, "lrr"),
        )
    w.add(
        f"Best trial: {s['best_params']} with validation weighted F1 {f4(s['best_value'])} on the trial subset. "
        f"Retrained on the full training split with the profile's seed, it reached a validation weighted F1 of "
        f"{f4(tuned['best_validation']['f1_weighted'])} in {tuned['train_seconds'] / 60:.1f} minutes.",
    )
    retrained = s.get("retrained")
    if retrained:
        objective = s["objective"]
        rows = [
            [
                r["configuration"],
                f"{r['learning_rate']:.2e}, {r['batch_size']}, {r['epochs']}",
                r["subset_rank"] if r["subset_rank"] else "—",
                f4(r[f"subset {objective}"]) if r[f"subset {objective}"] is not None else "—",
                f"{f4(r[f'full {objective} mean'])}"
                + (f" ± {f4(r[f'full {objective} sd'])}" if r[f"full {objective} sd"] is not None else ""),
                r["seeds"],
            ]
            for r in retrained
        ]
        w.add(
            "**Did the subset predict the full data?** Each configuration trained on the full training split, beside "
            "its trial's score on the subset (rank among completed trials). Full-data scores are means ± sd over "
            "seeds where there are several.",
            table(
                ["configuration", "lr, batch, epochs", "subset rank", "subset score", "full-data score", "seeds"],
                rows,
                "llrrrr",
            ),
        )
    w.figure("hpo_history", "Optuna: objective value per trial and best so far.")
    w.figure("hpo_parallel", "Optuna: each trial's parameters and objective.")
    w.figure("hpo_importances", "Optuna: parameter importances (fANOVA; indicative only with this few trials).")
    w.figure("tuned_loss", "Tuned configuration: training and validation loss.")


def _results(w: ReportWriter) -> None:
    a = w.a
    m = a["metrics"]
    w.add(
        "## Results",
        "Every model on the **test split** (2,000 tweets unless the profile uses a subset), with 95% bootstrap "
        "intervals. Loss is the mean cross-entropy of the true label.",
        headline_table(m),
    )
    w.figure("models_test", "Every model on the test split.")
    seeds = m.get("seeds")
    if seeds:
        for configuration, summary in seeds.items():
            w.add(
                f"**Seeds, {CONFIGURATION_TITLES.get(configuration, configuration)}**, on the test split:",
                _seed_rows(summary, "test"),
            )
    gain = m.get("search_gain")
    if gain:
        established = gain["ci95_low"] > 0
        w.add(
            "**Does the search beat the seed recipe?** Over their seeds, the tuned configuration's mean test "
            f"accuracy differs from the seed recipe's by {100 * gain['difference']:+.2f} points. A bootstrap that "
            f"resamples both the test texts and each configuration's seeds ({gain['resamples']:,} resamples) puts "
            f"the difference between {100 * gain['ci95_low']:+.2f} and {100 * gain['ci95_high']:+.2f} points (95%), "
            f"and the tuned configuration fails to beat the seed recipe in {pct(gain['share_not_better'])} of "
            "resamples. "
            + (
                "The gain holds beyond the chance of seeds and of test-set sampling."
                if established
                else "The interval includes zero: with this many seeds and test texts, the gain is not established."
            ),
        )
    chosen = m.get("chosen")
    if chosen:
        w.add(
            f"**The model analysed below** is `{chosen['name']}`, chosen by {chosen['rule']} (validation "
            f"weighted F1 {f4(_val(a, chosen['name'])['f1_weighted'])}, accuracy "
            f"{f4(_val(a, chosen['name'])['accuracy'])}), before any test score was read.",
        )
    served = m.get("served_backend")
    if served:
        agreement, bounds = served["agreement"], served["bounds"]
        w.add(
            f"**The served model.** `EmotionClassifier.from_folder` serves the tuned model on `{served['backend']}`. "
            f"This was decided on the validation split before any test score was computed: the int8 ONNX graph "
            f"(`{served['candidate']}`) changed {agreement['changed_labels']} of {agreement['texts']} float32 labels "
            f"({100 * agreement['changed_label_share']:.2f}%) and moved validation accuracy by "
            f"{agreement['accuracy_change_points']:+.2f} points (largest probability change "
            f"{agreement['max_probability_change']:.2f}); it is served only within "
            f"{100 * bounds['max_changed_label_share']:g}% of labels and {bounds['max_accuracy_change_points']:g} "
            "points, otherwise the exact float32 graph is. The row “as served by default” above is that back end "
            "on the test split; every other row, the calibration and the error analysis describe float32 PyTorch.",
        )
    rows = [
        [pair, test["only_a_right"], test["only_b_right"], f"{test['p_value']:.2g}"]
        for pair, test in m["mcnemar"].items()
    ]
    w.add(
        "McNemar's exact test (A is the first model of each pair):",
        table(["comparison (A vs B)", "only A right", "only B right", "p-value"], rows),
    )
    analysed = chosen["name"] if chosen else "finetune_tuned"
    tuned = _test(a, analysed)
    w.add(
        f"Per class, `{analysed}` on the test split:",
        table(
            ["emotion", "precision", "recall", "F1"],
            [[n, f4(tuned[f"precision_{n}"]), f4(tuned[f"recall_{n}"]), f4(tuned[f"f1_{n}"])] for n in LABEL_NAMES],
        ),
    )
    w.figure("confusion_normalised", f"{analysed}: confusion matrix on the test split, rows normalised (recall).")
    w.figure("confusion_counts", f"{analysed}: confusion matrix on the test split, counts.")
    c = m["calibration"]
    w.add(
        f"**Calibration.** `{analysed}`'s expected calibration error on the test split is {f4(c['ece_before'])}. "
        f"Temperature scaling fitted on validation (T = {c['temperature']:.3f}) changes it to {f4(c['ece_after'])} "
        f"and the test loss from {f4(c['loss_before'])} to {f4(c['loss_after'])}, without changing any prediction.",
    )
    w.figure("reliability", f"Reliability diagram of {analysed} before and after temperature scaling.")
    bench = a["benchmarks"]
    if bench and bench["inference"].get("split") == "validation":
        _benchmarks(w, bench)
    elif bench:  # an older `make bench` scored the test split: not shown, since it informed a choice
        print("benchmarks.json predates validation-split benchmarks: run `make bench` again; section left out")


def _benchmarks(w: ReportWriter, bench: dict[str, Any]) -> None:
    """The side-by-side speed table of `make bench` (ratios; absolute speeds depend on the machine's load)."""
    rows = []
    for name, model in bench["training"].items():
        for recipe, r in model["recipes"].items():
            rows.append(
                [name, recipe, r["description"], f"{r['samples_per_second']:.1f}", f"{r['speedup_vs_seed']:.2f}×"]
            )
    inference = bench["inference"]
    rows_by_name = {**inference["variants"], **inference["ablations"]}
    drops = [
        [
            f"`{name}`" if name in inference["variants"] else f"ablation: {name}",
            v["description"],
            f"{v['texts_per_second']:.1f}",
            f"{v['speedup_vs_fp32']:.2f}×",
            f"{v['latency_ms_median']:.1f}",
            f4(v["accuracy"]) if isinstance(v["accuracy"], float) else v["accuracy"],
            f"{v['accuracy_drop_points']:+.2f}" if v["accuracy_drop_points"] is not None else "—",
            pct(v["changed_label_share"]),
        ]
        for name, v in rows_by_name.items()
    ]
    w.add(
        "### Speed on a CPU",
        f"Measured by `make bench` in one process on {bench['machine']['cpu_count']} CPU cores, every pair "
        "interleaved so that drifts in the machine's speed hit both sides. Training: samples per second over the "
        "same optimizer steps; the seed recipe pads every text to 128 tokens.",
        table(["model", "recipe", "what it does", "samples/s", "vs seed"], rows, "lllrr"),
        f"Inference with the tuned model on the **validation** split ({inference['texts']:,} texts): batched "
        f"throughput (texts per second, batches of {bench['settings']['eval_batch_size']} sorted by length), "
        "single-text latency, accuracy, its drop against float32 in points, and the share of float32's labels "
        f"each back end changes (bounds: {100 * inference['max_changed_label_share']:g}% and "
        f"{inference['max_accuracy_change_points']:g} points either way). The ablations undo one step of the "
        f"fastest back end each. Fastest within the bounds: `{inference['fastest_within_bounds']}`; also "
        f"batch-invariant: `{inference['recommended_backend']}` (the back end each model serves is decided on its "
        "own validation predictions in notebook 05; see *The served model* above). "
        f"Machine: {describe(bench['machine'])}; CPU vector extensions "
        f"{', '.join(bench['machine']['cpu_vector_extensions']) or 'unknown'}.",
        table(
            ["back end", "what it does", "texts/s", "vs fp32", "latency ms", "accuracy", "drop (points)", "changed"],
            drops,
            "llrrrrrr",
        ),
    )
    if "parallel" not in bench or "precision" not in bench:
        print("benchmarks.json predates experiments per hour and bf16: run `make bench` again; those parts left out")
        return
    _experiments_per_hour(w, bench["parallel"], bench["machine"]["cpu_count"])
    _bf16_against_float32(w, bench["precision"])


PRECISION_NAMES = {"bf16": "bf16 autocast", "fp16": "fp16 autocast", "no": "float32"}


def _experiments_per_hour(w: ReportWriter, parallel: dict[str, Any], cores: int) -> None:
    """Independent runs one at a time on every core against one single-threaded worker per core."""
    if "skipped" in parallel:
        w.add(f"**Experiments per hour** were not measured: {parallel['skipped']}.")
        return
    e, arrangements = parallel["experiment"], parallel["arrangements"]
    rows = [
        [
            name.replace("_", " "),
            r["workers"],
            r["threads_per_experiment"] or "—",
            r["experiments"],
            f"{r['wall_seconds']:.0f}",
            f"{r['experiments_per_hour']:.0f}",
            f"{r['mean_train_seconds']:.1f}",
        ]
        for name, r in arrangements.items()
    ]
    w.add(
        f"**Experiments per hour.** Independent runs (search trials, seeds) run in parallel worker processes. The "
        f"bench ran the same {parallel['experiments_per_round']} short fine-tunes ({e['train_texts']:,} training "
        f"texts, {e['epochs']} epoch, scored on {e['validation_texts']:,} validation texts, "
        f"{PRECISION_NAMES[parallel['precision']]}) one at a time on all {cores} cores and in "
        f"{parallel['workers']} workers with one thread each, both through `helpers.workers.run_jobs`, the two "
        f"arrangements alternating over {parallel['rounds']} round(s). The parallel wall time includes starting "
        "the workers; the last column is the Trainer's own time per run.",
        table(
            ["arrangement", "workers", "threads each", "experiments", "wall s", "per hour", "train s each"],
            rows,
            "lrrrrrr",
        ),
        f"Parallel workers ran {parallel['speedup']:.2f}× the experiments per hour of one run at a time.",
    )


def _bf16_against_float32(w: ReportWriter, precision: dict[str, Any]) -> None:
    """bf16 autocast on a CPU with native bf16: step speed, a search trial's accuracy and time, and the verdict."""
    if not precision["supported"]:
        w.add(f"**bf16 against float32** was not measured: {precision['reason']}.")
        return
    steps, runs = precision["step_speedup"], precision["runs"]
    rows = [
        [name, row["seed"], f4(row["accuracy"]), f4(row["f1_weighted"]), f"{row['train_seconds']:.0f}"]
        for name in ("float32", "bf16")
        for row in precision[name]["runs"]
    ]
    rows += [
        [
            f"{name}, mean",
            "",
            f4(precision[name]["mean_accuracy"]),
            f4(precision[name]["mean_f1_weighted"]),
            f"{precision[name]['mean_train_seconds']:.0f}",
        ]
        for name in ("float32", "bf16")
    ]
    verdict = "adopted" if precision["adopt_bf16"] else "not adopted"
    agrees = (precision["profile_precision"] == "bf16") == precision["adopt_bf16"]
    w.add(
        f"**bf16 autocast against float32.** This CPU computes bf16 natively. The project recipe's optimizer "
        f"steps ({steps['model']}, interleaved with float32's) ran {steps['all_threads']:.2f}× as fast under bf16 "
        f"autocast on all threads and {steps['one_thread']:.2f}× on one. A search trial's configuration "
        f"({runs['train_texts']:,} training texts, {runs['epochs']} epochs, learning rate {runs['learning_rate']:g}, "
        f"batch {runs['batch_size']}) trained in each precision with seeds "
        f"{', '.join(str(seed) for seed in runs['seeds'])}, the two precisions at the same time on one thread "
        "each; validation scores are the best epoch's:",
        table(["precision", "seed", "validation accuracy", "weighted F1", "train s"], rows, "lrrrr"),
        f"bf16 trained {precision['speedup']:.2f}× as fast and changed mean validation accuracy by "
        f"{precision['accuracy_change_points']:+.2f} points. bf16 is adopted only if it wins on both (faster, and "
        f"mean validation accuracy not lower): **{verdict}**. The profile trains in "
        f"{PRECISION_NAMES[precision['profile_precision']]} on this CPU, which "
        f"{'agrees with' if agrees else 'goes against'} that verdict.",
    )


def _errors(w: ReportWriter) -> None:
    an = w.a["analysis"]
    pairs = an["confusion_pairs"][:6]
    w.add(
        "## Error analysis",
        f"The tuned model misclassifies {an['errors']} of {an['test_rows']} test texts. The most frequent confusions:",
        table(
            ["true", "predicted", "errors", "share of errors"],
            [[p["label"], p["predicted"], p["errors"], pct(p["share_of_errors"])] for p in pairs],
            "llrr",
        ),
        f"Fear and surprise are confused {an['fear_surprise_errors']} times (both directions). The most confident "
        "mistakes are listed below; read them against their labels, since this is where label noise shows first "
        "(notebook 06 also lists the highest-loss texts).",
        table(
            ["text", "label", "predicted", "confidence"],
            [[quote(r["text"]), r["label"], r["predicted"], f"{r['confidence']:.3f}"] for r in an["misclassified"][:8]],
            "lllr",
        ),
    )
    w.figure("accuracy_by_length", "Tuned model: test accuracy by text length (tokens).")
    conflicts = an["conflicting_duplicates"]
    if conflicts:
        w.add(
            "Texts that occur in both train and test with different labels, and the tuned model's prediction:",
            table(
                ["text", "train label", "test label", "predicted"],
                [[quote(r["text"]), r["train label"], r["test label"], r["predicted"]] for r in conflicts],
                "llll",
            ),
        )
    w.add(
        "**The seed report's example sentences**, including its hard cases (an ambiguous exclamation, a mixed "
        "emotion, conflicting cues). They are written with capitals and punctuation, unlike the training tweets.",
        table(
            ["sentence", "predicted", *LABEL_NAMES],
            [[r["text"], r["predicted"], *(f"{r[n]:.3f}" for n in LABEL_NAMES)] for r in an["seed_examples"]],
            "ll" + "r" * len(LABEL_NAMES),
        ),
    )
    w.figure("seed_examples", "Predicted probabilities for the seed report's example sentences.")
    w.figure("occlusion", "Occlusion: the drop in the predicted emotion's probability when each word is removed.")
    _out_of_domain(w)


def _out_of_domain_result(a: dict[str, Any]) -> dict[str, Any]:
    result = a["analysis"].get("out_of_domain")
    if result is None:
        raise ReportInputError(
            "error_analysis/analysis.json has no out_of_domain section; run notebooks/06_error_analysis.ipynb again"
        )
    return result


def _below(points: float) -> str:
    """An accuracy gap as words: positive gaps are below the test accuracy, negative ones above it."""
    return f"{abs(points):.1f} points {'below' if points >= 0 else 'above'}"


def _change(points: float) -> str:
    """A change in accuracy points as words, so the sentence holds whichever way the numbers fall."""
    if abs(points) < 0.05:
        return "leaves accuracy unchanged"
    return f"{'raises' if points > 0 else 'lowers'} accuracy by {abs(points):.1f} points"


def _out_of_domain(w: ReportWriter) -> None:
    """How far the test accuracy carries to text written as people write, and what normalising inputs does."""
    ood = _out_of_domain_result(w.a)
    raw, normalised, test = ood["raw"], ood["normalised"], ood["in_domain_test"]
    test_ci = _test(w.a, "finetune_tuned")["ci95"]

    def cells(scores: dict[str, Any], ci: dict[str, Sequence[float]]) -> list[str]:
        return [f"{f4(scores[key])} [{f4(ci[key][0])}, {f4(ci[key][1])}]" for key in ("accuracy", "f1_macro")]

    mcnemar = ood["raw_vs_normalised"]
    unchanged_test = ood["test_texts_changed_by_normalising"] == 0
    low, high = min(ood["per_label"].values()), max(ood["per_label"].values())
    per_label = f"{low} per emotion" if low == high else f"{low} to {high} per emotion"
    pairs = ", ".join(f"{p['label']} → {p['predicted']} ({p['errors']})" for p in ood["confusion_pairs_raw"][:3])
    w.add(
        "### Out-of-domain text",
        "The training tweets were collected from *“i feel …”* sentences and are stored lower-cased, without "
        "punctuation or digits; people write otherwise. To see how far the test accuracy carries, "
        f"{ood['texts']} short messages (chat, posts, reviews, emails; {per_label}) were written and labelled "
        "by hand for this project, before any model saw them (`data/README.md`); they keep ordinary capitals "
        f"and punctuation, and {pct(ood['feel_share'])} of them use *feel*. As typed, the tuned model scores "
        f"{f4(raw['accuracy'])} accuracy on them, {_below(raw['gap_points'])} its {f4(test['accuracy'])} on the "
        f"test split, and a macro F1 of {f4(raw['f1_macro'])} against {f4(test['f1_macro'])}. With so few texts "
        "the intervals are wide.",
        table(
            ["condition", "texts", "accuracy [95% CI]", "F1 macro [95% CI]", "accuracy gap to test (points)"],
            [
                ["test split", test["texts"], *cells(test, test_ci), "—"],
                ["hand-written, as typed", ood["texts"], *cells(raw, raw["ci95"]), f"{raw['gap_points']:.1f}"],
                [
                    "hand-written, normalised",
                    ood["texts"],
                    *cells(normalised, normalised["ci95"]),
                    f"{normalised['gap_points']:.1f}",
                ],
            ],
        ),
        "**A cheap remedy, measured once.** Writing each input the way the data set does (lower case, apostrophes "
        "dropped, digits removed, every other character a space) before it reaches the model "
        f"{_change(raw['gap_points'] - normalised['gap_points'])} on these messages and changes "
        f"{ood['labels_changed_by_normalising']} of their {ood['texts']} predictions (McNemar's exact test: "
        f"{mcnemar['only_a_right']} right only as typed, {mcnemar['only_b_right']} right only normalised, "
        f"p = {mcnemar['p_value']:.2g}). Nothing else was tried or tuned on the set. "
        + (
            "The test texts are already written that way: normalising leaves every one of them as it is, so the "
            "remedy cannot change an in-domain prediction."
            if unchanged_test
            else f"Normalising changes {ood['test_texts_changed_by_normalising']} of the test texts."
        ),
        "Recall per emotion:",
        table(
            ["emotion", "texts", "test split", "as typed", "normalised"],
            [
                [
                    name,
                    ood["per_label"][name],
                    f4(test[f"recall_{name}"]),
                    f4(raw[f"recall_{name}"]),
                    f4(normalised[f"recall_{name}"]),
                ]
                for name in LABEL_NAMES
            ],
        ),
        (f"The most frequent errors on the messages as typed (true → predicted): {pairs}. " if pairs else "")
        + "The mistakes the model is surest of, with its prediction once the text is normalised:",
        table(
            ["text", "label", "predicted", "confidence", "normalised"],
            [
                [quote(r["text"]), r["label"], r["predicted"], f"{r['confidence']:.3f}", r["normalised predicted"]]
                for r in ood["mistakes"][:6]
            ],
            "lllrl",
        ),
    )
    w.figure("out_of_domain_recall", "Recall per emotion: test split against the hand-written messages.")


def _limitations(w: ReportWriter) -> None:
    ood = _out_of_domain_result(w.a)
    w.add(
        "## Limitations",
        "- **One label per text.** Mixed emotions are forced into one class; the data has no way to say "
        "“both”, and neither has the model.\n"
        "- **Domain.** English tweets collected through emotion hashtags; long, formal, non-English or sarcastic "
        "text is out of distribution, and the labels reflect the hashtag the author chose, not an annotator's "
        "reading.\n"
        f"- **Ordinary writing.** On {ood['texts']} hand-written messages with capitals and punctuation the tuned "
        f"model's accuracy is {_below(ood['raw']['gap_points'])} its test accuracy "
        f"({_below(ood['normalised']['gap_points'])} once inputs are normalised as the data is); see *Out-of-domain "
        "text*. One person wrote and labelled that set, so it measures one reader's sense of each emotion, and "
        "its size gives wide intervals.\n"
        "- **Label noise.** Duplicated texts with conflicting labels, within and across splits, cap the measurable "
        "accuracy and blur the last points of any comparison.\n"
        "- **Small classes.** Love and surprise have far fewer examples; their scores are the least certain.\n"
        "- **The machine.** Float rounding differs between CPUs (AVX2 against AVX-512 kernels), so a re-run on "
        "another CPU trains a slightly different model; the hardware line below names this run's.\n"
        "- **Few seeds, a small search.** Each fine-tuned configuration was trained with a handful of seeds, so "
        "their standard deviations are themselves rough; the search ran a dozen trials on a subset of the training "
        "texts, which favours configurations that learn fast.",
    )


def _ethics(w: ReportWriter) -> None:
    w.add(
        "## Ethical considerations",
        "Emotion recognition can help summarise feedback or study discourse in aggregate, but predictions about "
        "individuals are unreliable and sensitive. This model should not be used to make decisions about people "
        "(employment, credit, insurance, health, policing), for surveillance or profiling, or as evidence of "
        "anyone's state of mind. Tweets carry their authors' and annotators' biases; performance across dialects "
        "and demographic groups was not measured. Anyone deploying such a model should tell users that their "
        "text is analysed, aggregate wherever possible, and report per-group performance before relying on it.",
    )


def _reproducibility(w: ReportWriter) -> None:
    a = w.a
    env = a["metrics"].get("environment", {})
    profile = a["profile"]
    wall = a["wall_seconds"]
    libraries = ", ".join(f"{k} {v}" for k, v in env.get("libraries", {}).items() if v)
    rows = [[name, f"{wall[name] / 60:.1f}"] for name in NOTEBOOK_ORDER if name in wall]
    w.add(
        "## Reproducibility",
        f"Regenerate everything here with `make report PROFILE={profile['name']}` (set `EMOTION_DATA_DIR` to a "
        "local copy of the data when the hub cannot be reached). Artifacts, executed notebooks and models are "
        f"written to `runs/{profile['name']}/`.",
        f"- Profile: `{profile['name']}`, seed {profile['seed']}, model `{profile['model_name_or_path']}`\n"
        f"- Hardware: {describe(env)}; CPU vector extensions {', '.join(env.get('cpu_vector_extensions', []))}\n"
        f"- Software: Python {env.get('python')}; {libraries}",
    )
    if rows:
        total = sum(wall[name] for name in NOTEBOOK_ORDER if name in wall)
        w.add(
            "Wall time of each notebook in this run:",
            table(["notebook", "minutes"], [*rows, ["total", f"{total / 60:.1f}"]]),
        )


def build_markdown(artifacts: dict[str, Any], figure_source: Path, figures_dir: Path, report_dir: Path) -> ReportWriter:
    writer = ReportWriter(artifacts, figure_source, figures_dir, report_dir)
    for section in (_intro, _data, _method, _baselines, _finetune, _search, _results, _errors):
        section(writer)
    for section in (_limitations, _ethics, _reproducibility):
        section(writer)
    return writer


def to_html(markdown_text: str, base: Path, title: str) -> str:
    """One self-contained HTML page: the Markdown rendered, every image embedded as data."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])

    def embed(match: re.Match[str]) -> str:
        path = (base / match.group(1)).resolve()
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem}"
        "img{max-width:100%}em{color:#555}code{background:#f4f4f4;padding:0 .2rem}"
    )
    head = f'<meta charset="utf-8"><title>{title}</title><style>{style}</style>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>\n'


def build_report(run: Path, report_dir: Path, figures_dir: Path) -> dict[str, Path]:
    """Write report.md, report.html and metrics.json into `report_dir`, figures into `figures_dir`."""
    artifacts = load_artifacts(run)
    report_dir.mkdir(parents=True, exist_ok=True)
    writer = build_markdown(artifacts, run / "figures", figures_dir, report_dir)
    text = writer.text()
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
    run = runs_root() / args.profile
    scratch = args.profile == "smoke"  # smoke runs never overwrite the reference report
    report_dir = args.report_dir or (run / "report" if scratch else REPORT_DIR)
    figures_dir = args.figures_dir or (report_dir / "figures" if scratch else FIGURES_DIR)
    paths = build_report(run, report_dir, figures_dir)
    if not scratch and report_dir == REPORT_DIR:
        update_readme(PROJECT_ROOT / "README.md", json.loads(paths["metrics"].read_text(encoding="utf-8")))
        paths["readme"] = PROJECT_ROOT / "README.md"
    print("\n".join(f"{kind}: {path}" for kind, path in paths.items()))


if __name__ == "__main__":
    main()
