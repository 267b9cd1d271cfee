"""Which machine produced a number: CPU model, its vector extensions, and the GPU if any.

Float rounding, and so a trained model, differs between CPUs with different vector units (AVX2 against
AVX-512), so every run, benchmark and report records them beside its results.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Any

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


def machine_info() -> dict[str, Any]:
    """CPU model and vector extensions, PyTorch's chosen CPU kernel level, core count and GPU."""
    import torch

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
        "gpu": gpu,
    }


def describe(info: dict[str, Any]) -> str:
    """One line for people: 'AMD EPYC ..., 2 cores, PyTorch kernels AVX512, GPU: none'."""
    gpu = info.get("gpu")
    return (
        f"{info.get('cpu_model')}, {info.get('cpu_count')} cores, PyTorch CPU kernels "
        f"{info.get('torch_cpu_capability')}, GPU: {gpu['name'] if gpu else 'none'}"
    )
