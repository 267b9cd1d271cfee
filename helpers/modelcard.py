"""A Hugging Face style model card (README.md with YAML metadata) for a saved model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from helpers import LABEL_NAMES
from helpers.data import HUB_DATASET

METRIC_TITLES = {"accuracy": "Accuracy", "f1_weighted": "F1 (weighted)", "f1_macro": "F1 (macro)"}


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


def write_model_card(
    model_dir: Path,
    base_model: str,
    hyperparameters: dict[str, Any],
    test: dict[str, float],
    validation: dict[str, float],
    versions: dict[str, str | None],
    train_rows: int,
) -> Path:
    """Write `model_dir/README.md`: metadata first (read by the hub), then the card for people."""
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
        "- Trained on English tweets selected by emotion hashtags; formal, long, non-English or sarcastic text is "
        "out of distribution.",
        "- The classes are imbalanced (joy and sadness are about 62% of the data, surprise about 3%); scores on "
        "love and surprise are lower than on the large classes.",
        "- The data contains label noise: some texts occur twice with different labels, within and across splits.",
        "",
        "## Training data and procedure",
        "",
        f"- Data: `{HUB_DATASET[0]}` (configuration `{HUB_DATASET[1]}`), {train_rows} training texts; the "
        "checkpoint was selected on the 2,000-text validation split; the test split was used once.",
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
        "from helpers.inference import EmotionClassifier",
        "",
        'classifier = EmotionClassifier.from_folder("path/to/this/folder")',
        'classifier.predict(["i feel wonderful today"], top_k=2)',
        "```",
        "",
    ]
    path = model_dir / "README.md"
    path.write_text("\n".join(lines))
    return path
