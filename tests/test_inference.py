"""Prediction from a saved folder: emotion names with probabilities, and clear errors for bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from helpers import LABEL_NAMES
from helpers.bench.settings import BATCH_EFFECT_TOLERANCE
from helpers.models.folder import ModelFolderError, load_model_folder
from helpers.probabilities import softmax
from helpers.serving.classifier import EmotionClassifier
from helpers.serving.cli import main


@pytest.fixture(scope="module")
def model_dir(trained_model_dir: Path) -> Path:
    return trained_model_dir


@pytest.fixture(scope="module")
def classifier(model_dir: Path) -> EmotionClassifier:
    return EmotionClassifier.from_folder(model_dir)


def test_predict_names_emotions_with_probabilities(classifier: EmotionClassifier) -> None:
    results = classifier.predict(["i feel so happy about it", "i am terrified about it"], top_k=3)
    assert len(results) == 2 and all(len(r) == 3 for r in results)
    assert results[0][0]["label"] == "joy" and results[1][0]["label"] == "fear"
    for ranked in results:
        assert all(g["label"] in LABEL_NAMES for g in ranked)
        scores = [g["score"] for g in ranked]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-6


BATCH_TEXTS = [
    "sad",
    "i am amazed",
    "honestly i feel so furious about it today",
    "this morning i was feeling cheerful and glad about everything that happened at work",
]


@pytest.mark.parametrize("backend", ["fp32", "onnx"])
def test_a_padded_batch_gives_each_text_its_one_by_one_probabilities(model_dir: Path, backend: str) -> None:
    """fp32 and onnx run a batch as one padded call (onnx-int8 runs one unpadded text per call by construction,
    so it cannot differ): the texts, all of different lengths, must get what they get alone, within the
    bench's `BATCH_EFFECT_TOLERANCE` on every probability."""
    model, tokenizer = load_model_folder(model_dir)
    classifier = EmotionClassifier(model, tokenizer, backend=backend)
    run = classifier._logits_of
    calls: list[tuple[np.ndarray, np.ndarray]] = []

    def recorded(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        calls.append((input_ids, attention_mask))
        return run(input_ids, attention_mask)

    classifier._logits_of = recorded
    batched = classifier.predict_proba(BATCH_TEXTS, batch_size=len(BATCH_TEXTS))
    ((input_ids, attention_mask),) = calls  # the whole batch in one call
    assert len(set(attention_mask.sum(axis=1))) == len(BATCH_TEXTS)  # every text padded to the longest but one
    alone = np.concatenate([classifier.predict_proba(text) for text in BATCH_TEXTS])
    # alone, each text is one call holding its own tokens and no padding (not padded to max_length)
    own_lengths = [len(tokenizer(text)["input_ids"]) for text in BATCH_TEXTS]
    assert [mask.shape for _, mask in calls[1:]] == [(1, length) for length in own_lengths]
    np.testing.assert_allclose(batched, alone, rtol=0, atol=BATCH_EFFECT_TOLERANCE)
    # the tolerance would catch a batch whose padding leaked into its texts: the same call without the mask
    unmasked = softmax(run(input_ids, np.ones_like(attention_mask)))
    assert np.abs(unmasked - softmax(run(input_ids, attention_mask))).max() > 100 * BATCH_EFFECT_TOLERANCE


@pytest.mark.parametrize(
    ("texts", "error", "fragment"),
    [
        ([], ValueError, "empty"),
        (["fine", ""], ValueError, "texts[1]"),
        (["   "], ValueError, "white space"),
        (["fine", None], TypeError, "texts[1]"),
        ([3.5], TypeError, "float"),
        (42, TypeError, "string or a list"),
    ],
)
def test_bad_texts_are_refused(classifier: EmotionClassifier, texts, error, fragment: str) -> None:
    with pytest.raises(error, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        classifier.predict(texts)


def test_top_k_out_of_range(classifier: EmotionClassifier) -> None:
    with pytest.raises(ValueError, match="top_k"):
        classifier.predict("i feel fine", top_k=7)


def test_overlong_text_is_truncated_with_a_warning(classifier: EmotionClassifier) -> None:
    with pytest.warns(UserWarning, match="truncated"):
        result = classifier.predict("i feel happy " * 300)
    assert result[0][0]["label"] in LABEL_NAMES


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match="no such model folder"):
        EmotionClassifier.from_folder(tmp_path / "nowhere")


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer.json"])
def test_incomplete_folder(model_dir: Path, tmp_path: Path, missing: str) -> None:
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / missing).unlink()
    with pytest.raises(ModelFolderError, match="incomplete"):
        EmotionClassifier.from_folder(copy)


def test_cli_one_text(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(model_dir), "i feel so happy about it", "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 2 and lines[0].split("\t")[0] == "joy"


def test_cli_csv_column_to_new_csv(model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,tweet\n1,i feel so sad about it\n2,"today, i am furious about it"\n')
    target = tmp_path / "out" / "predictions.csv"
    args = ["--csv", str(source), "--column", "tweet", "--output", str(target), "--top-k", "2"]
    assert main([str(model_dir), *args]) == 0
    rows = list(csv.DictReader(target.open()))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["emotion"] == "sadness" and rows[1]["emotion"] == "anger"
    assert {"score", "emotion_2", "score_2"} <= set(rows[0])


@pytest.mark.parametrize(
    ("content", "column", "fragment"),
    [
        ("id,tweet\n1,fine\n", "text", "no column 'text'"),
        ("id,text\n1,fine\n2,\n", "text", "in.csv:3: empty text"),
        ("id,text\n", "text", "no rows"),
    ],
)
def test_cli_rejects_bad_csv(model_dir, tmp_path, capsys, content: str, column: str, fragment: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    code = main([str(model_dir), "--csv", str(source), "--column", column, "--output", str(tmp_path / "o.csv")])
    assert code == 2 and fragment in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_cli_rejects_missing_model_and_empty_text(tmp_path: Path, model_dir: Path, capsys) -> None:
    assert main([str(tmp_path / "nowhere"), "hello"]) == 2
    assert "no such model folder" in capsys.readouterr().err
    assert main([str(model_dir), "  "]) == 2
    assert "white space" in capsys.readouterr().err


def test_cli_usage_errors(model_dir: Path) -> None:
    with pytest.raises(SystemExit):
        main([str(model_dir)])  # neither a text nor --csv
    with pytest.raises(SystemExit):
        main([str(model_dir), "--csv", "x.csv"])  # --csv without --output
    with pytest.raises(SystemExit):
        main([str(model_dir), "hello", "--backend", "gpu"])


def test_cli_backend_choice_gives_the_same_answer(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = []
    for backend in ("fp32", "onnx-int8"):
        assert main([str(model_dir), "i am terrified about it", "--backend", backend]) == 0
        answers.append(capsys.readouterr().out.split("\t")[0])
    assert answers == ["fear", "fear"]
