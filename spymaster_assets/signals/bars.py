"""One-minute OHLCV bars from front-month trades, bucketed on ts_event floored to the minute.

Labelled by bar start; minutes without trades have no bar. Within a minute, open and close are
the first and last trade in (ts_event, sequence) order, which is how the bronze table is sorted.
This reproduces Databento's own ohlcv-1m bars exactly (tested on real files).
"""

from __future__ import annotations

import polars as pl

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows

PREMARKET = "PM"
RTH = "RTH"


def minute_bars(trades: pl.LazyFrame | pl.DataFrame, es_spy_ratio: float) -> pl.LazyFrame:
    """Bars of every minute that has trades; prices divided by `es_spy_ratio`."""
    spy = pl.col("price") / es_spy_ratio
    return (
        trades.lazy()
        .with_columns(ts_ns=(pl.col("ts_event") // NS_PER_MINUTE) * NS_PER_MINUTE)
        .group_by("ts_ns", maintain_order=True)
        .agg(
            open=spy.first(),
            high=spy.max(),
            low=spy.min(),
            close=spy.last(),
            volume=pl.col("size").sum().cast(pl.Int64),
            trades=pl.len().cast(pl.Int64),
            notional=(spy * pl.col("size")).sum(),
        )
        .sort("ts_ns", maintain_order=True)
    )


def session_bars(
    trades: pl.LazyFrame | pl.DataFrame, windows: SessionWindows, es_spy_ratio: float
) -> pl.DataFrame:
    """Pre-market and regular-hours bars of one trading day, with their session."""
    t = pl.col("ts_ns")
    return (
        minute_bars(trades, es_spy_ratio)
        .filter((t >= windows.premarket_start_ns) & (t < windows.rth_close_ns))
        .with_columns(
            session=pl.when(t < windows.rth_open_ns).then(pl.lit(PREMARKET)).otherwise(pl.lit(RTH))
        )
        .collect()
    )
