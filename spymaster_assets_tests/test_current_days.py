"""A day that is current is not built again: it is recorded again for its partition.

Current: the asset's code version, the configuration and everything it read (down to the raw
files' sizes and times) are what they were when it was built, and its file is in the lake.
"""

from __future__ import annotations

import os

import dagster as dg

from spymaster_assets.paths import DataLayout

from .conftest import SAMPLE_DAY
from .test_cli import spymaster

BRONZE_TRADES = dg.AssetKey(["bronze", "es_trades"])
OPTION_TRADES = dg.AssetKey(["bronze", "spy_option_trades"])
LEVELS = dg.AssetKey(["silver", "levels"])
GOLD = dg.AssetKey(["gold", "signals"])


def data_files(root) -> dict[str, int]:
    lake = root / "lake"
    return {
        str(p): p.stat().st_mtime_ns
        for p in lake.rglob("*")
        if p.is_file() and "_days" not in p.relative_to(lake).parts and "research" not in p.parts
    }


def latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetMaterialization:
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(SAMPLE_DAY)]), limit=1
    ).records
    return record.asset_materialization


def test_a_current_day_is_recorded_again_and_a_changed_raw_file_rebuilds_what_it_feeds(
    one_day, dagster_home
):
    args = ["materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day)]
    first = spymaster(*args, home=dagster_home)
    assert first.returncode == 0, first.stderr[-2000:]
    built = data_files(one_day)

    again = spymaster(*args, home=dagster_home)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{SAMPLE_DAY} current (not rebuilt)" in again.stdout
    assert data_files(one_day) == built, "no file written again"
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        second_run = instance.get_runs(limit=2)[1]  # the newest is the combined file's
        mat = latest(instance, GOLD)
        assert mat.metadata["reused_from_run"].value != second_run.run_id
        # the partition's materialization and checks are recorded by the second run too
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(GOLD, "schema"), limit=5
        )
        assert [(r.partition, r.run_id) for r in history][0] == (str(SAMPLE_DAY), second_run.run_id)

    # A new options file (same bytes, a new time): what reads it is rebuilt, nothing else.
    options = DataLayout(one_day).options_path(SAMPLE_DAY)
    later = options.stat().st_mtime_ns + 10**9
    os.utime(options, ns=(later, later))
    third = spymaster(*args, home=dagster_home)
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"{SAMPLE_DAY} ok" in third.stdout
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert "reused_from_run" in latest(instance, BRONZE_TRADES).metadata
        for key in (OPTION_TRADES, LEVELS, GOLD):  # option flow feeds levels, levels the rest
            assert "reused_from_run" not in latest(instance, key).metadata, key

    forced = spymaster(*args, "--force", home=dagster_home)
    assert forced.returncode == 0 and f"{SAMPLE_DAY} ok" in forced.stdout
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert "reused_from_run" not in latest(instance, BRONZE_TRADES).metadata

    # A lake file replaced behind the manifest's back (a build cut short before the day's
    # manifest was saved): its asset is built again, even at the same size.
    trades_file = DataLayout(one_day).lake_path("bronze", "es_trades", str(SAMPLE_DAY))
    later = trades_file.stat().st_mtime_ns + 10**9
    os.utime(trades_file, ns=(later, later))
    fourth = spymaster(*args, home=dagster_home)
    assert fourth.returncode == 0, fourth.stderr[-2000:]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert "reused_from_run" not in latest(instance, BRONZE_TRADES).metadata
        assert "reused_from_run" in latest(instance, OPTION_TRADES).metadata


def test_the_days_a_backfill_leaves_out_are_current_and_known_to_this_instance(
    one_day, dagster_home, tmp_path, monkeypatch
):
    """`spymaster backfill` leaves out a day only when the chain would record it again and this
    instance holds its results: not after a raw file changed, nor for another instance."""
    from spymaster_assets.backfill import current_days
    from spymaster_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    daily = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
    day = str(SAMPLE_DAY)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert current_days(instance, graph, daily, [day], one_day) == [], "not built yet"
    built = spymaster("materialize", "--date", day, "--data-dir", str(one_day), home=dagster_home)
    assert built.returncode == 0, built.stderr[-2000:]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert current_days(instance, graph, daily, [day], one_day) == [day]
        assert current_days(instance, graph, [LEVELS], [day], one_day) == [day]
    other = tmp_path / "other_home"
    other.mkdir()
    (other / "dagster.yaml").write_text((dagster_home / "dagster.yaml").read_text())
    with monkeypatch.context() as env:
        env.setenv("DAGSTER_HOME", str(other))  # the storage lives under $DAGSTER_HOME
        with dg.DagsterInstance.from_config(str(other)) as instance:
            assert current_days(instance, graph, daily, [day], one_day) == [], "another instance"

    trades = DataLayout(one_day).dbn_path("trades", SAMPLE_DAY)
    later = trades.stat().st_mtime_ns + 10**9
    os.utime(trades, ns=(later, later))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert current_days(instance, graph, daily, [day], one_day) == []
        # what does not read the trades file is still current
        assert current_days(instance, graph, [OPTION_TRADES], [day], one_day) == [day]
