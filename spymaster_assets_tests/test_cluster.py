"""The cluster of docs/deploy.md on loopback: the instance on PostgreSQL, the data folder in an
S3 bucket (moto's server), steps on two Celery workers (Redis broker) started with
`spymaster worker` from folders of their own, a real dagster-daemon and webserver.

The workers are told only the database, the broker and the bucket: their working folder,
Dagster home and scratch are their own. What they write must be the bytes a local run writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from spymaster_assets.local_services import postgres, redis, s3_variables
from spymaster_assets.processes import process_group
from spymaster_assets.sample.generator import generate_day

from .conftest import S3_BUCKET, upload_tree
from .dagster_services import REPO, GraphQL, instance_at, stop_sensor, wait_until, webserver
from .dagster_services import daemon as running_daemon
from .test_cli import spymaster
from .test_object_store import lake_objects

FRIDAY, MONDAY, TUESDAY = dt.date(2025, 11, 21), dt.date(2025, 11, 24), dt.date(2025, 11, 25)
DAYS = [FRIDAY, MONDAY, TUESDAY]  # across a weekend
VISIBILITY_S = 30  # a task of a dead worker goes to another after this long (cluster.py)
WORKER_EVENT = "in celery worker"  # dagster-celery's engine event when a worker starts a step


@dataclass
class Cluster:
    env: dict  # what the daemon, the webserver and the CLI see
    home: Path  # the daemon's DAGSTER_HOME
    bucket: object  # the data folder, s3://lake/cluster
    local: Path  # the same raw days built on disk by a plain local run
    workers: dict[str, subprocess.Popen]
    folders: dict[str, Path]
    gql: GraphQL


def _start_worker(stack, name: str, folder: Path, env: dict) -> subprocess.Popen:
    folder.mkdir(parents=True)
    mine = {**env, "DAGSTER_HOME": str(folder / "home"), "HOME": str(folder),
            "SPYMASTER_SCRATCH_DIR": str(folder / "scratch")}  # fmt: skip
    command = [sys.executable, "-m", "spymaster_assets.cli", "worker", "--name", name]
    return stack.enter_context(process_group(command, mine, folder / "worker.log", folder))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, s3_server):
    base = tmp_path_factory.mktemp("cluster")
    raw = base / "raw-days"
    for day in DAYS:
        generate_day(day, raw, profile="demo", seed=7)
    local = base / "local"
    shutil.copytree(raw / "raw", local / "raw")
    plain = spymaster("materialize", "--start", str(FRIDAY), "--end", str(TUESDAY),
                      "--data-dir", str(local), home=base / "local-home")  # fmt: skip
    assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-3000:]

    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        pg_url = stack.enter_context(postgres())
        broker = stack.enter_context(redis())
        bucket = f"s3://{S3_BUCKET}/cluster"
        cluster_env = {**s3_variables(s3_server), "SPYMASTER_PG_URL": pg_url,
                       "SPYMASTER_CELERY_BROKER": broker, "SPYMASTER_DATA_DIR": bucket,
                       "SPYMASTER_CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
                       "SPYMASTER_DAYS_PER_RUN": "1"}  # fmt: skip
        for name, value in cluster_env.items():
            patch.setenv(name, value)  # the test reads the same instance and bucket
        home = base / "daemon-home"
        home.mkdir()
        shutil.copyfile(REPO / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        patch.setenv("DAGSTER_HOME", str(home))

        folders = {name: base / f"worker-{name}" for name in ("w1", "w2")}
        workers = {name: _start_worker(stack, name, folder, os.environ.copy())
                   for name, folder in folders.items()}  # fmt: skip
        for name, folder in folders.items():
            wait_until(f"worker {name}", lambda f=folder, n=name: f"{n}@" in _log(f) and
                       " ready." in _log(f), 120, folder / "worker.log")  # fmt: skip
        stack.enter_context(running_daemon(home, env))
        _, gql = stack.enter_context(webserver(home, env))
        stop_sensor(gql, "raw_files_sensor")  # the test backfills instead
        from spymaster_assets.storage import data_root

        root = data_root(bucket)
        upload_tree(raw / "raw", root / "raw")
        yield Cluster(env, home, root, local, workers, folders, gql)


def _log(folder: Path) -> str:
    path = folder / "worker.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _workers_of(instance, run_ids) -> list[str]:
    """The Celery workers that started the runs' steps, in order (a step given again after its
    worker died appears twice)."""
    names = []
    for run_id in run_ids:
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            event = record.dagster_event
            if WORKER_EVENT in (event.message or ""):
                worker = event.event_specific_data.metadata["Celery worker"].value
                names.append(worker.split("@")[0])
    return names


def test_a_worker_needs_the_broker_the_database_and_a_bucket(tmp_path, monkeypatch):
    for name in ("SPYMASTER_CELERY_BROKER", "SPYMASTER_PG_URL"):
        monkeypatch.delenv(name, raising=False)
    local = ("worker", "--data-dir", str(tmp_path / "data"))
    no_broker = spymaster(*local, home=tmp_path / "home")
    assert no_broker.returncode == 2 and "SPYMASTER_CELERY_BROKER is not set" in no_broker.stderr
    monkeypatch.setenv("SPYMASTER_CELERY_BROKER", "redis://127.0.0.1:9/0")
    no_pg = spymaster(*local, home=tmp_path / "home")
    assert no_pg.returncode == 2 and "SPYMASTER_PG_URL is not set" in no_pg.stderr
    monkeypatch.setenv("SPYMASTER_PG_URL", "postgresql+psycopg2://dagster@127.0.0.1:9/x")
    on_disk = spymaster(*local, home=tmp_path / "home")
    assert on_disk.returncode == 2 and "workers share only a bucket" in on_disk.stderr


def test_a_backfill_on_two_workers_writes_the_bytes_of_a_local_run(cluster):
    done = subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", "backfill", "--start", str(FRIDAY),
         "--end", str(TUESDAY), "--timeout", "900"],
        capture_output=True, text=True, env=cluster.env, cwd=REPO, timeout=1000,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"backfill \w+: 3 trading days x 14 assets submitted", done.stdout)
    assert "checks: every check passed" in done.stdout and "succeeded" in done.stdout
    backfill_id = re.search(r"^backfill (\w+): ", done.stdout, re.M).group(1)

    # every asset of every day, and the combined file the automation rebuilds after the days
    # (on a worker too), byte for byte as the local run wrote them
    local = lake_objects(cluster.local)
    wait_until("the combined research file of the three days",
               lambda: lake_objects(cluster.bucket) == local, 240)  # fmt: skip
    assert len(local) == 3 * 15 + 1
    hidden = [n for n in lake_objects(cluster.bucket) if "/." in n]
    assert not hidden, hidden

    with instance_at(cluster.home) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert len(runs) == 3 and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        assert set(_workers_of(instance, [r.run_id for r in runs])) == {"w1", "w2"}
        from spymaster_assets.definitions import defs

        asset_graph = defs.resolve_asset_graph()
        daily_checks = [c for c in asset_graph.asset_check_keys
                        if asset_graph.get(c.asset_key).partitions_def is not None]  # fmt: skip
        assert len(daily_checks) > 20
        for check in daily_checks:
            history = instance.event_log_storage.get_asset_check_execution_history(check, 10)
            by_day = {r.partition: r.status.value for r in history}
            assert all(by_day.get(str(d)) == "SUCCEEDED" for d in DAYS), (check, by_day)

    # the UI's GraphQL reads the same results per partition from PostgreSQL
    for day in DAYS:
        executions = cluster.gql(
            "query($k: AssetKeyInput!, $c: String!, $p: String) { assetCheckExecutions("
            "assetKey: $k, checkName: $c, partition: $p, limit: 5) { status partition "
            "evaluation { success partition } } }",
            k={"path": ["silver", "levels"]}, c="causality", p=str(day),
        )["assetCheckExecutions"]  # fmt: skip
        assert executions and executions[0]["partition"] == str(day)
        assert executions[0]["status"] == "SUCCEEDED" and executions[0]["evaluation"]["success"]
    for folder in cluster.folders.values():  # the workers' own folders: nothing of the lake
        assert not list(folder.rglob("*.parquet"))

    # the research step on the three days, on a worker, its files in the bucket (three days
    # are too few for its model gates to pass: a gate that fails still writes the files)
    research = subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", "research", "--min-train-days", "2",
         "--test-block-days", "1", "--embargo-days", "0"],
        capture_output=True, text=True, env=cluster.env, cwd=REPO, timeout=600,
    )  # fmt: skip
    gates = "blocking asset check failed" in research.stderr
    assert research.returncode == 0 or gates, research.stdout[-3000:] + research.stderr[-3000:]
    report = cluster.bucket / "lake" / "research" / "report.md"
    assert f"report: {report}" in research.stdout
    assert "walk-forward" in report.read_text().lower()
    assert (cluster.bucket / "lake" / "research" / "predictions.parquet").exists()
    with instance_at(cluster.home) as instance:
        (run,) = _cli_runs(instance)
        assert _workers_of(instance, [run.run_id])[0] in ("w1", "w2")


def test_a_worker_killed_mid_step_is_replaced_by_the_other(cluster):
    """Kill the worker that runs a day's step (its whole process group, as a machine that
    dies): the broker gives the step to the other worker, which writes the same bytes."""
    before = lake_objects(cluster.bucket)
    received = {n: _log(f).count(" received") for n, f in cluster.folders.items()}
    materialize = subprocess.Popen(
        [sys.executable, "-m", "spymaster_assets.cli", "materialize", "--date", str(MONDAY),
         "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env, cwd=REPO,
    )  # fmt: skip
    try:
        victim = wait_until(
            "a worker to take the step",
            lambda: next(
                (n for n, f in cluster.folders.items() if _log(f).count(" received") > received[n]),
                None,
            ),  # fmt: skip
            120,
        )
        with instance_at(cluster.home) as instance:
            wait_until("the step to start", lambda: _run_started_on(instance, victim), 60)
            # in the middle of the step: its first assets of the day recorded, not the last
            wait_until("the step's first asset", lambda: _materialized(instance), 60)
            os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
            assert _materialized(instance) < 14, "the step was over before the kill"
        out, err = materialize.communicate(timeout=VISIBILITY_S + 300)
    finally:
        if materialize.poll() is None:
            materialize.kill()
    assert materialize.returncode == 0, out[-3000:] + err[-3000:]
    assert f"{MONDAY} ok" in out and "checks: every check passed" in out
    survivor = next(n for n in cluster.folders if n != victim)
    with instance_at(cluster.home) as instance:
        (run,) = _materialize_runs(instance)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert _workers_of(instance, [run.run_id]) == [victim, survivor]
    after = lake_objects(cluster.bucket)
    assert after == before  # rebuilt, the same bytes; and nothing half-written, nothing hidden
    assert not [n for n in after if "/." in n or n.endswith(".tmp")]


def _cli_runs(instance, **tags) -> list[dg.DagsterRun]:
    """Runs of `spymaster materialize` and `spymaster research`, newest first (not the
    backfill's, which carry the same launcher tag)."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"spymaster/launched_by": "cli", **tags}))
    return [r for r in runs if "dagster/backfill" not in r.tags]


def _materialize_runs(instance) -> list[dg.DagsterRun]:
    """The day run of `spymaster materialize --date MONDAY`."""
    return _cli_runs(instance, **{"dagster/partition": str(MONDAY)})


def _materialized(instance) -> int:
    """Asset-days the materialize run has recorded so far."""
    runs = _materialize_runs(instance)
    if not runs:
        return 0
    events = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return len(events)


def _run_started_on(instance, worker: str) -> bool:
    runs = _materialize_runs(instance)
    return bool(runs) and worker in _workers_of(instance, [runs[0].run_id])
