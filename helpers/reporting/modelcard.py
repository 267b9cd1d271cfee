"""A Hugging Face style model card (README.md with YAML metadata) for a saved model folder: the metadata built
here, the text for people from the template report/modelcard.md.j2, beside the report's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from datasets import Dataset

from helpers import LABEL_NAMES
from helpers.data.loading import HUB_DATASET
from helpers.reporting.templates import environment, render

CARD_TEMPLATE = "modelcard.md.j2"
METRIC_TITLES = {"accuracy": "Accuracy", "f1_weighted": "F1 (weighted)", "f1_macro": "F1 (macro)"}
PER_CLASS = tuple(f"{kind}_{name}" for name in LABEL_NAMES for kind in ("precision", "recall", "f1"))
DECISION_KEYS = ("backend", "candidate", "agreement", "bounds")
AGREEMENT_KEYS = ("texts", "changed_labels", "changed_label_share", "accuracy_change_points")
BOUNDS_KEYS = ("max_changed_label_share", "max_accuracy_change_points")


def _require(argument: str, given: Any, keys: Sequence[str]) -> None:
    """Fail before anything is written, naming the argument and every key it lacks."""
    if not isinstance(given, Mapping):
        raise TypeError(f"write_model_card: {argument} must be a dict, got {type(given).__name__}")
    missing = [key for key in keys if key not in given]
    if missing:
        raise ValueError(f"write_model_card: {argument} lacks {', '.join(missing)}")


def _metadata(base_model: str, test: dict[str, float], model_name: str) -> dict[str, Any]:
    dataset_id, config = HUB_DATASET
    return {
        "language": ["en"],
        "license": "mit",
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "tags": ["emotion", "text-classification", "generated_from_trainer"],
        "datasets": [dataset_id],
        "base_model": base_model,
        "metrics": ["accuracy", "f1"],
        "model-index": [
            {
                "name": model_name,
                "results": [
                    {
                        "task": {"type": "text-classification", "name": "Text Classification"},
                        "dataset": {"name": "emotion", "type": dataset_id, "config": config, "split": "test"},
                        "metrics": [
                            {"type": key.split("_")[0], "name": title, "value": round(test[key], 4)}
                            | ({"args": {"average": key.split("_")[1]}} if "_" in key else {})
                            for key, title in METRIC_TITLES.items()
                        ],
                    }
                ],
            }
        ],
    }


def label_counts(split: Dataset) -> dict[str, int]:
    """Texts per emotion in a split, for the card's sentence on class balance."""
    counts = Counter(split["label"])
    return {name: counts.get(index, 0) for index, name in enumerate(LABEL_NAMES)}


def _balance(counts: Mapping[str, int]) -> dict[str, Any]:
    """The class balance the card describes, from the training texts' own counts."""
    total = sum(counts.values())
    first, second, *_, second_smallest, smallest = sorted(LABEL_NAMES, key=counts.__getitem__, reverse=True)
    return {
        "first": first,
        "second": second,
        "two_largest_share": (counts[first] + counts[second]) / total,
        "smallest": smallest,
        "smallest_share": counts[smallest] / total,
        "second_smallest": second_smallest,
    }


def write_model_card(
    model_dir: Path,
    base_model: str,
    hyperparameters: dict[str, Any],
    test: dict[str, float],
    validation: dict[str, float],
    versions: dict[str, str | None],
    train_label_counts: Mapping[str, int],
    served: dict[str, float],
    backend: dict[str, Any],
) -> Path:
    """Write `model_dir/README.md`: metadata first (read by the hub), then the card for people.

    `test` and `validation` are the float32 model's scores, `served` the test scores of the back end that
    `backend` (the validation-split decision of `helpers.serving.backends.decide_backend`) serves by default;
    `train_label_counts` are the training texts per emotion (`label_counts`), so the card's sizes are measured. A
    missing score or decision field is a `ValueError` naming it, raised before the file is touched.
    """
    _require("test", test, (*METRIC_TITLES, *PER_CLASS))
    _require("validation", validation, tuple(METRIC_TITLES))
    _require("served", served, tuple(METRIC_TITLES))
    _require("backend", backend, DECISION_KEYS)
    _require("backend['agreement']", backend["agreement"], AGREEMENT_KEYS)
    _require("backend['bounds']", backend["bounds"], BOUNDS_KEYS)
    name = f"{Path(base_model).name}-emotion"
    metadata = yaml.safe_dump(_metadata(base_model, test, name), sort_keys=False).strip()
    body = render(
        environment(),
        CARD_TEMPLATE,
        {
            "name": name,
            "base_model": base_model,
            "labels": LABEL_NAMES,
            "validation": validation,
            "test": test,
            "served": served,
            "backend": backend,
            "agreement": backend["agreement"],
            "bounds": backend["bounds"],
            "balance": _balance(train_label_counts),
            "dataset": HUB_DATASET[0],
            "dataset_config": HUB_DATASET[1],
            "training_texts": sum(train_label_counts.values()),
            "hyperparameters": hyperparameters,
            "versions": versions,
        },
    )
    path = model_dir / "README.md"
    path.write_text(f"---\n{metadata}\n---\n\n{body}", encoding="utf-8")
    return path
