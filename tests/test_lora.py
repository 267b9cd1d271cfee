"""LoRA and head-only training: what trains, what is saved, and that a saved adapter predicts exactly as trained,
through every back end."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import DatasetDict

from helpers.models.batching import batched_logits
from helpers.models.building import build_model, load_tokenizer
from helpers.models.folder import ModelFolderError, load_model_folder
from helpers.models.methods import (
    BASE_RECORD,
    AdapterBaseError,
    apply_method,
    head_modules,
    load_adapter_model,
    parameter_counts,
    save_base_record,
)
from helpers.probabilities import softmax
from helpers.profiles import FULL_FINE_TUNING, resolve_profile
from helpers.serving.classifier import EmotionClassifier
from helpers.serving.cli import main as cli_main
from helpers.training import comparison
from helpers.training.finetune import load_training_result, tokenize_splits, train_classifier, training_identity

ONNX_TOLERANCE = 1e-4
"""Largest logit difference allowed between the merged float32 ONNX graph and the unmerged PyTorch adapter."""


@pytest.fixture(scope="module")
def lora_profile():
    return resolve_profile(
        "smoke",
        method="lora",
        lora_rank=8,
        lora_alpha=16,
        lora_target_modules=("query", "key", "value", "dense"),  # a random base needs more than query and value
        learning_rate=5e-3,
        epochs=12,
        batch_size=16,
        logging_steps=20,
    )


@pytest.fixture(scope="module")
def lora_run(lora_profile, easy_data: DatasetDict, tmp_path_factory: pytest.TempPathFactory):
    """A tiny BERT with LoRA adapters trained on the easy set (seconds)."""
    tokenizer = load_tokenizer(lora_profile)
    tokenized = tokenize_splits(easy_data, tokenizer, lora_profile.max_length)
    folder = tmp_path_factory.mktemp("lora") / "run"
    return train_classifier(lora_profile, tokenized, tokenizer, folder), tokenizer


def adapted_copy(profile, seed: int = 0) -> torch.nn.Module:
    """A LoRA-wrapped tiny BERT whose adapters and head hold random non-zero values (fresh LoRA B matrices are
    zero, which would hide a loading bug)."""
    model = apply_method(build_model(profile, vocab_size=30522), profile)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    return model.eval()


def test_lora_trains_adapters_and_head_only(lora_run, lora_profile) -> None:
    result, _ = lora_run
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) >= 4
    assert np.mean(losses[-2:]) < np.mean(losses[:2]) - 0.05, losses
    assert result.best_validation["accuracy"] > 1 / 6 + 0.1
    full = parameter_counts(build_model(lora_profile, vocab_size=30522))
    assert 0 < result.parameters["trainable"] < full["total"] / 100


def test_lora_run_saves_an_adapter_a_fraction_of_the_model(lora_run) -> None:
    result, _ = lora_run
    folder = Path(result.model_dir)
    assert (folder / "adapter_config.json").is_file()
    assert not (folder / "model.safetensors").exists()
    adapter = (folder / "adapter_model.safetensors").stat().st_size
    base = (folder / "base" / "model.safetensors").stat().st_size  # the tiny base no name loads, kept beside
    assert adapter < base / 50
    record = json.loads((folder / BASE_RECORD).read_text())
    assert record["model"] == "base" and len(record["encoder_sha256"]) == 16


def test_lora_settings_enter_the_fingerprint_of_lora_runs_only(easy_data: DatasetDict) -> None:
    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)

    def settings(**overrides) -> dict:
        return training_identity(replace(profile, **overrides), easy_data, tokenizer, {})["settings"]

    assert settings(lora_rank=4) == settings(lora_rank=16)  # a full run ignores them
    assert settings(method="lora", lora_rank=4) != settings(method="lora", lora_rank=16)
    assert "lora_rank" not in settings(method="head")


def test_head_method_trains_the_pooler_and_classifier_only() -> None:
    profile = resolve_profile("smoke", method="head")
    model = apply_method(build_model(profile, vocab_size=30522), profile)
    trained = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert trained == {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"}
    assert head_modules(model) == ["classifier", "pooler"]


def test_adapter_saves_and_loads_back_with_identical_logits(easy_data: DatasetDict, tmp_path: Path) -> None:
    # A loaded model attends with transformers' default (SDPA), not the smoke profile's eager attention, whose
    # sums round differently: the same attention on both sides makes "identical" mean bit for bit.
    profile = resolve_profile("smoke", method="lora", lora_rank=4, lora_alpha=8, attn_implementation="sdpa")
    tokenizer = load_tokenizer(profile)
    texts = list(easy_data["validation"]["text"][:16])
    base = build_model(profile, vocab_size=len(tokenizer))
    save_base_record(base, profile, tmp_path)
    model = adapted_copy(profile)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    before = batched_logits(model, tokenizer, texts, 8, profile.max_length)
    unmerged = load_adapter_model(tmp_path, merge=False)
    after = batched_logits(unmerged, tokenizer, texts, 8, profile.max_length)
    np.testing.assert_array_equal(after, before)
    merged, _ = load_model_folder(tmp_path)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    np.testing.assert_allclose(batched_logits(merged, tokenizer, texts, 8, profile.max_length), before, atol=1e-5)


def test_merged_onnx_matches_the_unmerged_adapter(lora_run, easy_data: DatasetDict) -> None:
    result, tokenizer = lora_run
    folder = Path(result.model_dir)
    texts = list(easy_data["test"]["text"])
    reference = batched_logits(load_adapter_model(folder, merge=False), tokenizer, texts, 16, 64)
    onnx = EmotionClassifier.from_folder(folder, backend="onnx")
    probabilities = onnx.predict_proba(texts)
    np.testing.assert_allclose(np.log(probabilities), np.log(softmax(reference)), atol=2 * ONNX_TOLERANCE)
    assert (folder / "onnx-cache").is_dir()


def test_cli_predicts_from_an_adapter_folder(lora_run, capsys: pytest.CaptureFixture[str]) -> None:
    result, _ = lora_run
    assert cli_main([str(result.model_dir), "i am so happy about it", "--backend", "fp32"]) == 0
    printed = capsys.readouterr().out
    assert any(name in printed for name in ("joy", "sadness", "love", "anger", "fear", "surprise"))


def test_adapter_without_its_base_names_both(lora_run, tmp_path: Path) -> None:
    result, _ = lora_run
    copy = tmp_path / "adapter"
    shutil.copytree(result.model_dir, copy, ignore=shutil.ignore_patterns("base", "onnx-cache"))
    with pytest.raises(AdapterBaseError, match=r"adapter.*base model 'base'.*cannot be loaded"):
        load_model_folder(copy)
    assert cli_main([str(copy), "i feel fine", "--backend", "fp32"]) == 2


def test_adapter_on_another_base_names_both(lora_run, tmp_path: Path) -> None:
    result, _ = lora_run
    other = tmp_path / "other-base"
    build_model(resolve_profile("smoke", seed=7), vocab_size=30522).save_pretrained(other)
    with pytest.raises(AdapterBaseError, match=r"trained on base model 'base'.*other-base.*other weights"):
        load_model_folder(result.model_dir, base=other)


def test_a_full_model_folder_takes_no_base(trained_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an adapter"):
        load_model_folder(trained_model_dir, base=tmp_path)


def test_adapter_folder_without_weights_is_incomplete(lora_run, tmp_path: Path) -> None:
    result, _ = lora_run
    copy = tmp_path / "adapter"
    shutil.copytree(result.model_dir, copy)
    (copy / "adapter_model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="adapter_model.safetensors"):
        load_model_folder(copy)


def test_unknown_target_module_lists_the_valid_ones() -> None:
    profile = resolve_profile("smoke", method="lora", lora_target_modules=("query", "q_lin"))
    with pytest.raises(ValueError, match=r"unknown module\(s\) \['q_lin'\].*'key'.*'query'.*'value'"):
        apply_method(build_model(profile, vocab_size=30522), profile)


def test_chosen_target_modules_are_adapted() -> None:
    profile = resolve_profile("smoke", method="lora", lora_target_modules=("key", "dense"))
    model = apply_method(build_model(profile, vocab_size=30522), profile)
    adapted = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in model.named_parameters() if "lora_A" in name}
    assert adapted == {"key", "dense"}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("method", "prefix", "must be one of"),
        ("lora_rank", 0, "at least 1"),
        ("lora_dropout", 1.0, "below 1.0"),
        ("lora_alpha", "16", "must be"),
    ],
)
def test_bad_lora_settings_are_refused(setting: str, value: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        resolve_profile("smoke", **{setting: value})


def test_run_record_of_a_lora_run_loads(lora_run, easy_data: DatasetDict) -> None:
    result, _ = lora_run
    run = load_training_result(Path(result.model_dir).parent, easy_data)
    assert run["identity"]["settings"]["method"] == "lora"
    assert run["identity"]["settings"]["lora_rank"] == 8


def test_distilbert_head_and_the_gpu_profiles_targets() -> None:
    """The gpu profile's model type: its head is the pre-classifier and classifier, its targets q_lin and v_lin."""
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(vocab_size=100, dim=32, n_layers=2, n_heads=2, hidden_dim=64, num_labels=6)
    gpu = resolve_profile("gpu")
    lora = replace(gpu, method="lora")
    model = apply_method(DistilBertForSequenceClassification(config), lora)
    trained = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in trained if ".lora_" in name} == {"q_lin", "v_lin"}
    assert head_modules(DistilBertForSequenceClassification(config)) == ["pre_classifier", "classifier"]
    heads = {name for name in trained if ".lora_" not in name}
    assert {name.split(".modules_to_save")[0].rsplit(".", 1)[-1] for name in heads} == {"pre_classifier", "classifier"}
    frozen = apply_method(DistilBertForSequenceClassification(config), replace(gpu, method="head"))
    assert {name for name, parameter in frozen.named_parameters() if parameter.requires_grad} == {
        "pre_classifier.weight",
        "pre_classifier.bias",
        "classifier.weight",
        "classifier.bias",
    }


def test_notebook_07_full_fine_tuning_is_notebook_03s_run(easy_data: DatasetDict) -> None:
    """Notebook 07 reuses notebook 03's runs: its full fine-tuning job must have their fingerprint exactly."""
    from helpers.profiles import FULL_FINE_TUNING as FULL
    from helpers.training.comparison import configurations
    from helpers.training.identity import fingerprint

    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)
    recipe = {"learning_rate": profile.learning_rate, "batch_size": profile.batch_size, "epochs": profile.epochs}
    hyperparameters = {**recipe, "weight_decay": profile.weight_decay, "warmup_ratio": profile.warmup_ratio}
    notebook_03 = training_identity(profile, easy_data, tokenizer, hyperparameters)
    notebook_07 = training_identity(configurations(profile)[FULL], easy_data, tokenizer, hyperparameters)
    assert fingerprint(notebook_07) == fingerprint(notebook_03)
    assert "method" not in notebook_03["settings"]  # full runs keep the fingerprints they had before methods


def test_a_lora_models_counts_leave_out_peft_s_copy_of_the_head() -> None:
    profile = resolve_profile("smoke", method="lora", lora_rank=4, lora_alpha=8)
    base = build_model(profile, vocab_size=30522)
    total = parameter_counts(base)["total"]
    counts = parameter_counts(apply_method(base, profile))
    adapters = 2 * 2 * (32 * 4 + 4 * 32)  # two layers, query and value, A and B of rank 4 on width 32
    assert counts["total"] == total + adapters
    assert counts["trainable"] == adapters + (32 * 32 + 32) + (32 * 6 + 6)  # adapters, pooler, classifier


def test_the_rate_kept_is_the_best_of_its_runs(monkeypatch: pytest.MonkeyPatch, easy_data: DatasetDict) -> None:
    """The rule, on distinct scores: per configuration, the rate whose run had the best validation weighted F1."""
    from types import SimpleNamespace

    from helpers.profiles import FULL_FINE_TUNING as FULL
    from helpers.training import comparison

    profile = resolve_profile("smoke", peft_ranks=(2,), peft_learning_rates=(1e-3, 5e-3, 2e-2))
    validation = {("lora-r2", 1e-3): 0.5, ("lora-r2", 5e-3): 0.7, ("lora-r2", 2e-2): 0.6}
    validation |= {("head", 1e-3): 0.4, ("head", 5e-3): 0.3, ("head", 2e-2): 0.35}

    def fake_runs(function, jobs, workers=None, describe=None):
        results = []
        for job in jobs:
            kind = job["output_dir"].parent.name if job["output_dir"].parent.name != "peft" else job["output_dir"].name
            name = kind.rsplit("-lr", 1)[0]
            score = validation[(name, job["hyperparameters"]["learning_rate"])]
            results.append(SimpleNamespace(best_validation={"f1_weighted": score, "accuracy": score}))
        return results

    monkeypatch.setattr(comparison, "run_jobs", fake_runs)
    rates, table = comparison.choose_learning_rates(profile, easy_data, load_tokenizer(profile))
    assert rates == {FULL: profile.learning_rate, "LoRA r=2": 5e-3, "head only": 1e-3}
    assert table["chosen"].sum() == 2


def test_learning_rates_are_chosen_on_validation(
    easy_data: DatasetDict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real (tiny) runs at two rates: the test split's labels play no part (scrambled, the runs' scores and the
    choice are the same), so the scores the choice reads are validation's."""
    profile = resolve_profile("smoke", peft_ranks=(2,), peft_learning_rates=(1e-4, 5e-2), workers=1)
    tokenizer = load_tokenizer(profile)
    tokenized = tokenize_splits(easy_data, tokenizer, profile.max_length)
    rates, table = comparison.choose_learning_rates(profile, tokenized, tokenizer)
    metric = f"validation {comparison.SELECTION_METRIC}"
    for name, group in table.groupby("configuration"):
        best = group.loc[group[metric].idxmax()]
        assert rates[name] == best["learning rate"], name
    assert rates[FULL_FINE_TUNING] == profile.learning_rate and table["chosen"].sum() == 2
    test = tokenized["test"]
    scrambled = DatasetDict({**tokenized, "test": test.map(lambda row: {"label": (row["label"] + 1) % 6})})
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(tmp_path / "again"))  # trained anew, not reused by fingerprint
    again, table_again = comparison.choose_learning_rates(profile, scrambled, tokenizer)
    assert any((tmp_path / "again").rglob("training_result.json"))
    assert again == rates and table_again[metric].tolist() == table[metric].tolist()


def test_versus_full_sets_each_method_against_full_fine_tuning() -> None:
    import pandas as pd

    from helpers.profiles import FULL_FINE_TUNING as FULL
    from helpers.training.comparison import versus_full

    columns = ["share trained", "saved MB", "samples per second", "peak memory (MiB)"]
    scores = [f"{split} {metric} mean" for split in ("validation", "test") for metric in ("f1_macro", "accuracy")]
    table = pd.DataFrame(
        [[1.0, 90.0, 40.0, 1400.0, 0.90, 0.92, 0.89, 0.91], [0.01, 1.0, 60.0, 1200.0, 0.88, 0.91, 0.88, 0.90]],
        index=pd.Index([FULL, "LoRA r=8"], name="configuration"),
        columns=[*columns, *scores],
    )
    row = versus_full(table).loc["LoRA r=8"]
    assert row["saved size, share of full"] == pytest.approx(1 / 90)
    assert row["training speed, times full"] == pytest.approx(1.5)
    assert row["peak memory, MiB more than full"] == pytest.approx(-200)
    assert row["validation macro F1, points"] == pytest.approx(-2.0)
    assert row["test accuracy, points"] == pytest.approx(-1.0)
    assert FULL not in versus_full(table).index


@pytest.mark.parametrize(
    ("setting", "value"), [("peft_ranks", ()), ("peft_ranks", (4, 0)), ("peft_learning_rates", (0.0,))]
)
def test_bad_comparison_settings_are_refused(setting: str, value: tuple) -> None:
    with pytest.raises(ValueError, match=setting):
        resolve_profile("smoke", **{setting: value})
