"""Silver: bars, causal levels, touches, approach context and labels of each trading day."""

import datetime as dt

import dagster as dg
import polars as pl

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze.checks import ES_TRADES
from spymaster_assets.defs.daily_assets import counts_by, emit, iso, params_from, silver_asset
from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.defs.resources import (
    PARTITIONS_AS_DICT,
    SMA_HISTORY_DAYS,
    LakeResource,
    trading_day_of,
)
from spymaster_assets.defs.silver import checks
from spymaster_assets.market.trading_calendar import session_windows, trading_days
from spymaster_assets.paths import DataLayout
from spymaster_assets.schemas import silver as schemas
from spymaster_assets.settings import SpymasterConfig
from spymaster_assets.signals.bars import session_bars
from spymaster_assets.signals.levels import LevelParams, compute_levels, sma_closes
from spymaster_assets.signals.touches import TouchParams, find_touches

OPTION_FLOW = dg.AssetKey(["silver", "option_flow"])


@silver_asset(
    checks.OHLCV_1M,
    schemas.OHLCV_1M,
    checks.OHLCV_1M_CHECKS,
    "One-minute OHLCV bars of the front month from 04:00 ET to the close, labelled by bar start "
    "and bucketed on ts_event (Databento's own ohlcv-1m convention). Prices in SPY dollars "
    "(ES / ES_SPY_RATIO), volume in ES contracts; minutes without trades have no bar.",
    ins={"es_trades": dg.AssetIn(ES_TRADES)},
)
def ohlcv_1m(context: dg.AssetExecutionContext, settings: SpymasterConfig, es_trades: pl.LazyFrame):
    windows = session_windows(trading_day_of(context))
    bars = session_bars(es_trades, windows, settings.es_spy_ratio)
    results = [
        ch.validate_schema(checks.OHLCV_1M, schemas.OHLCV_1M, bars),
        ch.rules_result(checks.OHLCV_1M, checks.BAR_CONSISTENCY, checks.bar_rules(bars, windows)),
    ]
    yield from emit(
        bars, results, bars_by_session=dg.MetadataValue.json(counts_by(bars, "session"))
    )


@silver_asset(
    checks.LEVELS,
    schemas.LEVELS,
    checks.LEVELS_CHECKS,
    "The level universe for every regular-hours minute (SPEC §4), each value causal: PM and OR "
    "extremes once complete, session extremes and VWAP of the bars before, SMA_200 of completed "
    "2-minute closes reaching into earlier days, ROUND dollars around the last close, 0DTE "
    "STRIKEs with enough volume so far, and CALL_WALL / PUT_WALL (the strike with the largest "
    "cumulative dealer gamma so far). Long format, SPY dollars rounded to the cent.",
    ins={
        "bars_window": dg.AssetIn(
            checks.OHLCV_1M,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-SMA_HISTORY_DAYS,
                end_offset=0,
                allow_nonexistent_upstream_partitions=True,
            ),
            metadata={PARTITIONS_AS_DICT: True},
        ),
        "option_flow": dg.AssetIn(OPTION_FLOW),
    },
)
def levels(
    context: dg.AssetExecutionContext,
    settings: SpymasterConfig,
    lake: LakeResource,
    bars_window: dict[str, pl.LazyFrame],
    option_flow: pl.LazyFrame,
):
    day = trading_day_of(context)
    windows = session_windows(day)
    require_bar_history(day, bars_window, lake.layout)
    bars = bars_window.pop(context.partition_key).collect()
    prior = [
        sma_closes(
            frame.collect(), session_windows(dt.date.fromisoformat(key)), settings.sma_bar_minutes
        )
        for key, frame in sorted(bars_window.items())
    ]
    prior_closes = (
        pl.concat(prior)
        if prior
        else pl.DataFrame(schema={"end_ns": pl.Int64, "close": pl.Float64})
    )
    params = params_from(LevelParams, settings)
    flow = option_flow.select("ts_ns", "right", "strike", "size", "dealer_gamma").collect()
    frame = compute_levels(bars, prior_closes, windows, params, flow)
    cuts = checks.causality_cut_times(windows, settings.or_minutes, day)
    results = [
        ch.validate_schema(checks.LEVELS, schemas.LEVELS, frame),
        ch.rules_result(
            checks.LEVELS,
            checks.CAUSALITY,
            checks.causality_failures(frame, bars, prior_closes, windows, params, cuts, flow),
            cut_times=", ".join(iso(t) for t in cuts),
        ),
    ]
    yield from emit(
        frame,
        results,
        levels_by_kind=dg.MetadataValue.json(counts_by(frame, "level_kind_name")),
        sma_history_days=len(prior),
    )


def require_bar_history(day: dt.date, bars_window: dict[str, pl.LazyFrame], layout: DataLayout):
    """The day's bars, and bars for every earlier day of the window that has an ES trades file.

    A history day before the data set starts simply has no bars (SMA_200 then starts later).
    A day whose trades file is present but whose bars are not materialized yet would silently
    give a different SMA_200, so it is an error: runs must go in date order.
    """
    if str(day) not in bars_window:
        raise dg.Failure(f"silver/ohlcv_1m has no data for {day}: materialize it first")
    missing = [
        prior
        for prior in trading_days(day - dt.timedelta(days=10), day)[-SMA_HISTORY_DAYS - 1 : -1]
        if str(prior) not in bars_window and layout.existing_dbn_path("trades", prior).exists()
    ]
    if missing:
        dates = ", ".join(str(d) for d in missing)
        raise dg.Failure(
            f"silver/levels {day}: SMA_200 history incomplete: silver/ohlcv_1m is not "
            f"materialized for {dates} although its ES trades file is present. Materialize "
            "those days first (runs of the daily chain go in date order)."
        )


@silver_asset(
    checks.TOUCHES,
    schemas.TOUCHES,
    checks.TOUCHES_CHECKS,
    "Signals (SPEC §5): regular-hours bars touching a level within TOUCH_BAND and closing within "
    "MONITOR_BAND of it, one row per (bar, level price); confluent kinds listed in level_kinds, "
    "level_kind the most specific. Direction UP when the bar opened below the level.",
    ins={"bars": dg.AssetIn(checks.OHLCV_1M), "levels": dg.AssetIn(checks.LEVELS)},
)
def touches(
    context: dg.AssetExecutionContext,
    settings: SpymasterConfig,
    bars: pl.LazyFrame,
    levels: pl.LazyFrame,
):
    windows = session_windows(trading_day_of(context))
    frame = find_touches(
        bars.collect(),
        levels.collect(),
        windows,
        TouchParams(settings.touch_band, settings.monitor_band),
    )
    results = [
        ch.validate_schema(checks.TOUCHES, schemas.TOUCHES, frame),
        ch.rules_result(
            checks.TOUCHES,
            checks.CRITICAL_ZONE,
            checks.touch_failures(frame, windows, settings.monitor_band),
        ),
    ]
    yield from emit(
        frame,
        results,
        signals_by_kind=dg.MetadataValue.json(counts_by(frame, "level_kind_name")),
        signals_by_direction=dg.MetadataValue.json(counts_by(frame, "direction")),
    )


@silver_asset(
    checks.APPROACH_CONTEXT,
    schemas.APPROACH_CONTEXT,
    checks.APPROACH_CONTEXT_CHECKS,
    "How price approached each signal's level (SPEC §7), from bars strictly before the touch bar "
    "over LOOKBACK_MINUTES: velocity toward the level ($/min), consecutive bars moving toward it, "
    "path length, earlier signals at the same level today, minutes since the open.",
    ins={"touches": dg.AssetIn(checks.TOUCHES), "bars": dg.AssetIn(checks.OHLCV_1M)},
    extra_kinds={"numba"},
)
def approach_context(
    context: dg.AssetExecutionContext,
    settings: SpymasterConfig,
    kernels: NumbaKernels,
    touches: pl.LazyFrame,
    bars: pl.LazyFrame,
):
    windows = session_windows(trading_day_of(context))
    signals = touches.collect()
    frame = kernels.approach_context(
        signals, bars.collect(), windows, settings.lookback_minutes, settings.or_minutes
    )
    results = [
        ch.validate_schema(checks.APPROACH_CONTEXT, schemas.APPROACH_CONTEXT, frame),
        ch.rules_result(
            checks.APPROACH_CONTEXT, checks.ONE_ROW_PER_TOUCH, checks.same_keys(frame, signals)
        ),
    ]
    yield from emit(frame, results)


@silver_asset(
    checks.OUTCOME_LABELS,
    schemas.OUTCOME_LABELS,
    checks.OUTCOME_LABELS_CHECKS,
    "Outcome of each signal (SPEC §8), decided by first passage on front-month trades after the "
    "information time (bar start + 60 s) within LOOKFORWARD_MINUTES, cut at the close: BREAK "
    "through the level or BOUNCE away by OUTCOME_THRESHOLD, else CHOP. The only forward-looking "
    "values in the dataset.",
    ins={"touches": dg.AssetIn(checks.TOUCHES), "es_trades": dg.AssetIn(ES_TRADES)},
    extra_kinds={"numba"},
)
def outcome_labels(
    context: dg.AssetExecutionContext,
    settings: SpymasterConfig,
    kernels: NumbaKernels,
    touches: pl.LazyFrame,
    es_trades: pl.LazyFrame,
):
    windows = session_windows(trading_day_of(context))
    signals = touches.collect()
    trades = es_trades.select("ts_event", "price").collect()
    frame = kernels.outcome_labels(
        signals,
        trades,
        windows,
        settings.lookforward_minutes,
        settings.outcome_threshold,
        settings.es_spy_ratio,
    )
    results = [
        ch.validate_schema(checks.OUTCOME_LABELS, schemas.OUTCOME_LABELS, frame),
        ch.rules_result(
            checks.OUTCOME_LABELS,
            checks.LABEL_RULES,
            checks.label_failures(
                frame, signals, windows, settings.outcome_threshold, settings.lookforward_minutes
            ),
        ),
    ]
    yield from emit(
        frame,
        results,
        outcomes=dg.MetadataValue.json(counts_by(frame, "outcome")),
        truncated=int(frame["label_truncated"].sum()) if frame.height else 0,
    )
