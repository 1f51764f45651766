"""A command in its own process group, ended with everything it started (Dagster daemons and
webservers start code servers and runs of their own)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def process_group(
    command: list[str], env: dict, log: Path, cwd: Path
) -> Iterator[subprocess.Popen]:
    """Run `command` (output to `log`) for the block; then SIGTERM its group, SIGKILL after
    30 s, however the block ends."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended below
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (for a webserver started next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
