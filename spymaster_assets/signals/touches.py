"""Touches and the critical zone (SPEC §5): one signal per (bar, level price to the cent).

A regular-hours bar touches level L when low - TOUCH_BAND <= L <= high + TOUCH_BAND, and the
touch is a signal when |close - L| <= MONITOR_BAND. All comparisons run on exact integer
thousandths of a dollar (`prices.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.silver import TOUCHES
from spymaster_assets.signals.bars import RTH
from spymaster_assets.signals.prices import MILLI, milli_expr
from spymaster_assets.vocabulary import DOWN, LEVEL_KINDS, UP

TOUCH_COLUMNS = dtypes(TOUCHES)


@dataclass(frozen=True)
class TouchParams:
    touch_band: float
    monitor_band: float


def _direction_on_ties(ties: pl.DataFrame, bars: pl.DataFrame) -> pl.DataFrame:
    """An open exactly at L takes the side of the previous close that is not at L.

    Below L means price comes up to it (UP). With no such close (the day so far sat on L), UP.
    """
    ts = bars["ts_ns"].to_numpy()
    close_m = (bars["close"].to_numpy() * MILLI).round().astype(np.int64)
    out = []
    for bar_ts, level_m in ties.select("ts_ns", "level_m").iter_rows():
        i = int(np.searchsorted(ts, bar_ts, side="left"))  # bars strictly before this one
        previous = close_m[:i][close_m[:i] != level_m]
        out.append(DOWN if len(previous) and previous[-1] > level_m else UP)
    return ties.with_columns(direction=pl.Series(out, dtype=pl.String))


def find_touches(
    bars: pl.DataFrame, levels: pl.DataFrame, windows: SessionWindows, params: TouchParams
) -> pl.DataFrame:
    """Signals of one day, sorted by (ts_ns, level_price)."""
    tb = round(params.touch_band * MILLI)
    mb = round(params.monitor_band * MILLI)
    last_start = windows.rth_close_ns - NS_PER_MINUTE
    candidates = bars.filter(
        (pl.col("session") == RTH)
        & (pl.col("ts_ns") >= windows.rth_open_ns)
        & (pl.col("ts_ns") <= last_start)
    ).select("ts_ns", "open", "high", "low", "close")
    joined = (
        candidates.join(levels, on="ts_ns", how="inner")
        .with_columns(
            level_m=milli_expr("level_price"),
            open_m=milli_expr("open"),
            close_m=milli_expr("close"),
        )
        .filter(
            (milli_expr("low") - tb <= pl.col("level_m"))
            & (pl.col("level_m") <= milli_expr("high") + tb)
            & ((pl.col("close_m") - pl.col("level_m")).abs() <= mb)
        )
    )
    grouped = (
        joined.sort(["ts_ns", "level_m", "level_kind"])
        .group_by(["ts_ns", "level_m"], maintain_order=True)
        .agg(
            level_price=pl.col("level_price").first(),
            level_kind=pl.col("level_kind").min(),
            level_kinds=pl.col("level_kind_name").unique(maintain_order=True),
            open_m=pl.col("open_m").first(),
            close_m=pl.col("close_m").first(),
            bar_open=pl.col("open").first(),
            spot=pl.col("close").first(),
        )
        .with_columns(
            direction=pl.when(pl.col("open_m") < pl.col("level_m"))
            .then(pl.lit(UP))
            .when(pl.col("open_m") > pl.col("level_m"))
            .then(pl.lit(DOWN))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
    )
    ties = grouped.filter(pl.col("direction").is_null())
    if ties.height:
        resolved = _direction_on_ties(ties.drop("direction"), bars.sort("ts_ns"))
        grouped = pl.concat([grouped.filter(pl.col("direction").is_not_null()), resolved]).sort(
            ["ts_ns", "level_m"]
        )
    return grouped.select(
        ts_ns="ts_ns",
        info_ts_ns=pl.col("ts_ns") + NS_PER_MINUTE,
        level_price="level_price",
        level_kind=pl.col("level_kind").cast(pl.Int8),
        level_kind_name=pl.col("level_kind").replace_strict(
            dict(enumerate(LEVEL_KINDS)), return_dtype=pl.String
        ),
        level_kinds="level_kinds",
        direction="direction",
        distance=(pl.col("close_m") - pl.col("level_m")).abs().cast(pl.Float64) / MILLI,
        spot="spot",
        bar_open="bar_open",
    ).cast(TOUCH_COLUMNS)
