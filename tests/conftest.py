"""Shared fixtures: the real data folder, a scratch runs folder, and an easy synthetic data set."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict

from helpers import LABEL_NAMES
from helpers.data import FEATURES

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotion"


@pytest.fixture(autouse=True)
def scratch_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Unit tests write their runs under a temporary folder, never into runs/, figures/ or report/."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("EMOTION_RUNS_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The checksum-verified copy of the real splits ($EMOTION_DATA_DIR, else ../shared/data/emotion)."""
    folder = Path(os.environ.get("EMOTION_DATA_DIR", SHARED_DATA))
    if not (folder / "train.jsonl").is_file():
        pytest.skip(f"real data not found at {folder}; set EMOTION_DATA_DIR")
    return folder


CUES = {
    "sadness": ["sad", "lonely", "miserable", "gloomy"],
    "joy": ["happy", "cheerful", "delighted", "glad"],
    "love": ["loving", "romantic", "affectionate", "tender"],
    "anger": ["angry", "furious", "irritated", "annoyed"],
    "fear": ["scared", "afraid", "terrified", "nervous"],
    "surprise": ["amazed", "surprised", "shocked", "astonished"],
}


@pytest.fixture(scope="session")
def easy_data() -> DatasetDict:
    """Balanced tweets whose emotion is given away by one cue word: any working learner gets these."""
    rng = random.Random(0)
    fillers = ["i feel", "today i am", "honestly i feel so", "i am feeling", "this morning i was"]

    def split(rows_per_class: int) -> Dataset:
        texts, labels = [], []
        for label, name in enumerate(LABEL_NAMES):
            for _ in range(rows_per_class):
                texts.append(f"{rng.choice(fillers)} {rng.choice(CUES[name])} about it")
                labels.append(label)
        return Dataset.from_dict({"text": texts, "label": labels}, features=FEATURES)

    return DatasetDict({"train": split(40), "validation": split(10), "test": split(10)})


@pytest.fixture(autouse=True, scope="session")
def one_thread() -> None:
    """Tiny models gain nothing from threads, and spinning threads crawl when another job holds the cores."""
    import torch

    torch.set_num_threads(1)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium for the browser tests; its absence fails on CI (.ci/run installs it) and skips elsewhere."""
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} not found: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def free_port() -> int:
    """A localhost port nothing listens on, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
