"""Real Dagster processes for tests: dagster-daemon and dagster-webserver on a temporary instance.

Each process runs in its own process group; `running` ends the group (SIGTERM, then SIGKILL)
however the test ends, so no daemon or webserver outlives its test.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from spymaster_assets.processes import free_port, process_group

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCATION = "spymaster_assets"
REPOSITORY = "__repository__"


def new_instance(home: Path) -> None:
    """A DAGSTER_HOME holding the repo's dagster.yaml, its storage created here: a daemon, a
    webserver and a test opening a fresh SQLite storage at once may each stamp its schema
    version (alembic then finds two heads and refuses it)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    with instance_at(home) as instance:
        instance.get_runs(limit=1)
        instance.get_daemon_heartbeats()


@contextlib.contextmanager
def running(command: list[str], env: dict, log: Path) -> Iterator[subprocess.Popen]:
    with process_group(command, env, log, REPO) as proc:
        yield proc


def wait_until(what: str, ready: Callable[[], object], timeout: float, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log and log.exists() else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
        time.sleep(1)


@contextlib.contextmanager
def instance_at(home: Path) -> Iterator[dg.DagsterInstance]:
    """The instance in `home` (its dagster.yaml reads DAGSTER_HOME from the environment)."""
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        if before is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = before


@contextlib.contextmanager
def daemon(home: Path, env: dict) -> Iterator[subprocess.Popen]:
    log = home / "daemon.log"
    command = [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"]
    with running(command, env, log) as proc:

        def heartbeat():
            assert proc.poll() is None, log.read_text()[-4000:]
            with instance_at(home) as instance:
                return "BACKFILL" in instance.get_daemon_heartbeats()

        wait_until("the daemon's first heartbeat", heartbeat, 180, log)
        yield proc


@dataclass
class GraphQL:
    url: str

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:  # the body says what was wrong with the query
            raise AssertionError(f"GraphQL {exc.code}: {exc.read().decode()[:2000]}") from exc
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]


@contextlib.contextmanager
def webserver(home: Path, env: dict) -> Iterator[tuple[str, GraphQL]]:
    port = free_port()
    log = home / "webserver.log"
    command = [
        str(BIN / "dagster-webserver"),
        *("-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"),
    ]
    with running(command, env, log) as proc:
        base = f"http://127.0.0.1:{port}"
        client = GraphQL(base + "/graphql")

        def location_loaded():
            assert proc.poll() is None, log.read_text()[-4000:]
            try:
                data = client(
                    "{ workspaceOrError { ... on Workspace { locationEntries { name "
                    "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
                )
            except (urllib.error.URLError, ConnectionError):
                return False
            (entry,) = data["workspaceOrError"]["locationEntries"]
            state = entry["locationOrLoadError"]
            assert state is None or state["__typename"] != "PythonError", state
            return state is not None and state["__typename"] == "RepositoryLocation"

        wait_until("the webserver to load the code location", location_loaded, 180, log)
        yield base, client


def sensor(gql: GraphQL, name: str) -> dict:
    """The sensor's id and state, as the UI reads them."""
    return gql(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename "
        "... on Sensor { id sensorState { status } } } }",
        s={"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": name},
    )["sensorOrError"]


def stop_sensor(gql: GraphQL, name: str) -> None:
    """Stop the sensor as the UI's toggle does."""
    stopped = gql(
        "mutation($id: String) { stopSensor(id: $id) { __typename "
        "... on StopSensorMutationResult { instigationState { status } } } }",
        id=sensor(gql, name)["id"],
    )["stopSensor"]
    assert stopped["instigationState"]["status"] == "STOPPED", stopped
