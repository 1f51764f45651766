"""Silver: bars, causal levels, touches, approach context and labels of each trading day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze.checks import ES_TRADES
from spymaster_assets.defs.daily import Day, DayOutput, daily_asset, iso, json_counts, output
from spymaster_assets.defs.physics.checks import OPTION_FLOW
from spymaster_assets.defs.silver import checks

if TYPE_CHECKING:
    import polars as pl

# silver/levels reads the bars of this many earlier trading days (SMA_200 needs 200 two-minute
# closes: about one session; three days cover early closes).
SMA_HISTORY_DAYS = 3


@daily_asset(
    checks.OHLCV_1M,
    group="silver",
    checks=checks.OHLCV_1M_CHECKS,
    inputs={"es_trades": ES_TRADES},
    description=(
        "One-minute OHLCV bars of the front month from 04:00 ET to the close, labelled by bar "
        "start and bucketed on ts_event (Databento's own ohlcv-1m convention). Prices in SPY "
        "dollars (ES / ES_SPY_RATIO), volume in ES contracts; minutes without trades have no bar."
    ),
)
def ohlcv_1m(day: Day, es_trades: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.signals.bars import session_bars
    from spymaster_assets.signals.table_rules import bar_rules

    bars = session_bars(es_trades, day.windows, day.settings.es_spy_ratio)
    results = [
        ch.validate_schema(checks.OHLCV_1M, schemas.OHLCV_1M, bars),
        ch.rules_result(checks.OHLCV_1M, checks.BAR_CONSISTENCY, bar_rules(bars, day.windows)),
    ]
    return output(bars, results, bars_by_session=json_counts(bars, "session"))


@daily_asset(
    checks.LEVELS,
    group="silver",
    checks=checks.LEVELS_CHECKS,
    inputs={"bars": checks.OHLCV_1M, "option_flow": OPTION_FLOW},
    earlier_days=SMA_HISTORY_DAYS,
    description=(
        "The level universe for every regular-hours minute (SPEC §4), each value causal: PM and "
        "OR extremes once complete, session extremes and VWAP of the bars before, SMA_200 of "
        "completed 2-minute closes reaching into earlier days, ROUND dollars around the last "
        "close, 0DTE STRIKEs with enough volume so far, and CALL_WALL / PUT_WALL (the strike "
        "with the largest cumulative dealer gamma so far). Long format, SPY dollars rounded to "
        f"the cent. SMA_200 also reads the bars of the {SMA_HISTORY_DAYS} trading days before "
        "(from the same run, the lake, or rebuilt from their raw trades file): metadata "
        "sma_history says which, and the sma_history check warns when one could not be read."
    ),
)
def levels(day: Day, bars: pl.LazyFrame, option_flow: pl.LazyFrame) -> DayOutput:
    import polars as pl

    from spymaster_assets.defs.daily import params_from
    from spymaster_assets.market.trading_calendar import session_windows
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.signals.levels import LevelParams, compute_levels, sma_closes
    from spymaster_assets.signals.table_rules import causality_cut_times, causality_failures

    settings = day.settings
    windows = day.windows
    history = day.bar_history(day.day)
    prior = [
        sma_closes(frame, session_windows(prior_day), settings.sma_bar_minutes)
        for prior_day, frame in sorted(history.bars.items())
    ]
    prior_closes = (
        pl.concat(prior)
        if prior
        else pl.DataFrame(schema={"end_ns": pl.Int64, "close": pl.Float64})
    )
    bars = bars.collect()
    params = params_from(LevelParams, settings)
    flow = option_flow.select("ts_ns", "right", "strike", "size", "dealer_gamma").collect()
    frame = compute_levels(bars, prior_closes, windows, params, flow)
    cuts = causality_cut_times(windows, settings.or_minutes, day.day)
    results = [
        ch.validate_schema(checks.LEVELS, schemas.LEVELS, frame),
        ch.rules_result(
            checks.LEVELS,
            checks.CAUSALITY,
            causality_failures(frame, bars, prior_closes, windows, params, cuts, flow),
            cut_times=", ".join(iso(t) for t in cuts),
        ),
        ch.rules_result(
            checks.LEVELS,
            checks.SMA_HISTORY,
            history.problems,
            severity=dg.AssetCheckSeverity.WARN,
        ),
    ]
    return output(
        frame,
        results,
        levels_by_kind=json_counts(frame, "level_kind_name"),
        sma_history_days=len(prior),
        sma_history=dg.MetadataValue.json(history.sources),
    )


@daily_asset(
    checks.TOUCHES,
    group="silver",
    checks=checks.TOUCHES_CHECKS,
    inputs={"bars": checks.OHLCV_1M, "levels": checks.LEVELS},
    description=(
        "Signals (SPEC §5): regular-hours bars touching a level within TOUCH_BAND and closing "
        "within MONITOR_BAND of it, one row per (bar, level price); confluent kinds listed in "
        "level_kinds, level_kind the most specific. Direction UP when the bar opened below the "
        "level."
    ),
)
def touches(day: Day, bars: pl.LazyFrame, levels: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.signals.table_rules import touch_failures
    from spymaster_assets.signals.touches import TouchParams, find_touches

    settings = day.settings
    frame = find_touches(
        bars.collect(),
        levels.collect(),
        day.windows,
        TouchParams(settings.touch_band, settings.monitor_band),
    )
    results = [
        ch.validate_schema(checks.TOUCHES, schemas.TOUCHES, frame),
        ch.rules_result(
            checks.TOUCHES,
            checks.CRITICAL_ZONE,
            touch_failures(frame, day.windows, settings.monitor_band),
        ),
    ]
    return output(
        frame,
        results,
        signals_by_kind=json_counts(frame, "level_kind_name"),
        signals_by_direction=json_counts(frame, "direction"),
    )


@daily_asset(
    checks.APPROACH_CONTEXT,
    group="silver",
    checks=checks.APPROACH_CONTEXT_CHECKS,
    inputs={"touches": checks.TOUCHES, "bars": checks.OHLCV_1M},
    kinds={"polars", "parquet", "numba"},
    description=(
        "How price approached each signal's level (SPEC §7), from bars strictly before the "
        "touch bar over LOOKBACK_MINUTES: velocity toward the level ($/min), consecutive bars "
        "moving toward it, path length, earlier signals at the same level today, minutes since "
        "the open."
    ),
)
def approach_context(day: Day, touches: pl.LazyFrame, bars: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.signals.table_rules import same_keys

    settings = day.settings
    signals = touches.collect()
    frame = day.kernels.approach_context(
        signals, bars.collect(), day.windows, settings.lookback_minutes, settings.or_minutes
    )
    results = [
        ch.validate_schema(checks.APPROACH_CONTEXT, schemas.APPROACH_CONTEXT, frame),
        ch.rules_result(
            checks.APPROACH_CONTEXT, checks.ONE_ROW_PER_TOUCH, same_keys(frame, signals)
        ),
    ]
    return output(frame, results)


@daily_asset(
    checks.OUTCOME_LABELS,
    group="silver",
    checks=checks.OUTCOME_LABELS_CHECKS,
    inputs={"touches": checks.TOUCHES, "es_trades": ES_TRADES},
    kinds={"polars", "parquet", "numba"},
    description=(
        "Outcome of each signal (SPEC §8), decided by first passage on front-month trades after "
        "the information time (bar start + 60 s) within LOOKFORWARD_MINUTES, cut at the close: "
        "BREAK through the level or BOUNCE away by OUTCOME_THRESHOLD, else CHOP. The only "
        "forward-looking values in the dataset."
    ),
)
def outcome_labels(day: Day, touches: pl.LazyFrame, es_trades: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.signals.table_rules import label_failures

    settings = day.settings
    signals = touches.collect()
    trades = es_trades.select("ts_event", "price").collect()
    frame = day.kernels.outcome_labels(
        signals,
        trades,
        day.windows,
        settings.lookforward_minutes,
        settings.outcome_threshold,
        settings.es_spy_ratio,
        settings.label_thresholds,
        settings.label_horizons_min,
    )
    schema = schemas.outcome_labels_schema(settings.label_thresholds, settings.label_horizons_min)
    results = [
        ch.validate_schema(checks.OUTCOME_LABELS, schema, frame),
        ch.rules_result(
            checks.OUTCOME_LABELS,
            checks.LABEL_RULES,
            label_failures(
                frame,
                signals,
                day.windows,
                settings.outcome_threshold,
                settings.lookforward_minutes,
            ),
        ),
    ]
    return output(
        frame,
        results,
        outcomes=json_counts(frame, "outcome"),
        truncated=int(frame["label_truncated"].sum()) if frame.height else 0,
    )
