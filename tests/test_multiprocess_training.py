"""`torchrun` runs the fine-tuning script as two CPU processes (gloo): one model is trained, with the global batch
split between them, and written once, by the main process; it loads and predicts."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

from datasets import DatasetDict

from helpers import LABEL_NAMES
from helpers.serving.classifier import EmotionClassifier
from helpers.training.finetune import load_training_result

ROOT = Path(__file__).resolve().parents[1]


def test_two_cpu_processes_train_one_model_that_loads_and_predicts(
    easy_data_dir: Path, easy_data: DatasetDict, tmp_path: Path
) -> None:
    output = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "helpers.training", "--profile=smoke", f"--data-dir={easy_data_dir}", f"--output={output}"]
    command += ["--set=epochs=2", "--set=batch_size=32", "--set=logging_steps=50"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "EMOTION_PROGRESS": "0",
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert done.stdout.count("epoch 1/2:") == 1 and done.stdout.count("trained by 2 process(es)") == 1, log[-4000:]

    run = load_training_result(output)
    assert run["identity"]["settings"]["processes"] == 2
    steps = max(entry["step"] for entry in run["log_history"])
    assert steps == 2 * math.ceil(len(easy_data["train"]) / 32)  # 32 texts a step in all: 16 in each process
    assert not list(tmp_path.glob(".run.partial-*")) and not list(output.glob("checkpoint-*"))

    classifier = EmotionClassifier.from_folder(output / "model", backend="fp32", device="cpu")
    predictions = classifier.predict(["i feel so happy today", "i am scared of the dark"])
    assert [len(p) for p in predictions] == [1, 1]
    assert all(p[0]["label"] in LABEL_NAMES and 0 < p[0]["score"] <= 1 for p in predictions)
