"""Physics of each touch (SPEC §6): option flow, barrier (book), tape (trades), fuel (gamma)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze.checks import ES_MBP10, ES_TRADES, SPY_OPTION_TRADES
from spymaster_assets.defs.daily import Day, DayOutput, daily_asset, json_counts, output
from spymaster_assets.defs.physics import checks
from spymaster_assets.defs.silver.checks import TOUCHES

if TYPE_CHECKING:
    import polars as pl

NUMBA = {"polars", "parquet", "numba"}


@daily_asset(
    checks.OPTION_FLOW,
    group="silver",
    checks=checks.OPTION_FLOW_CHECKS,
    inputs={"options": SPY_OPTION_TRADES, "es_trades": ES_TRADES},
    kinds=NUMBA,
    description=(
        "Every SPY 0DTE option trade valued: spot (last ES trade at or before it), time to the "
        "expiration's close (DST- and early-close-aware), implied volatility solved from the "
        "price, delta, gamma, customer side by the tick rule, and dealer gamma (dealers take the "
        "other side; shares per $1), with cumulative dealer gamma per strike and right."
    ),
)
def option_flow(day: Day, options: pl.LazyFrame, es_trades: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.defs.daily import params_from
    from spymaster_assets.physics.option_flow import FlowParams
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.schemas.columns import dtypes

    frame, unvalued = day.kernels.option_flow(
        options.collect(),
        es_trades.select("ts_event", "price").collect(),
        day.windows.rth_close_ns,
        params_from(FlowParams, day.settings),
    )
    frame = frame.cast(dtypes(schemas.OPTION_FLOW))
    solved = float((frame["iv_source"] == "solved").mean()) if frame.height else 1.0
    results = [
        ch.validate_schema(checks.OPTION_FLOW, schemas.OPTION_FLOW, frame),
        ch.threshold_result(
            checks.OPTION_FLOW, checks.IV_QUALITY, round(solved, 4), 0.5, at_least=True
        ),
    ]
    return output(
        frame,
        results,
        trades_without_spot=unvalued,
        iv_sources=json_counts(frame, "iv_source"),
        customer_sides=json_counts(frame, "customer_side"),
        net_dealer_gamma=float(frame["dealer_gamma"].sum()) if frame.height else 0.0,
    )


def _barrier_inputs(day: Day, touches: pl.LazyFrame | pl.DataFrame, es_trades: pl.LazyFrame):
    import polars as pl

    from spymaster_assets.market.trading_calendar import NS_PER_SECOND
    from spymaster_assets.physics.barrier import BarrierParams

    settings = day.settings
    windows = day.windows
    window_ns = int(settings.barrier_window_s * NS_PER_SECOND)
    lookback_ns = int(settings.weak_lookback_s * NS_PER_SECOND)
    lo = windows.rth_open_ns - lookback_ns
    trades = (
        es_trades.lazy()
        .select("ts_event", "price", "size", "side")
        .filter(pl.col("ts_event").is_between(lo, windows.rth_close_ns + window_ns, closed="left"))
        .collect()
    )
    params = BarrierParams(
        window_ns=window_ns,
        lookback_ns=lookback_ns,
        zone_ticks=settings.barrier_zone_es_ticks,
        f_thresh_frac=settings.f_thresh_frac,
        r_vac=settings.r_vac,
        r_wall=settings.r_wall,
        weak_percentile=settings.weak_percentile,
        ratio_cap=settings.replenishment_ratio_cap,
    )
    return touches.lazy().collect(), trades, params


def _table_of_this_run_or_lake(day: Day, key):
    """A table of the day as this run built it, else from the lake (when this run is not
    building it); None when neither is there yet."""
    from spymaster_assets.storage import scan_parquet

    if key in day.frames:
        return day.frames[key]
    path = day.lake.asset_path(key, day.partition_key)
    if key in day.selected or not path.exists():
        return None
    return scan_parquet(path)


def capture_barrier_books(day: Day):
    """An observer of bronze/es_mbp10's stream that computes barrier physics as the books go by
    (book_windows.WindowCapture), when the touches and trades of the day are at hand."""
    from spymaster_assets.physics.book_windows import WindowCapture

    touches = _table_of_this_run_or_lake(day, TOUCHES)
    es_trades = _table_of_this_run_or_lake(day, ES_TRADES)
    if touches is None or es_trades is None:
        return None
    signals, trades, params = _barrier_inputs(day, touches, es_trades)
    return WindowCapture(signals, trades, params, day.settings.es_spy_ratio, day.settings.es_tick)


@daily_asset(
    checks.BARRIER_PHYSICS,
    group="silver",
    checks=checks.BARRIER_PHYSICS_CHECKS,
    inputs={"touches": TOUCHES, "books": ES_MBP10, "es_trades": ES_TRADES},
    watch=(ES_MBP10, capture_barrier_books),
    kinds=NUMBA,
    description=(
        "What the defending side of the ES book did in the touch window [ts, ts + W_b): "
        "liquidity added, canceled and filled inside the zone (±BARRIER_ZONE_ES_TICKS around the "
        "level), replenishment ratio, depth in the zone at the end, wall ratio against the causal "
        "baseline of the WEAK_LOOKBACK before ts, and the barrier state (VACUUM, CONSUMED, WALL, "
        "ABSORPTION, WEAK, NEUTRAL). Computed while bronze/es_mbp10 streams the day's book when "
        "both run together, else from the bronze file: the same books, the same kernel."
    ),
)
def barrier_physics(
    day: Day, touches: pl.LazyFrame, books: pl.LazyFrame, es_trades: pl.LazyFrame
) -> DayOutput:
    from spymaster_assets.physics.book_windows import WindowBookReader
    from spymaster_assets.physics.rules import barrier_failures
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.schemas.columns import dtypes
    from spymaster_assets.signals.table_rules import same_keys

    settings = day.settings
    capture = day.shared.pop("silver/barrier_physics", None)
    if capture is not None and capture.valid:  # built from the same inputs before the stream
        signals = capture.touches
        frame = capture.frame()
        source = {
            "book_source": "bronze/es_mbp10 stream (same run)",
            "window_books": capture.window_books,
            "lookback_books": capture.lookback_books,
            "merged_windows": len(capture.windows),
        }
    else:
        signals, trades, params = _barrier_inputs(day, touches, es_trades)
        # Only the books inside the touch windows (a batch at a time), and one depth per book
        # over the lookbacks.
        reader = WindowBookReader(
            books, signals["ts_ns"].to_numpy(), params.window_ns, params.lookback_ns,
            settings.es_tick,
        )  # fmt: skip
        frame = day.kernels.barrier(
            signals,
            reader.batches(),
            trades,
            params,
            settings.es_spy_ratio,
            settings.es_tick,
            depths=reader.depths,
            lookback_books=reader.lookback_books(),
        )
        source = {
            "book_source": "bronze/es_mbp10 file",
            "window_books": reader.window_books,
            "lookback_books": len(reader.depths.ts),
            "merged_windows": len(reader.windows),
            "window_book_scans": reader.scans,
        }
    frame = frame.cast(dtypes(schemas.BARRIER_PHYSICS))
    results = [
        ch.validate_schema(checks.BARRIER_PHYSICS, schemas.BARRIER_PHYSICS, frame),
        ch.rules_result(
            checks.BARRIER_PHYSICS,
            checks.CONSISTENCY,
            barrier_failures(frame) + same_keys(frame, signals),
        ),
    ]
    return output(frame, results, **source, barrier_states=json_counts(frame, "barrier_state"))


@daily_asset(
    checks.TAPE_PHYSICS,
    group="silver",
    checks=checks.TAPE_PHYSICS_CHECKS,
    inputs={"touches": TOUCHES, "es_trades": ES_TRADES},
    kinds=NUMBA,
    description=(
        "Front-month trades of the touch window [ts, ts + W_t): buy and sell volume within "
        "TAPE_BAND of the level, imbalance, trades per second, and sweep detection."
    ),
)
def tape_physics(day: Day, touches: pl.LazyFrame, es_trades: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.market.trading_calendar import NS_PER_SECOND
    from spymaster_assets.physics.rules import tape_failures
    from spymaster_assets.physics.tape import TapeParams
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.schemas.columns import dtypes
    from spymaster_assets.signals.table_rules import same_keys

    settings = day.settings
    signals = touches.collect()
    params = TapeParams(
        window_ns=int(settings.tape_window_s * NS_PER_SECOND),
        band_es=settings.tape_band * settings.es_spy_ratio,
        max_gap_ns=int(settings.sweep_max_gap_ms * 1_000_000),
        min_notional=settings.sweep_min_notional,
        multiplier=settings.es_multiplier,
    )
    trades = es_trades.select("ts_event", "price", "size", "side").collect()
    frame = day.kernels.tape(signals, trades, params, settings.es_spy_ratio).cast(
        dtypes(schemas.TAPE_PHYSICS)
    )
    results = [
        ch.validate_schema(checks.TAPE_PHYSICS, schemas.TAPE_PHYSICS, frame),
        ch.rules_result(
            checks.TAPE_PHYSICS,
            checks.CONSISTENCY,
            tape_failures(frame) + same_keys(frame, signals),
        ),
    ]
    sweeps = int(frame["sweep_detected"].sum()) if frame.height else 0
    return output(frame, results, sweeps=sweeps)


@daily_asset(
    checks.FUEL_PHYSICS,
    group="silver",
    checks=checks.FUEL_PHYSICS_CHECKS,
    inputs={"touches": TOUCHES, "flow": checks.OPTION_FLOW},
    kinds=NUMBA,
    description=(
        "Dealer gamma near each signal's level as of its information time: Σ cumulative dealer "
        "gamma of 0DTE trades on strikes within FUEL_STRIKE_RANGE of the level, its share of the "
        "day's absolute dealer gamma so far (gamma_share), and the effect from that share "
        "(AMPLIFY when dealers are short beyond FUEL_SHARE_THRESHOLD, DAMPEN when long)."
    ),
)
def fuel_physics(day: Day, touches: pl.LazyFrame, flow: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.physics.fuel import FuelParams
    from spymaster_assets.physics.rules import fuel_failures
    from spymaster_assets.schemas import silver as schemas
    from spymaster_assets.schemas.columns import dtypes
    from spymaster_assets.signals.table_rules import same_keys

    settings = day.settings
    signals = touches.collect()
    params = FuelParams(
        strike_range=settings.fuel_strike_range, share_threshold=settings.fuel_share_threshold
    )
    frame = day.kernels.fuel(
        signals, flow.select("ts_ns", "strike", "dealer_gamma").collect(), params
    )
    frame = frame.cast(dtypes(schemas.FUEL_PHYSICS))
    results = [
        ch.validate_schema(checks.FUEL_PHYSICS, schemas.FUEL_PHYSICS, frame),
        ch.rules_result(
            checks.FUEL_PHYSICS,
            checks.CONSISTENCY,
            fuel_failures(frame, settings.fuel_share_threshold) + same_keys(frame, signals),
        ),
    ]
    return output(frame, results, fuel_effects=json_counts(frame, "fuel_effect"))
