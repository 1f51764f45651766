"""`spymaster backfill` against a real dagster-daemon on a temporary instance.

The daemon runs in its own process group, which the fixture ends even when a test fails.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from spymaster_assets.definitions import defs
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.generator import generate_day

from .dagster_services import REPO, instance_at, new_instance
from .dagster_services import daemon as running_daemon

FRIDAY, MONDAY, TUESDAY = dt.date(2025, 11, 21), dt.date(2025, 11, 24), dt.date(2025, 11, 25)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    new_instance(home)
    data = tmp_path_factory.mktemp("data")
    for day in (FRIDAY, MONDAY, TUESDAY):
        generate_day(day, data, profile="demo", seed=7)
    env = {**os.environ, "DAGSTER_HOME": str(home), "SPYMASTER_DATA_DIR": str(data)}
    with running_daemon(home, env):
        yield home, data, env


def backfill(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", "backfill", *args, "--timeout", "900"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=1000,
    )


def test_backfill_over_a_weekend_runs_every_day_through_the_daemon(daemon):
    home, data, env = daemon
    done = backfill(env, "--start", str(FRIDAY), "--end", str(MONDAY))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 trading days x" in done.stdout and "succeeded" in done.stdout
    assert "2025-11-22" not in done.stdout, "no weekend partitions"
    layout = DataLayout(data)
    for day in (FRIDAY, MONDAY):
        assert layout.lake_path("gold", "signals", str(day)).exists()
    with instance_at(home) as instance:
        backfills = instance.get_backfills()
        assert len(backfills) == 1 and backfills[0].status.value == "COMPLETED_SUCCESS"
        # every asset materialized, and every check recorded, for each partition
        graph = defs.resolve_asset_graph()
        daily = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
        for key in daily:
            assert {str(FRIDAY), str(MONDAY)} <= instance.get_materialized_partitions(key), key
        # every check has a recorded result for each partition (backfill runs keep the partition)
        for check in graph.asset_check_keys:
            if graph.get(check.asset_key).partitions_def is None:
                continue
            history = instance.event_log_storage.get_asset_check_execution_history(check, limit=20)
            partitions = {r.partition for r in history if r.status.value in ("SUCCEEDED", "FAILED")}
            assert {str(FRIDAY), str(MONDAY)} <= partitions, check


def test_a_failing_partition_fails_the_backfill_with_its_error(daemon):
    _, data, env = daemon
    DataLayout(data).options_path(TUESDAY).unlink()
    done = backfill(
        env, "--start", str(MONDAY), "--end", str(TUESDAY), "--select", "bronze/spy_option_trades"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "missing raw file" in done.stderr and str(TUESDAY) in done.stderr
    assert f"failed partitions {TUESDAY}" in done.stderr
    assert f"{MONDAY} 1/1" in done.stdout, "the other partition still succeeded"


def test_no_daemon_no_backfill(tmp_path):
    home = tmp_path / "home"
    new_instance(home)
    done = backfill(
        {**os.environ, "DAGSTER_HOME": str(home)}, "--start", str(MONDAY), "--end", str(MONDAY)
    )
    assert done.returncode == 1 and "no dagster-daemon is running" in done.stderr
