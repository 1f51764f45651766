"""The raw-files sensor, the daily job and the automation of the combined file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from spymaster_assets.definitions import defs
from spymaster_assets.defs.automation.sensors import raw_files_sensor
from spymaster_assets.defs.resources import LakeResource
from spymaster_assets.paths import DataLayout

from .conftest import SAMPLE_DAY

REPO = Path(__file__).resolve().parent.parent


def requested_range(request: dg.RunRequest) -> str:
    """One day, or a range of days (consecutive sessions share a run)."""
    if request.partition_key:
        return request.partition_key
    tags = request.tags
    return f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}"


def tick(root, instance=None):
    with dg.DagsterInstance.ephemeral() as fresh:
        context = dg.build_sensor_context(
            resources={"lake": LakeResource(data_dir=str(root))},
            definitions=defs,
            instance=instance or fresh,
        )
        result = raw_files_sensor.evaluate_tick(context)
    return [requested_range(r) for r in result.run_requests or []], result


def test_a_complete_new_day_gets_exactly_one_run_request(sample_root, tmp_path):
    root = tmp_path / "data"
    assert tick(root)[0] == [], "empty folder: nothing to do"
    shutil.copytree(sample_root / "raw", root / "raw")
    # An incomplete day next to it: only its trades file.
    layout = DataLayout(root)
    other = dt.date(2025, 11, 21)
    trades = layout.dbn_path("trades", other)
    shutil.copyfile(layout.dbn_path("trades", SAMPLE_DAY), trades)
    keys, result = tick(root)
    assert keys == [str(SAMPLE_DAY)]
    assert result.run_requests[0].job_name in (None, "daily_chain")

    first_key = result.run_requests[0].run_key
    # Once gold exists and is newer than the raw files, the day is done.
    gold = layout.lake_path("gold", "signals", str(SAMPLE_DAY))
    gold.parent.mkdir(parents=True)
    gold.write_bytes(b"placeholder")
    assert tick(root)[0] == []
    # A replaced raw file makes it due again, with a new run key.
    newer = gold.stat().st_mtime_ns + 10**9
    mbp = layout.dbn_path("mbp-10", SAMPLE_DAY)
    os.utime(mbp, ns=(newer, newer))
    keys, result = tick(root)
    assert keys == [str(SAMPLE_DAY)] and result.run_requests[0].run_key != first_key


def copy_day(sample_root: Path, root: Path, day: dt.date) -> None:
    source, target = DataLayout(sample_root), DataLayout(root)
    for schema in ("trades", "mbp-10"):
        path = target.dbn_path(schema, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.dbn_path(schema, SAMPLE_DAY), path)
    target.options_path(day).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.options_path(SAMPLE_DAY), target.options_path(day))


def test_consecutive_days_share_a_run_and_days_already_in_flight_are_left_alone(
    sample_root, tmp_path, monkeypatch
):
    """Thursday, Friday, Monday are consecutive sessions (one run); after a gap, Wednesday
    starts another. A day that a queued run already covers gets no second run."""
    monkeypatch.setenv("SPYMASTER_DAYS_PER_RUN", "10")
    root = tmp_path / "data"
    for day in ("2025-11-20", "2025-11-21", "2025-11-24", "2025-11-26"):
        copy_day(sample_root, root, dt.date.fromisoformat(day))
    assert tick(root)[0] == ["2025-11-20..2025-11-24", "2025-11-26"]
    monkeypatch.setenv("SPYMASTER_DAYS_PER_RUN", "2")
    assert tick(root)[0] == ["2025-11-20..2025-11-21", "2025-11-24", "2025-11-26"]

    with dg.DagsterInstance.ephemeral() as instance:
        queued = instance.create_run_for_job(
            defs.resolve_job_def("daily_chain"),
            tags={ASSET_PARTITION_RANGE_START_TAG: "2025-11-21",
                  ASSET_PARTITION_RANGE_END_TAG: "2025-11-24"},
        )  # fmt: skip
        assert queued.status == dg.DagsterRunStatus.NOT_STARTED
        keys, result = tick(root, instance)
        assert keys == ["2025-11-20", "2025-11-26"], "the queued run's days are left to it"
        assert "already in a run" not in str(result.skip_message)


def test_non_trading_days_are_ignored(sample_root, tmp_path):
    root = tmp_path / "data"
    layout = DataLayout(root)
    holiday = dt.date(2025, 11, 27)
    for schema in ("trades", "mbp-10"):
        path = layout.dbn_path(schema, holiday)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DataLayout(sample_root).dbn_path(schema, SAMPLE_DAY), path)
    layout.options_path(holiday).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DataLayout(sample_root).options_path(SAMPLE_DAY), layout.options_path(holiday))
    assert tick(root)[0] == []


def test_the_daily_job_covers_every_daily_asset_in_one_process():
    job = defs.resolve_job_def("daily_chain")
    graph = defs.resolve_asset_graph()
    daily = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert set(job.asset_layer.selected_asset_keys) == daily
    assert job.executor_def.name == "in_process"
    # UI "Materialize" and asset backfills run the implicit asset job: one process per run too.
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    assert (
        defs.resolve_sensor_def("raw_files_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    )


def test_two_runs_go_at_once_with_no_lane_that_serializes_the_chain(dagster_home):
    """Runs of different days are independent (SMA_200 history comes from the lake or the raw
    files), so the instance lets two go at once: one per core."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert config["run_queue"]["max_concurrent_runs"] == 2
    assert not config["run_queue"].get("tag_concurrency_limits")
    assert "concurrency" not in config, "one place for the run limits"
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:  # the repo's file
        queue = instance.run_coordinator.get_run_queue_config()
        assert queue.max_concurrent_runs == 2 and not queue.tag_concurrency_limits
    assert not defs.resolve_job_def("daily_chain").run_tags.get("spymaster/lane")


def test_the_combined_file_follows_the_daily_gold_automatically():
    key = dg.AssetKey(["gold", "signals_vectorized"])
    node = defs.resolve_asset_graph().get(key)
    assert node.automation_condition is not None
    sensor = defs.resolve_sensor_def("combined_file_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    # A day of gold/signals is materialized: the next evaluation requests the combined file.
    instance = dg.DagsterInstance.ephemeral()
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.get_num_requested(key) == 0
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=dg.AssetKey(["gold", "signals"]), partition="2025-11-20")
    )
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(key) == 1
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.get_num_requested(key) == 0, "nothing new: no request"

    # While a run still works on days of gold/signals (a backfill), the rebuild waits for it.
    busy = instance.create_run_for_job(
        defs.resolve_job_def("daily_chain"),
        asset_selection=frozenset({dg.AssetKey(["gold", "signals"])}),
        tags={"dagster/partition": "2025-11-21"},
    )
    instance.handle_run_event(
        busy.run_id,
        dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=busy.job_name),
    )
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=dg.AssetKey(["gold", "signals"]), partition="2025-11-20")
    )
    waiting = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=third.cursor)
    assert waiting.get_num_requested(key) == 0, "a run on gold/signals is in progress"
    instance.handle_run_event(
        busy.run_id,
        dg.DagsterEvent(dg.DagsterEventType.RUN_SUCCESS.value, job_name=busy.job_name),
    )
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=waiting.cursor)
    assert after.get_num_requested(key) == 1, "rebuilt once the run is over"


COMBINED_KEY = dg.AssetKey(["gold", "signals_vectorized"])
SIGNALS_KEY = dg.AssetKey(["gold", "signals"])


class Ticks:
    """The automation sensor's evaluations, tick after tick, on an ephemeral instance."""

    def __init__(self):
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor = None
        self()

    def __call__(self) -> int:
        """One tick: how many rebuilds of the combined file it requests."""
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=self.instance, cursor=self.cursor
        )
        self.cursor = result.cursor
        return result.get_num_requested(COMBINED_KEY)

    def materialized(self, key: dg.AssetKey, partition: str | None = None) -> None:
        self.instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))


def test_a_day_landing_while_the_combined_file_is_rebuilt_is_not_lost():
    """A day of gold/signals materialized after the rebuild read the days, before the next tick."""
    tick = Ticks()
    tick.materialized(SIGNALS_KEY, "2025-11-20")
    assert tick() == 1
    # The requested rebuild ends, then another run materializes a day: both before the next tick.
    tick.materialized(COMBINED_KEY)
    tick.materialized(SIGNALS_KEY, "2025-11-21")
    assert tick() == 1, "the new day is in no combined file yet"
    assert tick() == 0


def test_a_failed_rebuild_is_not_retried_until_a_day_changes():
    tick = Ticks()
    tick.materialized(SIGNALS_KEY, "2025-11-20")
    assert tick() == 1
    # The rebuild failed: nothing materialized. No request tick after tick...
    assert [tick() for _ in range(3)] == [0, 0, 0]
    # ...until a day changes.
    tick.materialized(SIGNALS_KEY, "2025-11-21")
    assert tick() == 1
