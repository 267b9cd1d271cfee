"""A Hugging Face style model card (README.md with YAML metadata) for a saved model folder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from datasets import Dataset

from helpers import LABEL_NAMES
from helpers.data.loading import HUB_DATASET

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


def _balance(counts: Mapping[str, int]) -> str:
    """The class balance in words, from the training texts' own counts."""
    total = sum(counts.values())
    first, second, *_, second_smallest, smallest = sorted(LABEL_NAMES, key=counts.__getitem__, reverse=True)
    return (
        f"- The classes are imbalanced: {first} and {second} are {(counts[first] + counts[second]) / total:.0%} of "
        f"the training texts, {smallest} {counts[smallest] / total:.1%}; scores on the small classes "
        f"({second_smallest} and {smallest}) are lower than on the large ones (see the per-class table)."
    )


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
    agreement = backend["agreement"]
    bounds = backend["bounds"]
    name = f"{Path(base_model).name}-emotion"
    lines = [
        "---",
        yaml.safe_dump(_metadata(base_model, test, name), sort_keys=False).strip(),
        "---",
        "",
        f"# {name}",
        "",
        f"`{base_model}` fine-tuned to name the emotion of a short English text: one of "
        f"{', '.join(LABEL_NAMES)}. Trained and evaluated with the emotion-finetune project; every number "
        "below comes from its saved run artifacts.",
        "",
        "## Results",
        "",
        "| split | accuracy | F1 (weighted) | F1 (macro) |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {split} | {scores['accuracy']:.4f} | {scores['f1_weighted']:.4f} | {scores['f1_macro']:.4f} |"
            for split, scores in (("validation", validation), ("test", test))
        ),
        f"| test, served as `{backend['backend']}` | {served['accuracy']:.4f} | {served['f1_weighted']:.4f} "
        f"| {served['f1_macro']:.4f} |",
        "",
        f"`EmotionClassifier.from_folder` serves this model on `{backend['backend']}` by default. That was decided "
        f"on the validation split: the int8 graph (`{backend['candidate']}`) changed {agreement['changed_labels']} "
        f"of {agreement['texts']} float32 labels ({100 * agreement['changed_label_share']:.2f}%) and moved accuracy by "
        f"{agreement['accuracy_change_points']:+.2f} points; it is served only within "
        f"{100 * bounds['max_changed_label_share']:g}% and {bounds['max_accuracy_change_points']:g} points, "
        "otherwise the exact float32 graph is. The other rows and the per-class table describe float32 PyTorch.",
        "",
        "Per class on the test split:",
        "",
        "| emotion | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {n} | {test[f'precision_{n}']:.3f} | {test[f'recall_{n}']:.3f} | {test[f'f1_{n}']:.3f} |"
            for n in LABEL_NAMES
        ),
        "",
        "## Intended uses",
        "",
        "- Tagging the dominant emotion of short, informal English text (tweets, chat messages, reviews) in "
        "research, teaching and aggregate analysis.",
        "- A starting point for fine-tuning on a related emotion data set.",
        "",
        "Not intended for decisions about individuals (hiring, credit, health, policing), for surveillance or "
        "profiling, or as evidence of anyone's actual state of mind.",
        "",
        "## Limitations",
        "",
        '- One label per text: mixed emotions ("crying but smiling") are forced into one class.',
        '- Trained on English tweets written as "i feel ..." sentences, lower-cased and without punctuation; text '
        "written otherwise, and formal, long, non-English or sarcastic text, is out of distribution.",
        _balance(train_label_counts),
        "- The data contains label noise: some texts occur twice with different labels, within and across splits.",
        "",
        "## Training data and procedure",
        "",
        f"- Data: `{HUB_DATASET[0]}` (configuration `{HUB_DATASET[1]}`), {sum(train_label_counts.values()):,} "
        "training texts. Every choice (hyperparameters, checkpoint, served back end) was made on the validation "
        "split. The test split was scored once per model, after all choices; before that it was only read to "
        "count its labels and lengths and its overlaps with the other splits, and after it the error analysis "
        "reads the saved test predictions.",
        "- Objective: cross-entropy; optimiser AdamW with linear decay; dynamic padding with length-grouped batches.",
        "",
        "| hyperparameter | value |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in hyperparameters.items()),
        "",
        "## Framework versions",
        "",
        *(f"- {library} {version}" for library, version in versions.items() if version),
        "",
        "## How to use",
        "",
        "```python",
        "from helpers.serving.classifier import EmotionClassifier",
        "",
        'classifier = EmotionClassifier.from_folder("path/to/this/folder")',
        'classifier.predict(["i feel wonderful today"], top_k=2)',
        "```",
        "",
    ]
    path = model_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
