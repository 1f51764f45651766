"""The `spymaster` command line, run as a user runs it (a separate process, a real instance)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from spymaster_assets.paths import DataLayout

from .conftest import SAMPLE_DAY


def spymaster(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    env.pop("SPYMASTER_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "spymaster_assets.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_materialize_one_day_records_runs_in_the_instance(one_day, dagster_home):
    done = spymaster(
        "materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day), home=dagster_home
    )
    assert done.returncode == 0, done.stderr
    assert f"{SAMPLE_DAY} ok" in done.stdout and "combined ok" in done.stdout
    assert "check failed" not in done.stdout, done.stdout
    assert done.stdout.rstrip().endswith("checks: every check passed"), done.stdout
    for name in ("es_trades", "es_mbp10", "spy_option_trades"):
        assert DataLayout(one_day).lake_path("bronze", name, str(SAMPLE_DAY)).exists()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        partitions = sorted(r.tags.get("dagster/partition", "combined") for r in runs)
        assert partitions == [str(SAMPLE_DAY), "combined"]
        key = dg.AssetKey(["bronze", "es_trades"])
        assert str(SAMPLE_DAY) in instance.get_materialized_partitions(key)
        # every check result is recorded against the trading day it checked
        for check in ("schema", "front_month_share", "timestamp_order"):
            history = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(key, check), limit=5
            )
            done = [r for r in history if r.status.value == "SUCCEEDED"]
            assert [r.partition for r in done] == [str(SAMPLE_DAY)], check


def test_select_limits_the_assets(one_day, dagster_home):
    done = spymaster(
        "materialize",
        "--date",
        str(SAMPLE_DAY),
        "--select",
        "bronze/spy_option_trades",
        "--data-dir",
        str(one_day),
        home=dagster_home,
    )
    assert done.returncode == 0, done.stderr
    layout = DataLayout(one_day)
    assert layout.lake_path("bronze", "spy_option_trades", str(SAMPLE_DAY)).exists()
    assert not layout.lake_path("bronze", "es_trades", str(SAMPLE_DAY)).exists()
    upstream = spymaster(
        "materialize",
        "--date",
        str(SAMPLE_DAY),
        "--select",
        "+bronze/es_mbp10",
        "--data-dir",
        str(one_day),
        home=dagster_home,
    )
    assert upstream.returncode == 0, upstream.stderr
    assert layout.lake_path("bronze", "es_trades", str(SAMPLE_DAY)).exists()


def test_unknown_asset_in_select_is_a_usage_error(one_day, dagster_home):
    done = spymaster(
        "materialize",
        "--date",
        str(SAMPLE_DAY),
        "--select",
        "bronze/nope",
        "--data-dir",
        str(one_day),
        home=dagster_home,
    )
    assert done.returncode == 2
    assert "unknown asset 'bronze/nope'" in done.stderr


def test_a_failing_partition_exits_non_zero_naming_file_day_and_problem(one_day, dagster_home):
    DataLayout(one_day).options_path(SAMPLE_DAY).unlink()
    done = spymaster(
        "materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day), home=dagster_home
    )
    assert done.returncode == 1
    assert "missing raw file" in done.stderr
    assert f"{SAMPLE_DAY:%Y-%m-%d}.csv.gz" in done.stderr
    assert f"trading day {SAMPLE_DAY}" in done.stderr
    error = next(line for line in done.stderr.splitlines() if "error: " in line)
    # the user's words, not Dagster's exception class
    assert error.strip().startswith(
        f"error: {SAMPLE_DAY} bronze/spy_option_trades: {one_day}/raw/"
    ), error


def test_non_trading_dates_are_refused(one_day, dagster_home):
    done = spymaster(
        "materialize", "--date", "2025-11-27", "--data-dir", str(one_day), home=dagster_home
    )
    assert done.returncode == 2
    assert "not an NYSE trading day" in done.stderr


def test_sample_data_range_then_all_then_summary(tmp_path, dagster_home):
    root = tmp_path / "data"
    first = spymaster(
        "sample-data",
        "--start",
        "2025-11-21",
        "--end",
        "2025-11-24",
        "--data-dir",
        str(root),
        home=dagster_home,
    )
    assert first.returncode == 0, first.stderr
    layout = DataLayout(root)
    assert layout.raw_days() == [
        __import__("datetime").date(2025, 11, 21),
        __import__("datetime").date(2025, 11, 24),
    ]
    stamp = layout.dbn_path("mbp-10", layout.raw_days()[0]).stat().st_mtime_ns
    again = spymaster(
        "sample-data",
        "--start",
        "2025-11-21",
        "--end",
        "2025-11-24",
        "--data-dir",
        str(root),
        home=dagster_home,
    )
    assert again.returncode == 0 and again.stdout.count("skipped") == 2
    assert layout.dbn_path("mbp-10", layout.raw_days()[0]).stat().st_mtime_ns == stamp
    run = spymaster(
        "materialize",
        "--all",
        "--select",
        "bronze/es_trades",
        "--data-dir",
        str(root),
        home=dagster_home,
    )
    assert run.returncode == 0, run.stderr
    assert "[2/2] 2025-11-24 ok" in run.stdout
    summary = spymaster("summary", "--data-dir", str(root), home=dagster_home)
    assert "bronze/es_trades" in summary.stdout and "2025-11-24" in summary.stdout
    assert "make ui" in summary.stdout


def test_data_dir_defaults_to_the_environment_variable(one_day, dagster_home):
    env_home = dagster_home
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spymaster_assets.cli",
            "materialize",
            "--date",
            str(SAMPLE_DAY),
            "--select",
            "bronze/es_trades",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DAGSTER_HOME": str(env_home), "SPYMASTER_DATA_DIR": str(one_day)},
    )
    assert done.returncode == 0, done.stderr
    assert DataLayout(one_day).lake_path("bronze", "es_trades", str(SAMPLE_DAY)).exists()


def test_validate_passes_on_generated_data_and_catches_a_broken_rule(one_day, dagster_home):
    import polars as pl

    done = spymaster(
        "materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day), home=dagster_home
    )
    assert done.returncode == 0, done.stderr
    ok = spymaster("validate", "--verbose", "--data-dir", str(one_day), home=dagster_home)
    assert ok.returncode == 0, ok.stderr
    assert "validation passed" in ok.stdout
    assert "outcomes per trading day" in ok.stdout and "outcomes per level kind" in ok.stdout
    assert "| BREAK" in ok.stdout or "BREAK |" in ok.stdout
    research = one_day / "lake" / "gold" / "research" / "signals_vectorized.parquet"
    frame = pl.read_parquet(research)
    assert frame.height > 50 and set(frame["outcome"]) >= {"BREAK", "BOUNCE", "CHOP"}
    # the class mix of every label-grid pair, as counted from the file
    grid = ok.stdout.split("label grid: class mix per threshold x horizon", 1)[1]
    for name in [c for c in frame.columns if c.startswith("outcome_t")]:
        counts = frame[name].value_counts()
        row = next(line for line in grid.splitlines() if f"| {name} " in line)
        cells = [c.strip() for c in row.strip("|").split("|")]
        mix = dict(zip(("CHOP", "BREAK", "BOUNCE"), map(int, cells[3:6]), strict=True))
        assert mix == {o: int(counts.filter(pl.col(name) == o)["count"].sum()) for o in mix}
    assert len([c for c in frame.columns if c.startswith("outcome_t")]) == 9
    broken = frame.with_columns(
        distance=pl.when(pl.int_range(pl.len()) == 3).then(0.30).otherwise("distance"),
        event_id=pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.col("event_id").first())
        .otherwise("event_id"),
    )
    broken.write_parquet(research)
    bad = spymaster("validate", "--data-dir", str(one_day), home=dagster_home)
    assert bad.returncode == 1
    assert "distance <= MONITOR_BAND: 1 rows fail" in bad.stderr
    assert "event_id" in bad.stderr
    day_ok = spymaster(
        "validate", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day), home=dagster_home
    )
    assert day_ok.returncode == 0, day_ok.stderr
