"""The benchmark runs end to end on the smoke profile, and the fast back ends predict what float32 predicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from helpers import bench
from helpers.inference import (
    BACKENDS,
    DEFAULT_BACKEND,
    EmotionClassifier,
    build_backend,
    sorted_batch_logits,
)
from helpers.modeling import load_tokenizer
from helpers.profiles import resolve_profile
from helpers.training import tokenize_splits, train_classifier


@pytest.fixture(scope="module")
def trained_folder(easy_data: DatasetDict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT fitted to the easy set: its logits have clear margins, as a real fine-tune's do."""
    cfg = resolve_profile("smoke", epochs=12, batch_size=16, learning_rate=2e-3, logging_steps=5)
    tokenizer = load_tokenizer(cfg)
    tokenized = tokenize_splits(easy_data, tokenizer, cfg.max_length)
    result = train_classifier(cfg, tokenized, tokenizer, tmp_path_factory.mktemp("bench") / "run")
    return result.model_dir


@pytest.fixture(scope="module")
def fp32_and_texts(trained_folder: Path, easy_data: DatasetDict):
    model = AutoModelForSequenceClassification.from_pretrained(trained_folder)
    tokenizer = AutoTokenizer.from_pretrained(trained_folder)
    texts = list(easy_data["test"]["text"]) + list(easy_data["validation"]["text"])
    return model, tokenizer, texts


def logits_on(backend: str, model, tokenizer, texts: list[str]) -> np.ndarray:
    """Batches of 8 of mixed lengths, so padding and the attention mask are exercised."""
    return sorted_batch_logits(build_backend(model, backend), 6, tokenizer, texts, batch_size=8, max_length=64)


def test_smoke_bench_writes_complete_json(real_data_dir: Path, trained_folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "benchmarks.json"
    args = ["--profile", "smoke", "--output", str(output), "--model", str(trained_folder)]
    returned = bench.main([*args, "--data-dir", str(real_data_dir)])
    written = json.loads(output.read_text())
    assert written == json.loads(json.dumps(returned))
    assert written["profile"] == "smoke"
    assert written["machine"]["cpu_count"] >= 1 and written["machine"]["torch_threads"] >= 1
    assert {"torch", "transformers", "onnxruntime"} <= set(written["machine"])
    assert written["settings"]["train_batch_size"] == 16

    (training,) = written["training"].values()
    for key in ("seed_samples_per_second", "project_samples_per_second", "speedup_vs_seed"):
        assert training[key] > 0, key
    recipes = training["recipes"]
    assert recipes["seed"]["mean_padded_tokens"] == resolve_profile("smoke").max_length
    assert recipes["project"]["mean_padded_tokens"] < recipes["seed"]["mean_padded_tokens"]
    padding = written["epoch_mean_padded_tokens"]
    assert padding["unpadded"] <= padding["dynamic_padding_length_grouped"] < padding["dynamic_padding_random_order"]
    assert padding["dynamic_padding_random_order"] < padding["seed"] == resolve_profile("smoke").max_length
    assert all(row["steps"] > 0 and row["samples_per_second"] > 0 for row in recipes.values())

    inference = written["inference"]
    assert inference["trained"] and inference["model"] == str(trained_folder)
    assert set(inference["variants"]) == set(BACKENDS)
    for name, row in inference["variants"].items():
        for key in ("texts_per_second", "latency_ms_median", "speedup_vs_fp32", "build_seconds"):
            assert row[key] > 0, (name, key)
        assert 0 <= row["accuracy"] <= 1 and isinstance(row["accuracy_drop_points"], float)
    assert inference["variants"]["fp32"]["accuracy_drop_points"] == 0
    assert inference["recommended_backend"] in BACKENDS and inference["fastest_within_accuracy"] in BACKENDS
    # the default back end gives a text the same probabilities alone as in a batch; fp32 does too
    for name in ("fp32", DEFAULT_BACKEND):
        assert 0 <= inference["variants"][name]["batch_effect_max_probability"] <= bench.BATCH_EFFECT_TOLERANCE


def test_untrained_model_has_no_accuracy_and_no_recommendation(real_data_dir: Path) -> None:
    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)
    assert bench.default_model_folder("smoke") is None  # the scratch runs folder holds no model
    model = bench.inference_model(profile, tokenizer, None)
    texts = [f"i feel {word} today" for word in ("happy", "sad", "scared", "angry")]
    result = bench.bench_inference(model, tokenizer, texts, [1, 0, 4, 3], 64, bench.SETTINGS["smoke"], trained=False)
    assert result["fp32_accuracy"] == "untrained" and result["recommended_backend"] is None
    assert all(
        row["accuracy"] == "untrained" and row["accuracy_drop_points"] is None for row in result["variants"].values()
    )


def test_default_model_folder_prefers_the_tuned_run(scratch_runs: Path) -> None:
    for run in ("finetune", "tuned"):
        folder = scratch_runs / "smoke" / run / "model"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        assert bench.default_model_folder("smoke") == folder


def test_length_grouped_epoch_covers_every_text_once_with_less_padding() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=500).tolist()
    grouped = bench.epoch_batches(lengths, 16, grouped=True, seed=0)
    shuffled = bench.epoch_batches(lengths, 16, grouped=False, seed=0)
    for batches in (grouped, shuffled):
        assert sorted(i for batch in batches for i in batch) == list(range(500))

    def mean_padded(batches: list[list[int]]) -> float:
        return float(np.mean([max(lengths[i] for i in batch) for batch in batches]))

    assert mean_padded(grouped) < 0.8 * mean_padded(shuffled)
    picked = bench.representative_batches(grouped, lengths, 10, seed=0)
    assert len({tuple(batch) for batch in picked}) == 10 and all(batch in grouped for batch in picked)
    assert mean_padded(picked) == pytest.approx(mean_padded(grouped), rel=0.05)  # a fair sample of the epoch


def test_rotation_puts_each_item_first_once() -> None:
    items = ("a", "b", "c")
    firsts = [bench.rotated(items, shift)[0] for shift in range(3)]
    assert sorted(firsts) == list(items) and all(sorted(bench.rotated(items, s)) == list(items) for s in range(5))


def test_onnx_float32_matches_pytorch(fp32_and_texts) -> None:
    model, tokenizer, texts = fp32_and_texts
    reference = logits_on("fp32", model, tokenizer, texts)
    onnx = logits_on("onnx", model, tokenizer, texts)
    np.testing.assert_allclose(onnx, reference, atol=1e-4)
    assert (onnx.argmax(axis=1) == reference.argmax(axis=1)).all()


@pytest.mark.parametrize("backend", ["int8", "onnx-int8"])
def test_int8_back_ends_keep_the_labels(fp32_and_texts, backend: str) -> None:
    """int8 weights perturb the logits a little; on confident predictions at most 1 in 20 labels may change."""
    model, tokenizer, texts = fp32_and_texts
    reference = logits_on("fp32", model, tokenizer, texts)
    quantised = logits_on(backend, model, tokenizer, texts)
    assert (quantised.argmax(axis=1) == reference.argmax(axis=1)).mean() >= 0.95
    assert not np.allclose(quantised, reference, atol=1e-6)  # it really is another computation


def test_classifier_defaults_to_the_fast_backend_with_the_same_api(trained_folder: Path, easy_data: DatasetDict):
    """The default back end answers as float32 does (it was chosen for that), through the unchanged API."""
    texts = list(easy_data["test"]["text"][:12])
    fast = EmotionClassifier.from_folder(trained_folder)
    plain = EmotionClassifier.from_folder(trained_folder, backend="fp32")
    assert fast.backend == DEFAULT_BACKEND and plain.backend == "fp32"
    np.testing.assert_allclose(fast.predict_proba(texts, batch_size=5), plain.predict_proba(texts), atol=1e-4)
    assert [row[0]["label"] for row in fast.predict(texts)] == [row[0]["label"] for row in plain.predict(texts)]
    with pytest.raises(ValueError, match="unknown backend"):
        EmotionClassifier.from_folder(trained_folder, backend="gpu")
