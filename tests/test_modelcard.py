"""The model card: hub metadata and a card for people, holding exactly the numbers it was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import LABEL_NAMES
from helpers.reporting.modelcard import write_model_card

PER_CLASS = {"precision": 0.811, "recall": 0.722, "f1": 0.633}


def card_inputs() -> dict[str, Any]:
    """The arguments notebook 05 passes, with numbers that show where each one lands."""
    test = {"accuracy": 0.92456, "f1_weighted": 0.92311, "f1_macro": 0.88149}
    for index, name in enumerate(LABEL_NAMES):  # love's precision 0.812, anger's 0.814, ...
        test |= {f"{kind}_{name}": value + index / 1000 for kind, value in PER_CLASS.items()}
    return {
        "base_model": "distilbert/distilbert-base-uncased",
        "hyperparameters": {"learning_rate": 4.2e-05, "batch_size": 32, "epochs": 3},
        "test": test,
        "validation": {"accuracy": 0.931, "f1_weighted": 0.9305, "f1_macro": 0.9012},
        "served": {"accuracy": 0.9241, "f1_weighted": 0.9228, "f1_macro": 0.8807},
        "versions": {"torch": "2.5.1", "transformers": "4.46.3", "onnxruntime": None},
        "train_label_counts": {name: 1000 * (index + 1) for index, name in enumerate(LABEL_NAMES)},
        "backend": {
            "backend": "onnx-int8",
            "candidate": "onnx-int8",
            "split": "validation",
            "agreement": {
                "texts": 2000,
                "changed_labels": 3,
                "changed_label_share": 0.0015,
                "accuracy_change_points": -0.05,
            },
            "bounds": {"max_changed_label_share": 0.005, "max_accuracy_change_points": 0.3},
        },
    }


def written(folder: Path, **inputs: Any) -> tuple[dict[str, Any], str]:
    path = write_model_card(folder, **inputs)
    assert path == folder / "README.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def test_metadata_names_the_model_data_and_rounded_test_metrics(tmp_path: Path) -> None:
    metadata, _ = written(tmp_path, **card_inputs())
    assert metadata["base_model"] == "distilbert/distilbert-base-uncased"
    assert metadata["datasets"] == ["dair-ai/emotion"] and metadata["pipeline_tag"] == "text-classification"
    (index,) = metadata["model-index"]
    assert index["name"] == "distilbert-base-uncased-emotion"
    (result,) = index["results"]
    assert result["dataset"] == {"name": "emotion", "type": "dair-ai/emotion", "config": "split", "split": "test"}
    assert result["metrics"] == [
        {"type": "accuracy", "name": "Accuracy", "value": 0.9246},
        {"type": "f1", "name": "F1 (weighted)", "value": 0.9231, "args": {"average": "weighted"}},
        {"type": "f1", "name": "F1 (macro)", "value": 0.8815, "args": {"average": "macro"}},
    ]


def test_card_shows_the_numbers_it_was_given(tmp_path: Path) -> None:
    _, body = written(tmp_path, **card_inputs())
    assert body.splitlines()[1] == "# distilbert-base-uncased-emotion"
    assert f"one of {', '.join(LABEL_NAMES)}." in body
    assert "| validation | 0.9310 | 0.9305 | 0.9012 |" in body
    assert "| test | 0.9246 | 0.9231 | 0.8815 |" in body
    assert "| test, served as `onnx-int8` | 0.9241 | 0.9228 | 0.8807 |" in body
    for index, name in enumerate(LABEL_NAMES):
        cells = " | ".join(f"{value + index / 1000:.3f}" for value in PER_CLASS.values())
        assert f"| {name} | {cells} |" in body
    assert "changed 3 of 2000 float32 labels (0.15%) and moved accuracy by -0.05 points" in body
    assert "within 0.5% and 0.3 points" in body
    assert "| learning_rate | 4.2e-05 |" in body and "| epochs | 3 |" in body
    assert "- torch 2.5.1" in body and "onnxruntime" not in body  # a library without a version is left out
    assert "21,000 training texts" in body  # 1,000 to 6,000 per emotion
    assert "surprise and fear are 52% of the training texts, sadness 4.8%" in body


def test_card_states_its_limits_and_intended_uses(tmp_path: Path) -> None:
    _, body = written(tmp_path, **card_inputs())
    sections = [line for line in body.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Results",
        "## Intended uses",
        "## Limitations",
        "## Training data and procedure",
        "## Framework versions",
        "## How to use",
    ]
    limitations = body.split("## Limitations\n", 1)[1].split("\n## ", 1)[0]
    assert "One label per text" in limitations and "label noise" in limitations
    assert "out of distribution" in limitations
    assert "Not intended for decisions about individuals" in body


@pytest.mark.parametrize(
    ("argument", "drop", "message"),
    [
        ("test", "f1_love", "test lacks f1_love"),
        ("validation", "f1_macro", "validation lacks f1_macro"),
        ("served", "accuracy", "served lacks accuracy"),
        ("backend", "bounds", "backend lacks bounds"),
    ],
)
def test_missing_input_is_named_and_nothing_is_written(tmp_path: Path, argument: str, drop: str, message: str):
    inputs = card_inputs()
    inputs[argument] = {key: value for key, value in inputs[argument].items() if key != drop}
    with pytest.raises(ValueError, match=message):
        write_model_card(tmp_path, **inputs)
    assert not (tmp_path / "README.md").exists()


def test_missing_decision_field_is_named(tmp_path: Path) -> None:
    inputs = card_inputs()
    del inputs["backend"]["agreement"]["changed_labels"]
    with pytest.raises(ValueError, match=r"backend\['agreement'\] lacks changed_labels"):
        write_model_card(tmp_path, **inputs)
