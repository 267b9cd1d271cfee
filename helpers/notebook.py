"""The one `setup()` call at the top of every notebook: quiet logs, one plot style, versions, progress bars."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from datasets.utils.logging import disable_progress_bar, set_verbosity_error
from transformers.utils import logging as hf_logging

from helpers.hardware import describe, machine_info

PROGRESS_VARIABLE = "EMOTION_PROGRESS"


def _in_jupyter_kernel() -> bool:
    """True inside an IPython kernel (JupyterLab, Colab, VS Code, but also papermill and nbval)."""
    if "IPython" not in sys.modules:  # a kernel has imported it long before any helper runs
        return False
    shell = sys.modules["IPython"].get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def show_progress() -> bool:
    """Whether long loops draw live progress bars: the one place that decides.

    A kernel looks the same to a person in JupyterLab or Colab and to papermill or nbval, so headless runs
    say so: `EMOTION_PROGRESS=0` (set by the Makefile) or `CI`; there the bars would only fill the saved
    notebooks and logs, and one line per epoch is printed instead. `EMOTION_PROGRESS=1` forces them on.
    """
    setting = os.environ.get(PROGRESS_VARIABLE, "").strip().lower()
    if setting:
        return setting not in ("0", "false", "no", "off")
    return not os.environ.get("CI") and _in_jupyter_kernel()


def setup() -> dict[str, Any]:
    """Prepare a notebook session and return (and print) what it runs on."""

    from helpers.plots import use_style  # imported here: `show_progress` must stay cheap to import

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    set_verbosity_error()
    disable_progress_bar()
    logging.getLogger("optuna").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    use_style()
    info = machine_info()
    print(f"Python {info['python']} on {info['platform']}; {describe(info)}")
    print(", ".join(f"{k} {v}" for k, v in info["libraries"].items() if v))
    if show_progress():
        print("Progress: live bars for training, search trials, embeddings, evaluation and prediction")
    else:
        print(f"Progress: one line per epoch ({PROGRESS_VARIABLE}=1 for live bars)")
    return info
