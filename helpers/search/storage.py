"""Where a search's Optuna study lives: a SQLite file on this machine, or a PostgreSQL database that workers on
several machines join.

- **Which:** the profile's `hpo_storage`: None for `runs/<profile>/hpo/study.db`, or a `postgresql://` URL
  (psycopg 3 is the driver). SQLite is refused as a shared storage: its locks do not hold over a network file
  system. Passwords are never printed (`mask`); `~/.pgpass` or `$PGPASSWORD` keep them off command lines.
- **Outages:** a new database connection is tried `attempts` times, the pauses between tries doubling from one
  second, and pooled connections are checked before use (SQLAlchemy's `pool_pre_ping`), so a call made while the
  server restarts waits for it instead of failing. Only connecting is retried, never a statement: one cut off
  mid-way may have been written, and running it again could start or count a trial twice. A heartbeat that
  fails is skipped rather than ending the trial's heartbeat thread (`_PatientStorage`).
- **Claims:** counting the trials and starting the next one happen under a lock, so that a search runs exactly
  the trials asked for (`helpers.search.study.search_worker`). On SQLite it is a file lock beside the study; on
  PostgreSQL, file locks mean nothing across machines, so it is a PostgreSQL advisory lock held by a
  connection of its own, which the server releases when that connection ends, a killed worker's included.
"""

from __future__ import annotations

import hashlib
import sys
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import optuna
import sqlalchemy
from filelock import FileLock
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from sqlalchemy.engine import URL, make_url

from helpers.profiles import mask

DB_ATTEMPTS = 6
"""Tries to connect before a call fails: pauses of 1, 2, 4, 8 and 16 s, about half a minute in all."""
MAX_PAUSE = 16.0
KEEPALIVE = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
"""Server-side keepalives of the lock's connection: a worker whose machine vanishes (power, network) loses its
lock within about a minute, instead of the two hours of Linux's default."""


class StorageUnavailableError(RuntimeError):
    """The study's database could not be reached, or went away, for longer than the retries wait."""


def shared_url(url: str) -> URL:
    """`url` as SQLAlchemy's URL with the psycopg 3 driver; anything but PostgreSQL is refused."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(f"hpo_storage {url!r} is not a database URL; expected postgresql://user@host/db") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(
            f"hpo_storage must be a postgresql:// URL that workers on several machines share, or None for the local "
            f"SQLite file; got {mask(url)} (SQLite is not safe on a network file system)"
        )
    return parsed.set(drivername="postgresql+psycopg")


def scrub(text: str, url: str | None) -> str:
    """`text` with the URL's password, if it appears, replaced by ***."""
    password = make_url(url).password if url else None
    return text.replace(str(password), "***") if password else text


def pauses(attempts: int) -> list[float]:
    """The pauses between `attempts` tries: 1, 2, 4, ... seconds, at most `MAX_PAUSE` each."""
    return [min(2.0**index, MAX_PAUSE) for index in range(attempts - 1)]


class _Connect:
    """SQLAlchemy's `creator` for psycopg: a new connection, tried `attempts` times before the error is raised.

    A class rather than a closure, so that the storage stays picklable."""

    def __init__(self, url: URL, attempts: int) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.masked = mask(self.conninfo)
        self.attempts = attempts

    def __call__(self) -> Any:
        # loaded late on purpose: PostgreSQL is optional, and only a shared search needs its driver
        import psycopg

        for attempt, pause in enumerate(pauses(self.attempts), start=1):
            try:
                return psycopg.connect(self.conninfo, connect_timeout=10)
            except psycopg.OperationalError as error:
                print(
                    f"database {self.masked} not reachable ({reason(error, self.conninfo)}); try {attempt + 1} of "
                    f"{self.attempts} in {pause:g} s",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(pause)
        return psycopg.connect(self.conninfo, connect_timeout=10)  # the last try: its error goes to the caller


class _PatientStorage(RDBStorage):
    """RDBStorage whose failed heartbeat is reported and skipped. Optuna's heartbeat thread ends at its first
    error, after which the others would fail the trial as a dead worker's while it still trains; skipped, the
    next heartbeat (an interval later) says the trial is alive, and a trial whose heartbeats keep failing for the
    grace period is failed by the others, as it should be."""

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            super().record_heartbeat(trial_id)
        except optuna.exceptions.StorageInternalError as error:
            print(f"heartbeat of trial id {trial_id} not recorded ({reason(error, None)})", file=sys.stderr)


def open_storage(
    url: str | None,
    folder: Path | None = None,
    heartbeat: tuple[int, int] | None = None,
    attempts: int = DB_ATTEMPTS,
) -> RDBStorage:
    """The RDB storage at `url` (None: `folder/study.db`). With `heartbeat`, running trials record one every
    `heartbeat[0]` seconds, and a trial silent for `heartbeat[1]` seconds is failed and queued again (at most
    three times); without, the storage is for reading a study."""
    if url is None:
        if folder is None:
            raise ValueError("a local study needs the folder of its study.db")
        folder.mkdir(parents=True, exist_ok=True)
        location = f"sqlite:///{folder / 'study.db'}"
        engine: dict[str, Any] = {"connect_args": {"timeout": 60}}  # two workers writing at once wait, not fail
    else:
        parsed = shared_url(url)
        location = parsed.set(password=None).render_as_string()  # the creator alone holds the password
        engine = {"creator": _Connect(parsed, attempts), "pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats are "experimental"
        liveness: dict[str, Any] = {}
        if heartbeat is not None:
            liveness = {
                "heartbeat_interval": heartbeat[0],
                "grace_period": heartbeat[1],
                "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=3),
            }
        return _PatientStorage(location, engine_kwargs=engine, **liveness)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on the whole database, with FileLock's acquire/release/with.

    One lock per database, as one lock file per SQLite study: claims take milliseconds, so the workers of other
    studies in the same database hardly wait for each other, and the first workers to reach a new database
    create its tables one at a time (Optuna's table creation is not safe to run at once from two places). The
    lock lives as long as its connection: releasing closes the connection, and a worker that dies holding it
    releases it with its connection, so no claim is ever left locked."""

    KEY = int.from_bytes(hashlib.sha256(b"emotion-finetune search claims").digest()[:8], "big", signed=True)

    def __init__(self, url: str, attempts: int = DB_ATTEMPTS) -> None:
        parsed = shared_url(url)
        self.engine = sqlalchemy.create_engine(
            parsed.set(password=None), creator=_Connect(parsed, attempts), poolclass=sqlalchemy.pool.NullPool
        )
        self.connection: sqlalchemy.Connection | None = None

    @property
    def is_locked(self) -> bool:
        return self.connection is not None

    def acquire(self) -> None:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for setting, value in KEEPALIVE.items():
                connection.execute(
                    sqlalchemy.text("SELECT set_config(:name, :value, false)"), {"name": setting, "value": str(value)}
                )
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self.KEY})
        except BaseException:
            connection.close()
            raise
        self.connection = connection

    def release(self) -> None:
        """Close the lock's connection: the server ends its session, and the lock with it (no unlock statement
        that could fail while the database is away)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def __enter__(self) -> AdvisoryLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def study_lock(url: str | None, folder: Path, attempts: int = DB_ATTEMPTS) -> FileLock | AdvisoryLock:
    """The lock under which workers open a study and claim its trials: a file beside the SQLite study, an
    advisory lock in a shared database."""
    if url is None:
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(folder / ".study.lock")
    return AdvisoryLock(url, attempts)


STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    optuna.exceptions.StorageInternalError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
)
"""What a worker gets from a database that is away: optuna wraps SQLAlchemy's errors, but not all of them."""


def reason(error: BaseException, url: str | None) -> str:
    """The first error of `error`'s chain (the driver's own words), on one line, without the URL's password."""
    while error.__cause__ is not None:
        error = error.__cause__
    return scrub(" ".join(str(error).split()), url)[:300]


def storage_failure(error: BaseException) -> BaseException | None:
    """The database error behind `error`, if any. The whole chain is searched: Optuna can raise another error
    while handling a database's (telling a trial failed when the database is away, for one)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, STORAGE_ERRORS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def unavailable(url: str | None, error: BaseException, attempts: int) -> StorageUnavailableError:
    """The error a worker stops with: which database (password masked), what went wrong, and what it means."""
    where = f"database {mask(url)}" if url else "local SQLite study"
    retried = f"; connecting was tried {attempts} times" if url else ""
    return StorageUnavailableError(
        f"search worker stops: the {where} failed ({reason(error, url)}){retried}. Finished trials are kept "
        "there; a trial this worker was running is failed and queued again by the next worker that finds it without "
        "heartbeat. Start the worker again once the database answers."
    )
