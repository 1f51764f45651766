"""A real PostgreSQL 15 (Debian's) on loopback for the tests, in a temporary folder, started
and stopped here. `initdb` refuses to run as root, so as root the server runs as `postgres`."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from spymaster_assets.processes import free_port

PG_BIN = Path(os.environ.get("SPYMASTER_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _run(command: list, log: Path | None = None) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode:
        tail = log.read_text()[-3000:] if log and log.exists() else ""
        raise RuntimeError(f"{command[-1]} failed: {done.stdout}{done.stderr}{tail}")


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """Yields the server's SQLAlchemy URL (user `dagster`, database `postgres`)."""
    assert (PG_BIN / "initdb").exists(), (
        f"{PG_BIN}/initdb is missing: `make test` installs Debian's postgresql-15"
    )
    # not under pytest's 0700 temporary root: the postgres user must reach it
    folder = Path(tempfile.mkdtemp(prefix="spymaster-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(folder, "postgres", "postgres")
    data, log, port = folder / "data", folder / "server.log", free_port()
    pg_ctl = [*as_pg, PG_BIN / "pg_ctl", "-D", data]
    try:
        _run([*as_pg, PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "dagster"])
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder}"
        _run([*pg_ctl, "-l", log, "-w", "-o", options, "start"], log)
        try:
            yield f"postgresql+psycopg2://dagster@127.0.0.1:{port}/postgres"
        finally:
            _run([*pg_ctl, "-m", "fast", "-w", "stop"], log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
