"""Rules of the silver tables (bars, levels, touches, labels), checked on each day's output.

Plain polars: the daily chain turns the failures into Dagster check results (defs/silver).
"""

import datetime as dt

import numpy as np
import polars as pl

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.signals.levels import LevelParams, compute_levels
from spymaster_assets.signals.rules import (
    direction_rule,
    label_grid_rules,
    label_rules,
    rule_failures,
    touch_rules,
)
from spymaster_assets.vocabulary import label_grid_of


def bar_rules(bars: pl.DataFrame, windows: SessionWindows) -> list[str]:
    rules = {
        "low <= open, close <= high": (pl.col("low") <= pl.min_horizontal("open", "close"))
        & (pl.col("high") >= pl.max_horizontal("open", "close")),
        "bar inside 04:00 ET .. close": (pl.col("ts_ns") >= windows.premarket_start_ns)
        & (pl.col("ts_ns") < windows.rth_close_ns),
        "bars sorted by start": pl.col("ts_ns").diff().fill_null(1) > 0,
    }
    return rule_failures(bars, rules)


def causality_cut_times(
    windows: SessionWindows, or_minutes: int, day: dt.date, n_random: int = 3
) -> list[int]:
    """Cut times: the open, the opening range's end, an hour in, and a few chosen by the date."""
    open_, close = windows.rth_open_ns, windows.rth_close_ns
    fixed = [
        open_,
        open_ + NS_PER_MINUTE,
        windows.opening_range_end_ns(or_minutes),
        open_ + 60 * NS_PER_MINUTE,
    ]
    minutes = (close - open_) // NS_PER_MINUTE
    rng = np.random.default_rng(day.toordinal())
    chosen = [open_ + int(m) * NS_PER_MINUTE for m in rng.integers(1, minutes, n_random)]
    return sorted({t for t in fixed + chosen if t < close})


def causality_failures(
    levels: pl.DataFrame,
    bars: pl.DataFrame,
    prior_sma_closes: pl.DataFrame,
    windows: SessionWindows,
    params: LevelParams,
    cut_times: list[int],
    option_flow: pl.DataFrame | None = None,
) -> list[str]:
    """Recompute levels from data before T (bars, option trades); compare rows with ts_ns <= T."""
    failures = []
    for cut in cut_times:
        flow = None if option_flow is None else option_flow.filter(pl.col("ts_ns") < cut)
        truncated = compute_levels(
            bars.filter(pl.col("ts_ns") < cut), prior_sma_closes, windows, params, flow
        )
        expect = levels.filter(pl.col("ts_ns") <= cut)
        got = truncated.filter(pl.col("ts_ns") <= cut)
        if not expect.equals(got):
            diff = expect.join(got, on=list(expect.columns), how="anti").height
            diff += got.join(expect, on=list(expect.columns), how="anti").height
            failures.append(f"cut at {cut}: {diff} level rows differ from the full-day result")
    return failures


def with_session(frame: pl.DataFrame, windows: SessionWindows) -> pl.DataFrame:
    return frame.with_columns(
        open_ns=pl.lit(windows.rth_open_ns), close_ns=pl.lit(windows.rth_close_ns)
    )


def touch_failures(
    touches: pl.DataFrame, windows: SessionWindows, monitor_band: float
) -> list[str]:
    return rule_failures(
        with_session(touches, windows), {**touch_rules(monitor_band), **direction_rule()}
    )


def same_keys(frame: pl.DataFrame, touches: pl.DataFrame) -> list[str]:
    key = ["ts_ns", "level_price"]
    if frame.select(key).sort(key).equals(touches.select(key).sort(key)):
        return []
    return [f"{frame.height} rows for {touches.height} touches, or different keys"]


def label_failures(
    labels: pl.DataFrame,
    touches: pl.DataFrame,
    windows: SessionWindows,
    threshold: float,
    lookforward: int,
) -> list[str]:
    thresholds, horizons = label_grid_of(labels.columns)
    with_info = with_session(labels, windows).join(
        touches.select("ts_ns", "level_price", "info_ts_ns"),
        on=["ts_ns", "level_price"],
        how="left",
    )
    return same_keys(labels, touches) + rule_failures(
        with_info,
        {
            **label_rules(threshold, lookforward),
            **label_grid_rules(thresholds, horizons, threshold, lookforward),
        },
    )
