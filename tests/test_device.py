"""One device choice and one precision rule: the override wins, CUDA comes first, precision follows the GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.hardware import best_device, resolve_mixed_precision
from helpers.serving.backends import build_backend


@pytest.fixture
def no_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOTION_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_no_accelerator_means_cpu(no_accelerator: None) -> None:
    assert best_device() == "cpu"


def test_cuda_comes_first(no_accelerator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert best_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert best_device() == "cuda"


def test_environment_overrides_the_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("EMOTION_DEVICE", "cpu")
    assert best_device() == "cpu"


@pytest.mark.parametrize(("requested", "fragment"), [("cuda", "no cuda device"), ("gpu", "gpu")])
def test_override_must_exist_here(no_accelerator: None, monkeypatch: pytest.MonkeyPatch, requested, fragment) -> None:
    monkeypatch.setenv("EMOTION_DEVICE", requested)
    with pytest.raises(RuntimeError, match=fragment):
        best_device()


@pytest.mark.parametrize(("bf16_supported", "expected"), [(True, "bf16"), (False, "fp16")])
def test_auto_precision_follows_the_gpu(monkeypatch: pytest.MonkeyPatch, bf16_supported: bool, expected: str) -> None:
    def native_only(including_emulation: bool = True) -> bool:
        assert not including_emulation, "emulated bf16 (a T4) must not count"
        return bf16_supported

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", native_only)
    assert resolve_mixed_precision("auto", "cuda") == expected
    assert resolve_mixed_precision("auto", "cuda:1") == expected


def test_auto_precision_is_none_on_mps() -> None:
    assert resolve_mixed_precision("auto", "mps") == "no"


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "no")])
def test_auto_precision_on_a_cpu_is_bf16_only_where_native(
    monkeypatch: pytest.MonkeyPatch, native: bool, expected: str
) -> None:
    from helpers import hardware

    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    assert resolve_mixed_precision("auto", "cpu") == expected


@pytest.mark.parametrize("setting", ["bf16", "fp16", "no"])
def test_explicit_precision_is_kept(setting: str) -> None:
    assert resolve_mixed_precision(setting, "cpu") == setting


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="float16"):
        resolve_mixed_precision("float16", "cuda")


def test_trainer_stays_on_the_chosen_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With the CPU chosen (e.g. EMOTION_DEVICE=cpu on a GPU machine) the Trainer gets no GPU and no fp16; bf16
    autocast only where the CPU has it natively."""
    from helpers.hardware import cpu_has_native_bf16
    from helpers.profiles import resolve_profile
    from helpers.training import finetune

    monkeypatch.setattr(finetune, "best_device", lambda: "cpu")
    args = finetune.training_arguments(resolve_profile("gpu"), tmp_path, 1e-3, 8, 1, keep_model=False)
    assert (args.fp16, args.bf16, args.use_cpu) == (False, cpu_has_native_bf16(), True)


def test_fp32_back_end_runs_where_asked_and_quantised_ones_refuse_a_gpu() -> None:
    from helpers.models.building import build_model
    from helpers.profiles import resolve_profile

    model = build_model(resolve_profile("smoke"), vocab_size=100)
    ids, mask = np.array([[2, 5, 7]]), np.ones((1, 3), dtype=np.int64)
    assert build_backend(model, "fp32", device="cpu")(ids, mask).shape == (1, 6)
    assert next(model.parameters()).device.type == "cpu"
    with pytest.raises(ValueError, match="CPU only"):
        build_backend(model, "onnx-int8", device="cuda")
