"""`spymaster backfill` against a real dagster-daemon on a temporary instance.

The daemon runs in its own process group, which the fixture ends even when a test fails.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from spymaster_assets.backfill import run_days
from spymaster_assets.bench.backfill import _runs_and_checks
from spymaster_assets.bench.report import runs_by_launcher
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


def backfill_id(done: subprocess.CompletedProcess) -> str:
    return re.search(r"^backfill (\w+): ", done.stdout, re.M).group(1)


def backfill(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", "backfill", *args, "--timeout", "900"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=1000,
    )


def sensor_runs_on(instance, days: list[dt.date]) -> list[dg.DagsterRun]:
    wanted = {str(d) for d in days}
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/sensor_name": "raw_files_sensor"})
    )
    return [r for r in runs if wanted & set(run_days(r))]


def test_a_backfill_leaves_out_the_days_the_sensor_built_and_force_rebuilds_them(daemon):
    home, data, env = daemon
    graph = defs.resolve_asset_graph()
    daily = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
    # The raw-files sensor (running) asks for every day with raw files when the daemon starts.
    deadline = time.monotonic() + 120
    with instance_at(home) as instance:
        while not sensor_runs_on(instance, [FRIDAY, MONDAY]):
            assert time.monotonic() < deadline, "the sensor requested no run"
            time.sleep(1)

    # The backfill waits for the sensor's runs on its days, finds both days current (built by
    # them, results recorded) and submits nothing.
    done = backfill(env, "--start", str(FRIDAY), "--end", str(MONDAY))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 trading days are current" in done.stdout, done.stdout
    assert "nothing to backfill" in done.stdout
    assert "checks: every check passed" in done.stdout, "the days' recorded results, listed"
    assert "2025-11-22" not in done.stdout, "no weekend partitions"
    layout = DataLayout(data)
    with instance_at(home) as instance:
        assert instance.get_backfills() == []
        assert all(r.status == dg.DagsterRunStatus.SUCCESS
                   for r in sensor_runs_on(instance, [FRIDAY, MONDAY]))  # fmt: skip
        for day in (FRIDAY, MONDAY):
            assert layout.lake_path("gold", "signals", str(day)).exists()

    # --force: the daemon rebuilds both days, one run over the two (the backfill policy)
    forced = backfill(env, "--start", str(FRIDAY), "--end", str(MONDAY), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "2 trading days x" in forced.stdout and "succeeded" in forced.stdout
    assert "checks: every check passed" in forced.stdout, forced.stdout
    with instance_at(home) as instance:
        backfills = instance.get_backfills()
        assert len(backfills) == 1 and backfills[0].status.value == "COMPLETED_SUCCESS"
        backfill_runs = {
            r.run_id
            for r in instance.get_runs(
                filters=dg.RunsFilter(tags={"dagster/backfill": backfills[0].backfill_id})
            )
        }
        for key in daily:
            # each day of the run has its own materialization: its rows, time, check summary
            for day in (FRIDAY, MONDAY):
                (record,) = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(day)]), limit=1
                ).records
                assert record.run_id in backfill_runs, key
                meta = record.asset_materialization.metadata
                assert "seconds" in meta and "reused_from_run" not in meta, key
                if graph.get(key).metadata.get("dagster/column_schema"):
                    assert meta["path"].value.endswith(f"{day}.parquet"), key
                    assert meta["dagster/row_count"].value >= 0, key
                checks = [c.name for c in graph.get(key).check_keys]
                assert all(f"check/{name}" in meta for name in checks), key
        # every check has a result of the backfill's runs for each partition
        for check in graph.asset_check_keys:
            if graph.get(check.asset_key).partitions_def is None:
                continue
            history = instance.event_log_storage.get_asset_check_execution_history(check, limit=20)
            partitions = {
                r.partition
                for r in history
                if r.status.value in ("SUCCEEDED", "FAILED") and r.run_id in backfill_runs
            }
            assert {str(FRIDAY), str(MONDAY)} <= partitions, check
        # Every asset-day was built once by the sensor and once by the forced backfill: none
        # twice by overlapping runs, none recorded again.
        for key in daily:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(FRIDAY), str(MONDAY)]),
                limit=100,
            ).records
            assert all("reused_from_run" not in r.asset_materialization.metadata for r in records)
            built = Counter(r.partition_key for r in records)
            assert built == {str(FRIDAY): 2, str(MONDAY): 2}, (key, built)
    # The benchmark tells who built the days and who recorded them again, from the same records.
    runs, _, _ = _runs_and_checks(home, env, [FRIDAY, MONDAY])
    daily_runs = [r for r in runs if r["days"]]
    assert {r["by"] for r in daily_runs} == {"sensor", "backfill"}
    built_days = sum(r["materializations"] - r["recorded_again"] for r in daily_runs)
    sensor_days = {d for r in daily_runs if r["by"] == "sensor" for d in r["days"]}
    assert built_days == len(daily) * (len(sensor_days) + 2), "sensor's days, then the two again"
    summary = runs_by_launcher(runs)
    assert "raw_files_sensor" in summary and "backfill" in summary
    # the summary counts every run it was given, the combined file's (no days) if it ran yet
    every_run = sum(r["materializations"] - r["recorded_again"] for r in runs)
    assert sum(int(n) for n in re.findall(r"(\d+) asset-days built", summary)) == every_run


def test_a_failing_partition_fails_the_backfill_with_its_error(daemon):
    _, data, env = daemon
    DataLayout(data).options_path(TUESDAY).unlink()
    # Monday gets one unparsable options row: a WARN check that fails without failing the day
    monday = DataLayout(data).options_path(MONDAY)
    seen = monday.stat()
    header, first, *rows = gzip.decompress(monday.read_bytes()).decode().splitlines()
    monday.write_bytes(
        gzip.compress("\n".join([header, first.rsplit(",", 1)[0] + ",x", *rows]).encode())
    )
    os.utime(monday, ns=(seen.st_atime_ns, seen.st_mtime_ns))  # the sensor sees nothing new
    done = backfill(
        env, "--start", str(MONDAY), "--end", str(TUESDAY), "--select", "bronze/spy_option_trades",
        "--force",  # Monday built again too: the other partition of the backfill succeeds
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "missing raw file" in done.stderr and str(TUESDAY) in done.stderr
    assert f"failed partitions {TUESDAY}" in done.stderr
    assert f"{MONDAY} 1/1" in done.stdout, "the other partition still succeeded"
    # the backfill ends with every failed check of its days, the WARN one of a good day too
    closing = done.stdout.split("checks: 1 failed", 1)[1].splitlines()[1].strip()
    assert closing.startswith(f"{MONDAY} bronze/spy_option_trades:bad_rows WARN 1 not <= 0"), (
        closing
    )


def test_no_daemon_no_backfill(tmp_path):
    home = tmp_path / "home"
    new_instance(home)
    done = backfill(
        {**os.environ, "DAGSTER_HOME": str(home)}, "--start", str(MONDAY), "--end", str(MONDAY)
    )
    assert done.returncode == 1 and "no dagster-daemon is running" in done.stderr


BRONZE = "bronze/es_trades,bronze/es_mbp10,bronze/spy_option_trades"
GOOD_DAY = dt.date(2025, 11, 10)


def cut_end(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1000])


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0x5A for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def csv_without_price(path: Path) -> None:
    text = gzip.decompress(path.read_bytes()).decode()
    header, *rows = text.splitlines()
    columns = header.split(",")
    keep = [i for i, c in enumerate(columns) if c != "price"]
    lines = [",".join(line.split(",")[i] for i in keep) for line in [header, *rows]]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))


def csv_with_unparsable_sizes(path: Path) -> None:
    text = gzip.decompress(path.read_bytes()).decode()
    header, *rows = text.splitlines()
    rows = [r.rsplit(",", 1)[0] + ",lots" if i % 10 == 0 else r for i, r in enumerate(rows)]
    path.write_bytes(gzip.compress("\n".join([header, *rows]).encode()))


# One bad input per day, for each raw source: (day, schema, damage, asset that fails, problem)
BAD_DAYS = [
    (dt.date(2025, 11, 11), "mbp-10", cut_end, "es_mbp10", "truncated file"),
    (dt.date(2025, 11, 12), "trades", flip_middle, "es_trades", "corrupt"),
    (dt.date(2025, 11, 13), "trades", "wrong_schema", "es_trades", "wrong schema"),
    (dt.date(2025, 11, 14), "trades", "other_day", "es_trades", "not this trading day"),
    (dt.date(2025, 11, 17), "options", csv_without_price, "spy_option_trades", "missing columns"),
    (dt.date(2025, 11, 18), "options", csv_with_unparsable_sizes, "spy_option_trades",
     "rows unparsable"),
    (dt.date(2025, 11, 19), "options", "missing", "spy_option_trades", "missing raw file"),
]  # fmt: skip


def damage(layout: DataLayout, day: dt.date, schema: str, how) -> Path:
    path = layout.options_path(day) if schema == "options" else layout.dbn_path(schema, day)
    if how == "wrong_schema":
        shutil.copyfile(layout.dbn_path("mbp-10", day), path)
    elif how == "other_day":
        shutil.copyfile(layout.dbn_path(schema, GOOD_DAY), path)
    elif how == "missing":
        path.unlink()
    else:
        how(path)
    return path


def test_bad_inputs_fail_only_their_days_of_a_backfill_and_keep_the_earlier_outputs(daemon):
    """SPEC §11 through the daemon: every bad day fails with file, date and problem, its earlier
    good output stays byte for byte, nothing half-written is left, and the good day succeeds."""
    home, data, env = daemon
    layout = DataLayout(data)
    days = [GOOD_DAY, *(d for d, *_ in BAD_DAYS)]
    for day in days:
        generate_day(day, data, profile="demo", seed=3)
    first = subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", "materialize", "--start", str(days[0]),
         "--end", str(days[-1]), "--select", BRONZE, "--data-dir", str(data)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=900,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    before = {
        (day, name): layout.lake_path("bronze", name, str(day)).read_bytes()
        for day in days
        for name in ("es_trades", "es_mbp10", "spy_option_trades")
    }
    bad_files = {day: damage(layout, day, schema, how) for day, schema, how, *_ in BAD_DAYS}

    # --force: the good day is built again too, in the same run as the bad ones
    done = backfill(
        env, "--start", str(days[0]), "--end", str(days[-1]), "--select", BRONZE, "--force"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    failed = done.stderr.split("failed partitions ", 1)[1].splitlines()[0].split(", ")
    assert sorted(failed) == sorted(str(d) for d, *_ in BAD_DAYS), done.stderr
    assert f"{GOOD_DAY} 3/3" in done.stdout, "the good day of the same run succeeded"
    # the eight consecutive days went through one run (SPYMASTER_DAYS_PER_RUN, default 10)
    with instance_at(home) as instance:
        (run,) = instance.get_runs(
            filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id(done)})
        )
        assert run.tags["dagster/asset_partition_range_start"] == str(days[0])
        assert run.tags["dagster/asset_partition_range_end"] == str(days[-1])
    errors = [line for line in done.stderr.splitlines() if line.strip().startswith("error:")]
    for day, _, _, asset, problem in BAD_DAYS:
        mine = [e for e in errors if f"{day} bronze/{asset}:" in e]
        assert mine, (day, errors)
        assert problem in mine[0] and str(bad_files[day]) in mine[0], mine[0]
        assert f"trading day {day}" in mine[0], mine[0]
        assert "dagster._core" not in mine[0], "the user's error, not Dagster's class names"
    # every earlier output is intact, byte for byte; no temporary file is left anywhere
    for (day, name), content in before.items():
        assert layout.lake_path("bronze", name, str(day)).read_bytes() == content, (day, name)
    lake_files = [p for p in (data / "lake").rglob("*") if p.is_file()]
    assert not [p for p in lake_files if p.name.startswith(".") and p.suffix == ".tmp"]
