"""Profiles resolve parameter > environment > automatic, and reject what they do not know."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from helpers import profiles
from helpers.profiles import resolve_profile


def test_parameter_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_PROFILE", "cpu")
    assert resolve_profile("smoke").name == "smoke"


def test_environment_beats_automatic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_PROFILE", "smoke")
    monkeypatch.setattr(profiles, "_auto_profile_name", lambda: "gpu")
    assert resolve_profile().name == "smoke"


@pytest.mark.parametrize(("cuda", "expected"), [(True, "gpu"), (False, "cpu")])
def test_automatic_choice_follows_cuda(monkeypatch: pytest.MonkeyPatch, cuda: bool, expected: str) -> None:
    import torch

    monkeypatch.delenv("EMOTION_PROFILE", raising=False)
    monkeypatch.delenv("EMOTION_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert resolve_profile().name == expected


def test_profiles_differ_where_they_should() -> None:
    smoke, cpu, gpu = (resolve_profile(name) for name in ("smoke", "cpu", "gpu"))
    assert smoke.model_name_or_path == profiles.TINY_MODEL and smoke.train_size
    assert cpu.model_name_or_path == profiles.MINILM and cpu.train_size is None
    assert gpu.model_name_or_path == "distilbert-base-uncased" and gpu.mixed_precision == "auto"
    assert (gpu.learning_rate, gpu.batch_size, gpu.epochs, gpu.weight_decay) == (2e-5, 16, 3, 0.01)


def test_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown profile 'laptop'"):
        resolve_profile("laptop")


def test_unknown_profile_from_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"\$EMOTION_PROFILE"):
        resolve_profile()


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="learning_rte"):
        resolve_profile("smoke", learning_rte=1e-3)


@pytest.mark.parametrize(
    ("key", "value"), [("epochs", "3"), ("learning_rate", "fast"), ("mixed_precision", True), ("epochs", 2.5)]
)
def test_ill_typed_setting_is_rejected(key: str, value: object) -> None:
    with pytest.raises(TypeError, match=key):
        resolve_profile("smoke", **{key: value})


@pytest.mark.parametrize("value", ["fp32", "BF16", ""])
def test_value_outside_the_choices_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="mixed_precision.*'auto', 'bf16', 'fp16', 'no'"):
        resolve_profile("gpu", mixed_precision=value)


@pytest.mark.parametrize("value", ["auto", "bf16", "fp16", "no"])
def test_every_precision_choice_is_accepted(value: str) -> None:
    assert resolve_profile("gpu", mixed_precision=value).mixed_precision == value


def test_colab_without_gpu_falls_back_to_cpu_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    monkeypatch.delenv("EMOTION_PROFILE", raising=False)
    monkeypatch.delenv("EMOTION_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert resolve_profile().name == "cpu"
    captured = capsys.readouterr()
    assert (
        captured.out == "" and "No GPU in this Colab runtime" in captured.err and "Change runtime type" in captured.err
    )


def test_device_override_steers_the_automatic_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.delenv("EMOTION_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("EMOTION_DEVICE", "cpu")
    assert resolve_profile().name == "cpu"


def test_overrides_apply_and_none_is_ignored() -> None:
    cfg = resolve_profile("cpu", model_name_or_path="/models/mine", seed=None, learning_rate=1, hpo_epochs=[2, 3])
    assert cfg.model_name_or_path == "/models/mine" and cfg.seed == 42
    assert cfg.learning_rate == 1.0 and cfg.hpo_epochs == (2, 3)


def test_resolved_profile_is_saved(tmp_path: Path) -> None:
    path = resolve_profile("smoke", seed=7).save(tmp_path)
    saved = json.loads(path.read_text())
    assert saved["name"] == "smoke" and saved["seed"] == 7


def test_saved_profile_never_holds_the_database_password(tmp_path: Path) -> None:
    cfg = resolve_profile("smoke", hpo_storage="postgresql://optuna:s3cret@db-host:5432/optuna")
    saved = json.loads(cfg.save(tmp_path).read_text())
    assert saved["hpo_storage"] == "postgresql://optuna:***@db-host:5432/optuna"
    assert cfg.hpo_storage.endswith("s3cret@db-host:5432/optuna")  # the workers still connect with it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hpo_trials=12", ("hpo_trials", 12)),
        ("hpo_epochs=[2, 3]", ("hpo_epochs", [2, 3])),
        ("model=a/b", ("model", "a/b")),
    ],
)
def test_command_line_settings_read_json_values(text: str, expected: tuple[str, object]) -> None:
    assert profiles.parse_setting(text) == expected
    with pytest.raises(ValueError, match="key=value"):
        profiles.parse_setting("hpo_trials")
