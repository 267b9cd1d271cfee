"""Which device computes, and in which precision: one choice, used by training, embeddings, evaluation and bench.

The best accelerator present is used (CUDA, else Apple's MPS, else the CPU); `EMOTION_DEVICE` overrides it,
e.g. `EMOTION_DEVICE=cpu` to compare with a CPU run on a GPU machine.
"""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "EMOTION_DEVICE"
MIXED_PRECISION = ("auto", "bf16", "fp16", "no")
"""Values of the profile's `mixed_precision`: "auto" follows the hardware (see `resolve_mixed_precision`)."""


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


def best_device() -> str:
    """`$EMOTION_DEVICE` if set (refused when absent from this machine), else "cuda", "mps" or "cpu"."""
    requested = os.environ.get(DEVICE_ENV)
    if requested:
        kind = torch.device(requested).type  # raises on a malformed name such as "gpu"
        if not _available(kind):
            raise RuntimeError(f"${DEVICE_ENV}={requested!r}, but this machine has no {kind} device")
        return requested
    return next(kind for kind in ("cuda", "mps", "cpu") if _available(kind))


def resolve_mixed_precision(setting: str, device: str) -> str:
    """The precision for training on `device`: "bf16", "fp16" or "no".

    "auto" picks bf16 on GPUs that support it (Ampere and later: same range as float32, no loss scaling),
    fp16 on older CUDA GPUs, bf16 autocast on CPUs with native bf16 (AVX-512 BF16 or AMX: `make bench` measures
    it beside float32, speed and accuracy), and none elsewhere (emulated bf16 is slower; MPS gains little).
    An explicit "bf16" or "fp16" is passed through: the Trainer refuses what the hardware cannot do.
    """
    if setting not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision must be one of {list(MIXED_PRECISION)}, got {setting!r}")
    if setting != "auto":
        return setting
    kind = torch.device(device).type
    if kind == "cpu":
        from helpers.machine import cpu_has_native_bf16

        return "bf16" if cpu_has_native_bf16() else "no"
    if kind != "cuda":
        return "no"
    # native bf16 only: torch also answers True for GPUs that emulate it slowly (a Colab T4, for one)
    return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16"
