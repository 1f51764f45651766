"""New raw files get processed without anyone clicking: a sensor on the raw folders."""

from __future__ import annotations

import datetime as dt
import hashlib

import dagster as dg

from spymaster_assets.defs.automation import jobs
from spymaster_assets.defs.resources import LakeResource
from spymaster_assets.paths import DataLayout

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def days_to_process(layout: DataLayout) -> list[tuple[str, int]]:
    """(trading day, newest raw mtime) for complete days whose gold is missing or older."""
    from spymaster_assets.market.trading_calendar import is_trading_day
    from spymaster_assets.storage import modified_times

    # two listings (raw files, gold days) rather than a request per file: on an object store
    # a file check is an HTTP request, and a bucket holds years of days
    raw_files = layout.raw_files()
    gold_dir = layout.lake_dir("gold", "signals")
    gold_files = modified_times(gold_dir)
    out = []
    for day in layout.raw_days(raw_files):
        if not is_trading_day(day):
            continue
        raw = layout.raw_times(day, raw_files)
        if None in raw:
            continue  # wait until the day's three files are all there
        newest = max(raw)
        gold = gold_files.get(f"{day.isoformat()}.parquet")
        if gold is not None and gold >= newest:
            continue
        out.append((day.isoformat(), newest))
    return out


def days_in_flight(instance: dg.DagsterInstance) -> set[str]:
    """Trading days that a queued or running run, or an unfinished backfill, will process."""
    from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

    from spymaster_assets.backfill import run_days

    busy: set[str] = set()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        busy.update(run_days(run))
    backfills = instance.get_backfills(
        filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
    )
    for backfill in backfills:
        if backfill.partition_names:
            busy.update(backfill.partition_names)
        data = backfill.asset_backfill_data
        if data is not None:
            for subset in data.target_subset.partitions_subsets_by_asset_key.values():
                busy.update(subset.get_partition_keys())
    return busy


@dg.sensor(
    job=jobs.daily_chain,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches data/raw: trading days whose Databento trades and mbp-10 files and Polygon "
        "options file are all present, and whose gold signals are missing or older than those "
        "files, get runs of the daily chain (consecutive days together, SPYMASTER_DAYS_PER_RUN "
        "per run). Days that a queued or running run or an unfinished backfill covers are left "
        "to it."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from spymaster_assets.defs.chain.assets import days_per_run
    from spymaster_assets.market.trading_calendar import consecutive_sessions

    due = dict(days_to_process(lake.layout))
    busy = days_in_flight(context.instance) & set(due)
    requests = []
    todo = [dt.date.fromisoformat(d) for d in due if d not in busy]
    for run in consecutive_sessions(todo, days_per_run()):
        days = [str(d) for d in run]
        # The run key changes when a raw file changes, so replaced files are processed again.
        stamp = hashlib.sha256(",".join(f"{d}:{due[d]}" for d in days).encode()).hexdigest()
        run_key = f"{days[0]}..{days[-1]}:{stamp[:16]}"
        if len(days) == 1:
            requests.append(dg.RunRequest(run_key=run_key, partition_key=days[0]))
            continue
        tags = {ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]}
        requests.append(dg.RunRequest(run_key=run_key, tags=tags))
    if not requests:
        reason = f" ({len(busy)} due days already in a run or backfill)" if busy else ""
        return dg.SkipReason(f"no complete trading day with new raw files{reason}")
    return requests


# Evaluates the automation conditions (gold/signals_vectorized is eager: rebuilt after any day's
# gold/signals changes). Running by default, unlike Dagster's own default sensor.
combined_file_automation = dg.AutomationConditionSensorDefinition(
    "combined_file_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Keeps gold/signals_vectorized up to date after daily partitions change.",
)
