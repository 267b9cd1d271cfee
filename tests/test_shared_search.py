"""A search shared through PostgreSQL: worker processes (as on separate machines) finish one study with exactly
the trials asked for, a killed worker's trial is queued again and finished by another, a worker of another
search is refused, and a database that goes away is waited for, or stops the worker with a clear message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from helpers.profiles import mask, resolve_profile
from helpers.search import worker as hpo_worker
from helpers.search.local_postgres import LocalPostgres
from helpers.search.storage import AdvisoryLock, open_storage, shared_url
from helpers.search.study import FINISHED, covering_trials

ROOT = Path(__file__).resolve().parents[1]
STUDY = "emotion-smoke"
PASSWORD = "s3cret-word"
"""Trust authentication accepts any password: the tests put one in the URL to check that none is printed."""


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{PASSWORD}@")


@pytest.fixture
def start_worker(easy_data_dir: Path, scratch_runs: Path) -> Callable[..., subprocess.Popen[str]]:
    """`start_worker(url, *options)`: an `hpo_worker` process of its own (one worker, one thread) on the smoke
    profile and the easy data, output captured."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
        "EMOTION_PROGRESS": "0",
        "EMOTION_RUNS_DIR": str(scratch_runs),
    }
    started: list[subprocess.Popen[str]] = []

    def start(url: str, *options: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "helpers.search", "--profile=smoke", f"--storage={url}"]
        command += ["--workers=1", f"--data-dir={easy_data_dir}", "--set=logging_steps=50", *options]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    """The worker's exit status and output, failing the test if it runs past `timeout` seconds."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"worker still running after {timeout} s:\n{output[-3000:]}")
    return process.returncode, output


def study_of(url: str) -> optuna.Study:
    return optuna.load_study(study_name=STUDY, storage=open_storage(url))


def running_trial(url: str, process: subprocess.Popen[str], timeout: float = 180) -> FrozenTrial:
    """The trial `process` is running, once it has one with all its parameters chosen."""
    owner = f"{os.uname().nodename}:{process.pid}"
    deadline = time.monotonic() + timeout
    storage = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}) before running a trial:\n{finish(process)[1]}")
        try:
            storage = storage or open_storage(url)
            study = optuna.load_study(study_name=STUDY, storage=storage)
        except KeyError:  # no study yet
            time.sleep(0.2)
            continue
        for trial in study.get_trials(states=(TrialState.RUNNING,)):
            if trial.user_attrs.get("worker") == owner:
                return trial
        time.sleep(0.05)
    pytest.fail(f"no trial of worker {owner} was running within {timeout} s")


@pytest.mark.parametrize("url", ["sqlite:////shared/nfs/study.db", "mysql://optuna@db-host/optuna", "not a url"])
def test_only_postgresql_is_shared_and_its_password_is_never_shown(url: str) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        shared_url(url)
    assert shared_url("postgres://optuna@db-host/optuna").drivername == "postgresql+psycopg"
    assert mask(f"postgresql://optuna:{PASSWORD}@db-host/optuna") == "postgresql://optuna:***@db-host/optuna"


def test_claim_lock_excludes_other_connections_and_dies_with_its_holder(postgres_url: str) -> None:
    """What makes the trial count exact across machines: one claim at a time, and none left locked by a dead
    worker."""
    mine, theirs = AdvisoryLock(postgres_url), AdvisoryLock(postgres_url)
    mine.acquire()
    claimed = threading.Event()
    waiter = threading.Thread(target=lambda: (theirs.acquire(), claimed.set()), daemon=True)
    waiter.start()
    assert not claimed.wait(1.5)  # blocked while the lock is held elsewhere
    mine.release()
    assert claimed.wait(30)
    theirs.release()

    holder = subprocess.Popen(
        [sys.executable, "-c", "from helpers.search.storage import AdvisoryLock; "
         f"AdvisoryLock({postgres_url!r}).acquire(); print('locked', flush=True); import time; time.sleep(600)"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.communicate()
    after_death = threading.Thread(target=mine.acquire, daemon=True)
    after_death.start()
    after_death.join(30)
    assert mine.is_locked  # the server released the dead holder's lock with its connection
    mine.release()


def test_two_workers_finish_one_study_with_exactly_the_trials_asked_for(postgres_url: str, start_worker) -> None:
    workers = [start_worker(postgres_url, "--trials=6") for _ in range(2)]
    for worker in workers:
        code, output = finish(worker)
        assert code == 0, output[-3000:]
    trials = study_of(postgres_url).get_trials()
    assert len(trials) == 6 and all(t.state in FINISHED for t in trials)  # none missing, none extra, none failed
    assert sorted(t.number for t in trials) == list(range(6))
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6  # no configuration proposed twice
    owners = {t.user_attrs["worker"] for t in trials}
    assert owners == {f"{os.uname().nodename}:{w.pid}" for w in workers}  # both took part
    enqueued = [t.system_attrs.get("fixed_params") for t in trials if "fixed_params" in t.system_attrs]
    assert enqueued == covering_trials(resolve_profile("smoke"))  # each queued trial ran once, and first


def test_worker_killed_mid_trial_leaves_it_failed_and_queued_for_another(postgres_url: str, start_worker) -> None:
    options = ("--trials=3", "--set=hpo_epochs=[4]", "--heartbeat", "1", "3")
    doomed = start_worker(postgres_url, *options)
    killed = running_trial(postgres_url, doomed)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate()

    code, output = finish(start_worker(postgres_url, *options))
    assert code == 0, output[-3000:]
    trials = {t.number: t for t in study_of(postgres_url).get_trials()}
    assert trials[killed.number].state == TrialState.FAIL
    rerun = [t for t in trials.values() if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed.number]
    assert [t.params for t in rerun] == [killed.params]
    assert rerun[0].state in FINISHED and rerun[0].user_attrs["worker"] != killed.user_attrs["worker"]
    assert sum(t.state in FINISHED for t in trials.values()) == 3  # exactly the trials asked for
    assert len(trials) == 4  # the three, plus the killed one


def test_worker_of_another_search_is_refused_naming_what_differs(
    postgres_url: str, easy_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = with_password(postgres_url)
    common = ["--profile=smoke", f"--storage={url}", "--workers=1", f"--data-dir={easy_data_dir}", "--trials=1"]
    assert hpo_worker.main(common) == 0
    capsys.readouterr()
    before = [(t.number, t.state) for t in study_of(url).trials]

    assert hpo_worker.main([*common, "--set=hpo_lr_max=0.002"]) == 2
    message = capsys.readouterr().err
    assert "belongs to another search" in message and "space.learning_rate" in message, message
    assert PASSWORD not in message and "postgres:***@" in message
    assert [(t.number, t.state) for t in study_of(url).trials] == before  # the refused worker changed nothing


def test_worker_waits_out_a_database_restart(own_postgres: LocalPostgres, start_worker) -> None:
    url = own_postgres.create_database("search")
    worker = start_worker(url, "--trials=3", "--set=hpo_epochs=[4]", "--db-attempts=6", "--heartbeat", "1", "60")
    running_trial(url, worker)
    own_postgres.stop()
    time.sleep(2)
    own_postgres.start()

    code, output = finish(worker)
    assert code == 0, output[-3000:]
    assert "not reachable" in output  # it did find the database away, and waited
    trials = study_of(url).get_trials()
    assert len(trials) == 3 and all(t.state in FINISHED for t in trials)


def test_worker_stops_with_a_clear_message_when_the_database_stays_away(
    own_postgres: LocalPostgres, start_worker
) -> None:
    url = with_password(own_postgres.create_database("search"))
    worker = start_worker(url, "--trials=3", "--set=hpo_epochs=[4]", "--db-attempts=3")
    running_trial(url, worker)
    own_postgres.stop()
    stopped = time.monotonic()

    code, output = finish(worker, timeout=120)
    assert code == 3, output[-3000:]
    assert time.monotonic() - stopped < 90  # bounded: a few calls, each tried three times over three seconds
    last = output.strip().splitlines()[-1]
    assert last.startswith("hpo_worker: search worker stops: the database postgresql://postgres:***@127.0.0.1:")
    assert "Connection refused" in last and "connecting was tried 3 times" in last
    assert PASSWORD not in output
