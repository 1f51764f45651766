"""New raw files get processed without anyone clicking: a sensor on the raw folders."""

import dagster as dg

from spymaster_assets.defs.automation import jobs
from spymaster_assets.defs.resources import LakeResource
from spymaster_assets.market.trading_calendar import is_trading_day
from spymaster_assets.paths import DataLayout


def days_to_process(layout: DataLayout) -> list[tuple[str, int]]:
    """(trading day, newest raw mtime) for complete days whose gold is missing or older."""
    out = []
    for day in layout.raw_days():
        if not is_trading_day(day):
            continue
        raw = layout.raw_paths(day)
        if not all(p.exists() for p in raw):
            continue  # wait until the day's three files are all there
        newest = max(p.stat().st_mtime_ns for p in raw)
        gold = layout.lake_path("gold", "signals", day.isoformat())
        if gold.exists() and gold.stat().st_mtime_ns >= newest:
            continue
        out.append((day.isoformat(), newest))
    return out


@dg.sensor(
    job=jobs.daily_chain,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches data/raw: a trading day whose Databento trades and mbp-10 files and Polygon "
        "options file are all present, and whose gold signals are missing or older than those "
        "files, gets a run of the daily chain."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    requests = [
        # The run key changes when a raw file changes, so replaced files are processed again.
        dg.RunRequest(run_key=f"{day}:{newest}", partition_key=day)
        for day, newest in days_to_process(lake.layout)
    ]
    if not requests:
        return dg.SkipReason("no complete trading day with new raw files")
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
