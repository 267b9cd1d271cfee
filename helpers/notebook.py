"""The one `setup()` call at the top of every notebook: quiet logs, one plot style, versions."""

from __future__ import annotations

import logging
import platform
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from helpers.machine import describe, machine_info
from helpers.plots import use_style

LIBRARIES = ("torch", "transformers", "datasets", "evaluate", "optuna", "scikit-learn", "numpy", "pandas")


def environment() -> dict[str, Any]:
    """Library versions and hardware (CPU model, vector extensions, GPU), for the report's reproducibility section."""
    import torch

    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        **machine_info(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "libraries": versions,
    }


def setup() -> dict[str, Any]:
    """Prepare a notebook session and return (and print) what it runs on."""
    from datasets.utils.logging import disable_progress_bar, set_verbosity_error
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    set_verbosity_error()
    disable_progress_bar()
    logging.getLogger("optuna").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    use_style()
    info = environment()
    print(f"Python {info['python']} on {info['platform']}; {describe(info)}")
    print(", ".join(f"{k} {v}" for k, v in info["libraries"].items() if v))
    return info
