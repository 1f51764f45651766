"""Approach context (SPEC §7): how price came to the level, from bars strictly before the touch.

With s = +1 for UP and -1 for DOWN, over bars starting in [ts - LOOKBACK, ts):
velocity s * (last close - first close) / minutes between them; the count of consecutive bars,
ending right before the touch, whose close moved toward the level; the path length. Nulls where
the window has too few bars to say (never a 0.0 standing in for "missing").
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.silver import APPROACH_CONTEXT
from spymaster_assets.signals.prices import MILLI, to_milli
from spymaster_assets.vocabulary import LEVEL_CODE, MOVING_KINDS, UP

APPROACH_COLUMNS = dtypes(APPROACH_CONTEXT)


@njit(cache=True)
def approach_kernel(
    bar_ts: np.ndarray,
    bar_close_m: np.ndarray,
    touch_ts: np.ndarray,
    sign: np.ndarray,
    lookback_ns: int,
    velocity: np.ndarray,
    bars_toward: np.ndarray,
    path_m: np.ndarray,
) -> None:
    """Fill velocity ($/min, NaN if < 2 bars), bars toward (-1 if none), path (milli, -1 if none)."""
    for i in range(len(touch_ts)):
        lo = np.searchsorted(bar_ts, touch_ts[i] - lookback_ns, side="left")
        hi = np.searchsorted(bar_ts, touch_ts[i], side="left")
        n = hi - lo
        if n == 0:
            velocity[i] = np.nan
            bars_toward[i] = -1
            path_m[i] = -1
            continue
        if n >= 2:
            minutes = (bar_ts[hi - 1] - bar_ts[lo]) / 60e9
            velocity[i] = sign[i] * (bar_close_m[hi - 1] - bar_close_m[lo]) / 1000.0 / minutes
        else:
            velocity[i] = np.nan
        path = 0
        for p in range(lo + 1, hi):
            path += abs(bar_close_m[p] - bar_close_m[p - 1])
        path_m[i] = path
        count = 0
        for p in range(hi - 1, lo, -1):
            if sign[i] * (bar_close_m[p] - bar_close_m[p - 1]) > 0:
                count += 1
            else:
                break
        bars_toward[i] = count


def approach_context(
    touches: pl.DataFrame,
    bars: pl.DataFrame,
    windows: SessionWindows,
    lookback_minutes: int,
    or_minutes: int,
) -> pl.DataFrame:
    bars = bars.sort("ts_ns")
    n = touches.height
    velocity = np.empty(n)
    toward = np.empty(n, dtype=np.int64)
    path = np.empty(n, dtype=np.int64)
    sign = np.where(touches["direction"].to_numpy() == UP, 1, -1).astype(np.int64)
    approach_kernel(
        bars["ts_ns"].to_numpy(),
        to_milli(bars["close"].to_numpy()),
        touches["ts_ns"].to_numpy(),
        sign,
        lookback_minutes * NS_PER_MINUTE,
        velocity,
        toward,
        path,
    )
    moving = [LEVEL_CODE[k] for k in MOVING_KINDS]
    same_level = pl.struct(
        "level_kind",
        pl.when(pl.col("level_kind").is_in(moving)).then(None).otherwise(pl.col("level_price")),
    )
    or_end = windows.opening_range_end_ns(or_minutes)
    return touches.select(
        "ts_ns",
        "level_price",
        approach_velocity=pl.Series(velocity).fill_nan(None),
        approach_bars=pl.Series(toward).replace(-1, None),
        approach_distance=pl.Series(path).replace(-1, None).cast(pl.Float64) / MILLI,
        prior_touches=(pl.col("ts_ns").rank("min").over(same_level) - 1),
        bars_since_open=(pl.col("ts_ns") - windows.rth_open_ns) // NS_PER_MINUTE,
        is_first_15m=(pl.col("ts_ns") >= windows.rth_open_ns) & (pl.col("ts_ns") < or_end),
    ).cast(APPROACH_COLUMNS)
