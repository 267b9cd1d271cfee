"""The facts each report section states, gathered from a run's artifacts into one context for the templates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import LABEL_NAMES
from helpers.baselines.tfidf import CLASSIFIER_TITLES, describe_choice
from helpers.evaluation.names import BASELINES, SEED_RECIPE, TFIDF, TUNED
from helpers.hardware import describe
from helpers.paths import PROJECT_ROOT, runs_root
from helpers.profiles import FULL_FINE_TUNING
from helpers.reporting.pages import NotebookPages
from helpers.reporting.readme import headline_rows
from helpers.reporting.robustness_facts import robustness_facts
from helpers.reporting.titles import CONFIGURATION_TITLES, METRIC_NAMES, MODEL_TITLES, PRECISION_NAMES, model_title

# The context: one function per section ------------------------------------------------------------------------


def _test(a: dict[str, Any], model: str) -> dict[str, Any]:
    return a["metrics"].models[model]["test"]


def _analysed(a: dict[str, Any]) -> str:
    """The model notebooks 05 and 06 analyse: chosen on validation."""
    return a["metrics"].chosen["name"]


def rows_facts(a: dict[str, Any]) -> dict[str, Any]:
    """How many texts the data set has and how many the run's models used (fewer when the profile takes subsets)."""
    full = a["audit"]["rows"]
    trained = a["metrics"].runs[SEED_RECIPE]["rows"]
    used = {"train": trained["train"], "validation": trained["validation"], "test": a["analysis"].test_rows}
    return {"full": full, "used": used, "subset": used != full, "trials": a["search"]["trial_train_rows"]}


def intro_facts(a: dict[str, Any]) -> dict[str, Any]:
    analysed = _analysed(a)
    return {
        "analysed": analysed,
        "analysed_test": _test(a, analysed),
        "tfidf_test": _test(a, TFIDF),
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
    return {"precision": a["metrics"].runs[TUNED]["settings"]["precision"]}


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
        "validation": {name: a["metrics"].models[name]["validation"] for name in BASELINES},
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
    seeds = a["metrics"].seeds.get(SEED_RECIPE)  # absent where the profile trains one seed
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
            CONFIGURATION_TITLES.get(name, name): seed_table(summary, "test") for name, summary in m.seeds.items()
        },
        "gain": m.search_gain,
        "chosen": m.chosen,
        "chosen_title": model_title(analysed),
        "chosen_validation": m.models[analysed]["validation"],
        "served_model": m.chosen["served"],
        "served_title": model_title(m.chosen["served"]),
        "served": m.served_backend,
        "mcnemar": m.mcnemar,
        "analysed": analysed,
        "analysed_test": _test(a, analysed),
        "calibration": m.calibration,
    }


def error_facts(a: dict[str, Any]) -> dict[str, Any]:
    return {**dataclasses.asdict(a["analysis"]), "analysed": _analysed(a)}


def ood_facts(a: dict[str, Any]) -> dict[str, Any]:
    """The hand-written out-of-domain set; its test-split row is the analysed model's, interval included."""
    ood = a["analysis"].out_of_domain
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


def speed_facts(bench: dict[str, Any] | None, served: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """`make bench`'s measurements, where the file came from, the machine in words, and whether the model it
    measured is the one the run serves (`served`: `artifacts.served_model_facts`), by its weights' sha256."""
    if bench is None:
        return None
    measured = bench["inference"].get("model_sha256")
    return {
        **bench,
        "served_name": served["name"] if served else None,
        "same_model": bool(served and measured and measured == served["sha256"]),
        "fingerprinted": measured is not None,
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
    env = a["metrics"].environment
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
        "robustness": robustness_facts(a),
        "speed": speed_facts(bench, a["served_model"]),
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
