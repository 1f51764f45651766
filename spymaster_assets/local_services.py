"""Real services on loopback for the tests and the cluster benchmark, started and stopped by
them: Debian's PostgreSQL 15 and redis-server (`make test` installs both) and moto's S3 server.
Each lives in a temporary folder and its own process group, and is ended however the caller
ends. `initdb` refuses to run as root, so as root PostgreSQL runs as the `postgres` user."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from spymaster_assets.processes import free_port, process_group

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


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """Yields the server's URL, redis://127.0.0.1:<port>/0."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `make test` installs Debian's redis-server"
    folder = Path(tempfile.mkdtemp(prefix="spymaster-redis-"))
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    try:
        with process_group(command, {}, folder / "server.log", folder) as proc:
            deadline = time.monotonic() + 30
            while not _answers(port):
                assert proc.poll() is None, (folder / "server.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "redis-server did not answer in 30 s"
                time.sleep(0.1)
            yield f"redis://127.0.0.1:{port}/0"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def s3_server(bucket: str, fresh: bool = False) -> Iterator[str]:
    """moto's S3 server (a real HTTP server, so every process reaches it) holding `bucket`;
    yields its endpoint URL. moto keeps its buckets in the process, not in the server: servers
    of one process share them, and `fresh` empties them all first (for a process that runs
    one server after another)."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        if fresh:
            reset = urllib.request.Request(f"{endpoint}/moto-api/reset", b"")
            urllib.request.urlopen(reset).close()
        client = boto3.client("s3", **s3_client_args(endpoint))
        client.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


def s3_client_args(endpoint: str) -> dict:
    return {"endpoint_url": endpoint, "region_name": "us-east-1",
            "aws_access_key_id": "spymaster", "aws_secret_access_key": "spymaster"}  # fmt: skip


def s3_variables(endpoint: str) -> dict[str, str]:
    """The standard AWS variables that point boto3, s3fs and polars at the server."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "spymaster",
        "AWS_SECRET_ACCESS_KEY": "spymaster",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
