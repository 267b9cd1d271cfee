"""The machine: where this runs (Colab or not), which device computes and in which precision, and the record
of CPU, vector extensions and GPU kept beside every result.

Float rounding, and so a trained model, differs between CPUs with different vector units (AVX2 against
AVX-512), so every run, benchmark and report records them beside its results. The best accelerator present
is used (CUDA, else Apple's MPS, else the CPU); `EMOTION_DEVICE` overrides it, e.g. `EMOTION_DEVICE=cpu` to
compare with a CPU run on a GPU machine.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch

VECTOR_FLAGS = re.compile(r"^(sse4_2|avx|avx2|fma|f16c|avx512\w*|avx_vnni\w*|amx\w*)$")
"""The /proc/cpuinfo flags that change which kernels PyTorch and ONNX Runtime run."""


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (Linux); empty elsewhere."""
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return {}
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 matrix products in hardware (AVX-512 BF16 or AMX); elsewhere bf16 is
    emulated and slower than float32."""
    return bool({"avx512_bf16", "amx_bf16"} & set(_cpuinfo().get("flags", "").split()))


LIBRARIES = (
    "torch",
    "transformers",
    "datasets",
    "evaluate",
    "optuna",
    "scikit-learn",
    "numpy",
    "pandas",
    "onnx",
    "onnxruntime",
)
"""The libraries whose versions every record of a machine names: those that change numbers or speed."""


def library_versions() -> dict[str, str | None]:
    """Installed versions of `LIBRARIES`, read from package metadata (nothing is imported); None if absent."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def machine_info() -> dict[str, Any]:
    """The one record of the machine beside every run, bench and report: CPU model and vector extensions,
    PyTorch's CPU kernel level and threads, core count, GPU, Python, platform and library versions."""
    fields = _cpuinfo()
    flags = sorted(flag for flag in fields.get("flags", "").split() if VECTOR_FLAGS.match(flag))
    gpu = None
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        gpu = {
            "name": properties.name,
            "memory_gib": round(properties.total_memory / 2**30, 1),
            "capability": f"{properties.major}.{properties.minor}",
            "count": torch.cuda.device_count(),
        }
    return {
        "cpu_model": fields.get("model name") or platform.processor() or platform.machine(),
        "cpu_vector_extensions": flags,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "gpu": gpu,
        "cuda": gpu["name"] if gpu else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": library_versions(),
    }


def describe(info: dict[str, Any]) -> str:
    """One line for people: 'AMD EPYC ..., 2 cores, PyTorch kernels AVX512, GPU: none'."""
    gpu = info.get("gpu")
    return (
        f"{info.get('cpu_model')}, {info.get('cpu_count')} cores, PyTorch CPU kernels "
        f"{info.get('torch_cpu_capability')}, GPU: {gpu['name'] if gpu else 'none'}"
    )


def on_colab() -> bool:
    """True inside a Google Colab runtime, where profiles default differently and runs go to Drive."""
    return "google.colab" in sys.modules


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
        return "bf16" if cpu_has_native_bf16() else "no"
    if kind != "cuda":
        return "no"
    # native bf16 only: torch also answers True for GPUs that emulate it slowly (a Colab T4, for one)
    return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16"
