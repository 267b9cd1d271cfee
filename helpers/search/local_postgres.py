"""A throwaway PostgreSQL server on this machine: for the tests of shared searches, and for measuring a search
shared by several workers without a database of one's own.

Debian's `postgresql` package puts the server's programs in /usr/lib/postgresql/<version>/bin, off the PATH.
The server refuses to run as root, so under root it runs as the package's `postgres` system user. Its data
folder is a fresh temporary folder, it listens on 127.0.0.1 only, on a free port, with trust authentication
and without fsync: anyone on this machine may connect and a crash loses its data, which is fine for a
throwaway and never for the database a real search keeps its trials in (README, "More than one machine").
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

SERVER_USER = "postgres"


def server_programs() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: the newest version under /usr/lib/postgresql, else the PATH's."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3].split(".")[0])
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found and shutil.which("initdb") else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalPostgres:
    """A PostgreSQL server in a temporary folder, started on entering and removed on leaving a `with` block;
    `stop` and `start` in between take it away and bring it back with its data, as a restarted server would."""

    def __init__(self, port: int | None = None) -> None:
        programs = server_programs()
        if programs is None:
            raise FileNotFoundError("PostgreSQL's server programs not found: apt-get install -y postgresql")
        self.programs = programs
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="emotion-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:  # the server's user must own the folder; /tmp lets it reach it
            shutil.chown(self.folder, SERVER_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        """The server's own `postgres` database; `create_database` gives each search one of its own."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.programs / program), *args]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode:
            log = self.log.read_text(encoding="utf-8", errors="replace") if self.log.is_file() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        options = f"-F -p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when a database server restarts."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").is_file()

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; returns its URL."""
        # loaded late on purpose: PostgreSQL is optional, and only a shared search needs its driver
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
