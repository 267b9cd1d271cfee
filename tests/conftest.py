"""Shared fixtures: the real data folder, a scratch runs folder, an easy synthetic data set, local servers."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict

from helpers import LABEL_NAMES
from helpers.data.loading import FEATURES
from helpers.search.local_postgres import LocalPostgres, server_programs

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotion"
SHARED_GOEMOTIONS = SHARED_DATA.parent / "goemotions"


def unavailable(message: str) -> None:
    """A test's real dependency is missing: a failure on CI, which provides every one (.ci/run), a skip
    elsewhere, so a laptop without Chromium or the data still runs the rest."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


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
        unavailable(f"real data not found at {folder}; set EMOTION_DATA_DIR")
    return folder


@pytest.fixture(scope="session")
def goemotions_dir() -> Path:
    """GoEmotions' released train and dev splits ($GOEMOTIONS_DATA_DIR, else ../shared/data/goemotions)."""
    folder = Path(os.environ.get("GOEMOTIONS_DATA_DIR", SHARED_GOEMOTIONS))
    if not (folder / "dev.tsv").is_file():
        unavailable(f"GoEmotions not found at {folder}; set GOEMOTIONS_DATA_DIR")
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


@pytest.fixture(scope="session")
def easy_data_dir(easy_data: DatasetDict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The easy set as a data folder (JSON Lines per split), for commands run in processes of their own."""
    folder = tmp_path_factory.mktemp("easy_data")
    for split, rows in easy_data.items():
        lines = [json.dumps({"text": text, "label": label}) for text, label in zip(rows["text"], rows["label"])]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


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
        unavailable(f"{CHROMIUM} not found: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture
def poppler() -> None:
    """pdfinfo and pdftotext read the printed PDF (the report's test)."""
    if not (shutil.which("pdfinfo") and shutil.which("pdftotext")):
        unavailable("pdfinfo and pdftotext not found: apt-get install -y poppler-utils")


def _need_postgres() -> None:
    """Debian's PostgreSQL server for the shared-search tests; its absence fails on CI (.ci/run installs it) and
    skips elsewhere."""
    if server_programs() is None:
        unavailable("PostgreSQL's server programs not found: apt-get install -y postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One PostgreSQL server on localhost for the session's shared studies, removed with its data at the end."""
    _need_postgres()
    with LocalPostgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: LocalPostgres) -> str:
    """A fresh database for one test, on the session's server: each test's study starts empty."""
    return postgres_server.create_database(f"test_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def own_postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server of this test's own, for tests that take it away."""
    _need_postgres()
    with LocalPostgres() as server:
        yield server


@pytest.fixture
def free_port() -> int:
    """A localhost port nothing listens on, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _serve(command: list[str], env: dict[str, str], probe_url: str, log_path: Path, timeout: float) -> Iterator[None]:
    """Run a local server until the block ends, once `probe_url` answers; its output goes to `log_path`.

    A server that exits or stays silent past `timeout` seconds fails the test with its log.
    """
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(probe_url, timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{command[2]} did not answer on {probe_url}:\n{log_path.read_text()}")
                    time.sleep(0.3)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def serving() -> Callable[..., contextlib.AbstractContextManager[None]]:
    """`serving(command, env, probe_url, log_path, timeout)`: a local server for the block (the browser tests)."""
    return _serve


@pytest.fixture(scope="session")
def trained_model_dir(easy_data: DatasetDict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke profile's tiny BERT trained on the easy set (seconds): its logits have clear margins, as a
    real fine-tune's do. Shared by the tests; copy it before changing anything in it."""
    from helpers.models.building import load_tokenizer
    from helpers.profiles import resolve_profile
    from helpers.training.finetune import tokenize_splits, train_classifier

    cfg = resolve_profile("smoke", epochs=12, batch_size=16, learning_rate=2e-3, logging_steps=50)
    tokenizer = load_tokenizer(cfg)
    folder = tmp_path_factory.mktemp("trained") / "run"
    return train_classifier(cfg, tokenize_splits(easy_data, tokenizer, cfg.max_length), tokenizer, folder).model_dir
