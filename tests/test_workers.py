"""The worker pool's processes: what they print with progress off and on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from helpers.training.workers import WorkerLostError, run_jobs


def draw_library_bars(steps: int) -> int:
    """A pool job drawing the bars transformers draws when it loads and saves a model."""
    from transformers.utils import logging as hf_logging

    for desc in ("Loading weights", "Writing model shards"):
        for _ in hf_logging.tqdm(range(steps), desc=desc):
            pass
    return steps


@pytest.mark.parametrize("progress", ["0", "1"])
def test_pool_workers_draw_library_bars_only_with_progress_on(
    progress: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EMOTION_PROGRESS", progress)
    assert run_jobs(draw_library_bars, [{"steps": 2}, {"steps": 3}], workers=2) == [2, 3]
    err = capfd.readouterr().err
    for desc in ("Loading weights", "Writing model shards"):
        assert (desc in err) == (progress == "1"), err


def value_or_death(value: int, die: Path | None = None, times: int = 1) -> int:
    """A pool job that SIGKILLs its own worker process the first `times` times it runs (counted in `die`)."""
    if die is not None:
        deaths = int(die.read_text()) if die.exists() else 0
        if deaths < times:
            die.write_text(str(deaths + 1))
            os.kill(os.getpid(), signal.SIGKILL)
    return value


def test_a_job_whose_worker_is_killed_runs_again_and_the_others_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = [{"value": 1}, {"value": 2, "die": tmp_path / "deaths"}, {"value": 3}]
    assert run_jobs(value_or_death, jobs, workers=2, describe=lambda job: f"value {job['value']}") == [1, 2, 3]
    assert (tmp_path / "deaths").read_text() == "1"  # the worker really died once
    assert "value 2: its worker process died; running it again" in capsys.readouterr().out


def test_a_job_whose_worker_dies_twice_is_named_and_the_finished_results_kept(tmp_path: Path) -> None:
    jobs = [{"value": 1}, {"value": 2, "die": tmp_path / "deaths", "times": 2}, {"value": 3}]
    with pytest.raises(WorkerLostError, match="value 2") as lost:
        run_jobs(value_or_death, jobs, workers=2, describe=lambda job: f"value {job['value']}")
    assert lost.value.lost == ["value 2"]
    assert lost.value.results == [1, None, 3]
