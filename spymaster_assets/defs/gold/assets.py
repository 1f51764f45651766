"""Gold: the research dataset, one row per signal, per day (daily chain) and combined."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze.checks import ES_TRADES
from spymaster_assets.defs.column_schema import column_schema
from spymaster_assets.defs.daily import Day, DayOutput, counts_by, daily_asset, time_range
from spymaster_assets.defs.gold import checks
from spymaster_assets.defs.physics import checks as physics
from spymaster_assets.defs.resources import LAKE_PATH, LakeResource, StagedParquet
from spymaster_assets.defs.silver import checks as silver
from spymaster_assets.settings import SpymasterConfig

if TYPE_CHECKING:
    import polars as pl

    from spymaster_assets.signals.validation import ValidationReport

RESEARCH_FILE = "gold/research/signals_vectorized.parquet"


def _validate(
    frame: pl.DataFrame, settings: SpymasterConfig, bar_opens: pl.DataFrame | None
) -> ValidationReport:
    from spymaster_assets.signals.validation import validate_signals

    return validate_signals(
        frame,
        monitor_band=settings.monitor_band,
        outcome_threshold=settings.outcome_threshold,
        lookforward_minutes=settings.lookforward_minutes,
        bar_opens=bar_opens,
    )


def _research_metadata(frame: pl.DataFrame) -> dict:
    from spymaster_assets.signals.realism import day_figures, missed_targets

    figures = day_figures(frame)
    return {
        # the figures a researcher checks first, against a real-size day's (signals/realism.py)
        "realism": dg.MetadataValue.json(figures),
        "realism_missed": dg.MetadataValue.json(missed_targets(figures)),
        "outcomes": dg.MetadataValue.json(counts_by(frame, "outcome")),
        "signals_by_kind": dg.MetadataValue.json(counts_by(frame, "level_kind_name")),
        "barrier_states": dg.MetadataValue.json(counts_by(frame, "barrier_state")),
        "fuel_effects": dg.MetadataValue.json(counts_by(frame, "fuel_effect")),
        # the part of the signals flagged as sweeps (SPEC §6: rare bursts, not every minute)
        "sweep_share": figures.get("sweep_share", 0.0),
        # the class mix of every label-grid pair (SPEC §8): which targets are worth learning
        "label_grid": dg.MetadataValue.json(
            {c: counts_by(frame, c) for c in frame.columns if c.startswith("outcome_t")}
        ),
        **time_range(frame),
    }


@daily_asset(
    checks.SIGNALS,
    group="gold",
    checks=checks.SIGNALS_CHECKS,
    inputs={
        "touches": silver.TOUCHES,
        "barrier": physics.BARRIER_PHYSICS,
        "tape": physics.TAPE_PHYSICS,
        "fuel": physics.FUEL_PHYSICS,
        "approach": silver.APPROACH_CONTEXT,
        "labels": silver.OUTCOME_LABELS,
        "bars": silver.OHLCV_1M,
        "es_trades": ES_TRADES,
    },
    description=(
        "One row per signal of the trading day with every SPEC §9 column: identity (stable "
        "UUID5 event_id), level, barrier, tape and fuel physics, approach context and outcome "
        "labels. Prices in SPY dollars, times in UTC ns; features known at info_ts_ns, labels "
        "after it."
    ),
)
def signals(
    day: Day,
    touches: pl.LazyFrame,
    barrier: pl.LazyFrame,
    tape: pl.LazyFrame,
    fuel: pl.LazyFrame,
    approach: pl.LazyFrame,
    labels: pl.LazyFrame,
    bars: pl.LazyFrame,
    es_trades: pl.LazyFrame,
) -> DayOutput:
    from spymaster_assets.schemas.columns import dtypes
    from spymaster_assets.schemas.gold import signals_schema
    from spymaster_assets.signals.gold import gold_signals

    schema = signals_schema(day.settings.label_thresholds, day.settings.label_horizons_min)
    contract = es_trades.select("es_contract").head(1).collect()
    es_contract = contract.item() if contract.height else ""
    features = [t.collect() for t in (barrier, tape, fuel, approach, labels)]
    frame = gold_signals(day.day, es_contract, touches.collect(), features, dtypes(schema))
    report = _validate(frame, day.settings, bars.select("ts_ns", "open").collect())
    results = [
        ch.validate_schema(checks.SIGNALS, schema, frame),
        ch.rules_result(checks.SIGNALS, checks.VALIDATION, report.errors),
        ch.rules_result(
            checks.SIGNALS, checks.PHYSICS_VARIES, checks.constant_physics_columns(frame)
        ),
    ]
    return DayOutput(
        frame=frame,
        checks=results,
        metadata={"es_contract": es_contract, **_research_metadata(frame)},
    )


# A day of gold/signals materialized after both the last request of the combined file and its
# last materialization. Two `since` with one plain condition each side, not any_deps_updated()
# .since_last_handled(): both are built from `and`/`or`, which drop the event timestamps, so a
# day landing between the rebuild's end and the next tick lost to the rebuild's own update and
# stayed out of the file. With timestamps on both sides, the later event wins. A failed rebuild
# is not retried until a day changes.
_DAY_UPDATED = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
_COMBINED_FILE_IS_BEHIND = _DAY_UPDATED.since(
    dg.AutomationCondition.newly_requested()
) & _DAY_UPDATED.since(dg.AutomationCondition.newly_updated())


@dg.asset(
    key=checks.SIGNALS_VECTORIZED,
    group_name="gold",
    kinds={"polars", "parquet"},
    deps=[checks.SIGNALS],
    check_specs=checks.SIGNALS_VECTORIZED_CHECKS,
    # Rebuilt by the daemon once days of gold/signals were materialized and no run or backfill
    # is still working on gold/signals (a year's backfill rebuilds it once, at the end, not on
    # every tick). eager() would wait for every partition of the 13-year horizon to exist, so
    # the condition is spelled out: see _COMBINED_FILE_IS_BEHIND.
    automation_condition=_COMBINED_FILE_IS_BEHIND
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress(),
    metadata={"dagster/column_schema": column_schema("gold/signals"), LAKE_PATH: RESEARCH_FILE},
    description=(
        "Every materialized day of gold/signals in one file, sorted by ts_ns: "
        f"lake/{RESEARCH_FILE}, the file to open in a notebook."
    ),
)
def signals_vectorized(settings: SpymasterConfig, lake: LakeResource):
    import polars as pl

    from spymaster_assets.defs.resources import PARQUET_WRITE
    from spymaster_assets.schemas.gold import signals_schema_of
    from spymaster_assets.signals.gold import SIGNAL_COLUMNS
    from spymaster_assets.storage import atomic_path, exclusive_lock, file_identity, read_parquet

    final = lake.asset_path(checks.SIGNALS_VECTORIZED, None, RESEARCH_FILE)
    # Runs of different days finish at any time and each rebuilds this file: reading the days
    # and replacing the file happen under one lock, so the last rebuild holds every day.
    day_dir = lake.layout.lake_dir("gold", "signals")

    def day_files() -> dict:
        return {f: file_identity(f) for f in sorted(day_dir.glob("*.parquet"))}

    with exclusive_lock(final):
        # A run of other days may write while this one reads: read again until the days stand
        # still, so a day written during the rebuild is in the file (not only in the next one).
        # On an object store the lock only covers this machine; the re-read after writing is
        # what keeps workers of other machines from leaving a file that lacks their day.
        for _ in range(5):
            read = day_files()
            files = list(read)
            frames = [read_parquet(f) for f in files]
            # days written under another label grid show up as nulls in the schema check
            frame = (
                pl.concat(frames, how="diagonal_relaxed")
                if frames
                else pl.DataFrame(schema=SIGNAL_COLUMNS)
            )
            frame = frame.sort("ts_ns", "level_price", maintain_order=True)
            with atomic_path(final) as tmp:
                frame.write_parquet(tmp, **PARQUET_WRITE)
            if day_files() == read:
                break
    report = _validate(frame, settings, None)
    days = frame["date"].n_unique() if frame.height else 0
    combined = [] if days == len(files) else [f"{len(files)} day files but {days} days combined"]
    if frame.height and not frame["ts_ns"].is_sorted():
        combined.append("not sorted by ts_ns")
    results = [
        ch.validate_schema(checks.SIGNALS_VECTORIZED, signals_schema_of(frame.columns), frame),
        ch.rules_result(checks.SIGNALS_VECTORIZED, checks.VALIDATION, report.errors),
        ch.rules_result(checks.SIGNALS_VECTORIZED, checks.COMBINED, combined),
    ]
    yield dg.Output(
        StagedParquet(final, frame.height),  # already in place: the IO manager only records it
        metadata={
            "days": days,
            "outcomes_by_day": dg.MetadataValue.md(
                report.by_day.to_pandas().to_markdown(index=False)
            )
            if report.by_day is not None and frame.height
            else "",
            **_research_metadata(frame),
            **ch.summary_metadata(results),
        },
    )
    yield from results
