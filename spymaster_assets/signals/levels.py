"""The level universe for every regular-hours minute, each value causal (SPEC §4).

For the bar starting at minute t, every level uses only bars that started before t (and, for
SMA_200, 2-minute bars that completed by t). Levels are computed for every minute of the session
[open, close - 1 min], whether or not that minute has a bar, so the table can be recomputed from
data cut at any time T and compared row for row (the causality check).

Output is long: one row per (minute, kind, price), prices in SPY dollars rounded to the cent.
STRIKE, CALL_WALL and PUT_WALL need option flow and are not produced yet; their codes exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.silver import LEVELS
from spymaster_assets.signals.bars import PREMARKET, RTH
from spymaster_assets.signals.prices import MILLI, mean_to_cent, to_cent, to_milli
from spymaster_assets.vocabulary import LEVEL_CODE

LEVEL_COLUMNS = dtypes(LEVELS)


@dataclass(frozen=True)
class LevelParams:
    or_minutes: int
    strike_range: float
    sma_period: int
    sma_bar_minutes: int
    strike_min_volume: int = 100
    wall_min_gamma: float = 20_000.0


FLOW_COLUMNS = ("ts_ns", "right", "strike", "size", "dealer_gamma")


def session_minutes(windows: SessionWindows) -> np.ndarray:
    """Start of every regular-hours minute: [open, close - 1 min]."""
    return np.arange(windows.rth_open_ns, windows.rth_close_ns, NS_PER_MINUTE, dtype=np.int64)


def sma_closes(bars: pl.DataFrame, windows: SessionWindows, bar_minutes: int) -> pl.DataFrame:
    """Completed n-minute RTH closes of one day: (end_ns, close), aligned on the open."""
    width = bar_minutes * NS_PER_MINUTE
    return (
        bars.lazy()
        .filter(pl.col("session") == RTH)
        .with_columns(bucket=(pl.col("ts_ns") - windows.rth_open_ns) // width)
        .group_by("bucket", maintain_order=True)
        .agg(close=pl.col("close").last())
        .select(
            end_ns=(windows.rth_open_ns + (pl.col("bucket") + 1) * width).clip(
                upper_bound=windows.rth_close_ns
            ),
            close="close",
        )
        .sort("end_ns")
        .collect()
    )


def _rows(kind: str, minutes: np.ndarray, values: np.ndarray) -> pl.DataFrame:
    ok = ~np.isnan(values)
    return pl.DataFrame(
        {
            "ts_ns": minutes[ok],
            "level_kind": np.full(ok.sum(), LEVEL_CODE[kind], dtype=np.int8),
            "level_kind_name": np.full(ok.sum(), kind, dtype=object).astype(str),
            "level_price": to_cent(values[ok]),
        },
        schema=LEVEL_COLUMNS,
    )


def _before(bar_ts: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """How many bars started strictly before each minute."""
    return np.searchsorted(bar_ts, minutes, side="left")


def _prefix_extreme(values: np.ndarray, count: np.ndarray, op) -> np.ndarray:
    """op-accumulated value of values[:count] for each count (NaN where count == 0)."""
    acc = op.accumulate(values) if len(values) else values
    out = np.full(len(count), np.nan)
    has = count > 0
    out[has] = acc[count[has] - 1]
    return out


def compute_levels(
    bars: pl.DataFrame,
    prior_sma_closes: pl.DataFrame,
    windows: SessionWindows,
    params: LevelParams,
    option_flow: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every level of every regular-hours minute of the day (long format, cent prices).

    `option_flow` (0DTE trades with their dealer gamma, time-ordered) adds STRIKE and walls.
    """
    minutes = session_minutes(windows)
    bars = bars.sort("ts_ns")
    ts = bars["ts_ns"].to_numpy()
    high, low, close = (bars[c].to_numpy().astype(np.float64) for c in ("high", "low", "close"))
    session = bars["session"].to_numpy()
    parts = []

    pm = session == PREMARKET
    if pm.any():
        parts.append(_rows("PM_HIGH", minutes, np.full(len(minutes), high[pm].max())))
        parts.append(_rows("PM_LOW", minutes, np.full(len(minutes), low[pm].min())))

    or_end = windows.opening_range_end_ns(params.or_minutes)
    in_or = (ts >= windows.rth_open_ns) & (ts < or_end)
    if in_or.any():
        after_or = np.where(minutes >= or_end, 1.0, np.nan)
        parts.append(_rows("OR_HIGH", minutes, after_or * high[in_or].max()))
        parts.append(_rows("OR_LOW", minutes, after_or * low[in_or].min()))

    rth = session == RTH
    rth_ts = ts[rth]
    n_rth = _before(rth_ts, minutes)
    parts.append(_rows("SESSION_HIGH", minutes, _prefix_extreme(high[rth], n_rth, np.maximum)))
    parts.append(_rows("SESSION_LOW", minutes, _prefix_extreme(low[rth], n_rth, np.minimum)))

    # Trade prices sit on the milli grid, so each bar's notional is an exact number of milli
    # x contracts: summed as integers, the VWAP is rounded to the cent once, from the exact ratio.
    cum_notional = np.concatenate([[0], np.cumsum(to_milli(bars["notional"].to_numpy()[rth]))])
    cum_volume = np.concatenate([[0], np.cumsum(bars["volume"].to_numpy()[rth])])
    vwap = mean_to_cent(cum_notional[n_rth], cum_volume[n_rth])
    parts.append(_rows("VWAP", minutes, vwap))

    closes = pl.concat(
        [
            prior_sma_closes.select("end_ns", "close"),
            sma_closes(bars, windows, params.sma_bar_minutes),
        ]
    ).sort("end_ns")
    end = closes["end_ns"].to_numpy()
    cum_close = np.concatenate([[0.0], np.cumsum(closes["close"].to_numpy())])
    done = np.searchsorted(end, minutes, side="right")  # 2-minute bars completed by t
    n = params.sma_period
    with np.errstate(invalid="ignore"):
        sma = np.where(
            done >= n, (cum_close[done] - cum_close[np.maximum(done - n, 0)]) / n, np.nan
        )
    parts.append(_rows("SMA_200", minutes, sma))

    n_any = _before(ts, minutes)
    last_close = np.where(
        n_any > 0, close[np.maximum(n_any - 1, 0)] if len(close) else np.nan, np.nan
    )
    parts.append(_round_levels(minutes, last_close, params.strike_range))
    if option_flow is not None and option_flow.height:
        parts.append(_strike_levels(minutes, last_close, option_flow, params))
        for kind, right in (("CALL_WALL", "C"), ("PUT_WALL", "P")):
            parts.append(
                _wall_levels(kind, minutes, option_flow.filter(pl.col("right") == right), params)
            )

    levels = pl.concat(parts)
    return levels.unique(["ts_ns", "level_kind", "level_price"], maintain_order=True).sort(
        ["ts_ns", "level_kind", "level_price"]
    )


def _round_levels(minutes: np.ndarray, last_close: np.ndarray, strike_range: float) -> pl.DataFrame:
    span = int(np.ceil(strike_range)) + 1
    offsets = np.arange(-span, span + 1)
    base = np.floor(np.nan_to_num(last_close))[:, None] + offsets[None, :]
    close_m = to_milli(np.nan_to_num(last_close))[:, None]
    within = np.abs(to_milli(base) - close_m) <= round(strike_range * MILLI)
    within &= ~np.isnan(last_close)[:, None]
    rows, cols = np.nonzero(within)
    return _rows("ROUND", minutes[rows], base[rows, cols].astype(np.float64))


def _strike_levels(
    minutes: np.ndarray, last_close: np.ndarray, flow: pl.DataFrame, params: LevelParams
) -> pl.DataFrame:
    """Strikes near the last close whose option volume since the open reached the minimum."""
    active = (
        flow.sort("ts_ns", maintain_order=True)
        .with_columns(volume=pl.col("size").cum_sum().over("strike"))
        .filter(pl.col("volume") >= params.strike_min_volume)
        .group_by("strike")
        .agg(since=pl.col("ts_ns").min())  # the trade that took it over the minimum
    )
    strikes = active["strike"].to_numpy()
    since = active["since"].to_numpy()
    live = since[None, :] < minutes[:, None]  # only trades before the bar count
    near = np.abs(
        to_milli(strikes)[None, :] - to_milli(np.nan_to_num(last_close))[:, None]
    ) <= round(params.strike_range * MILLI)
    rows, cols = np.nonzero(live & near & ~np.isnan(last_close)[:, None])
    return _rows("STRIKE", minutes[rows], strikes[cols].astype(np.float64))


@njit(cache=True)
def _largest_exposure(ts, strike_idx, gamma, minutes, n_strikes, best, magnitude):
    """For each minute, the strike whose cumulative dealer gamma of the trades before it is
    largest in absolute value (ties: the lowest strike), trades in time order."""
    cum = np.zeros(n_strikes)
    j = 0
    for m in range(len(minutes)):
        while j < len(ts) and ts[j] < minutes[m]:
            cum[strike_idx[j]] += gamma[j]
            j += 1
        k = 0
        for s in range(1, n_strikes):
            if abs(cum[s]) > abs(cum[k]):
                k = s
        best[m] = k
        magnitude[m] = abs(cum[k])


def _wall_levels(
    kind: str, minutes: np.ndarray, flow: pl.DataFrame, params: LevelParams
) -> pl.DataFrame:
    """The strike with the largest |cumulative dealer gamma| of trades before each minute."""
    if flow.height == 0:
        return _rows(kind, minutes, np.full(len(minutes), np.nan))
    ts = flow["ts_ns"].to_numpy()
    order = np.argsort(ts, kind="stable")  # option flow comes in time order: usually a no-op
    strikes, strike_idx = np.unique(flow["strike"].to_numpy()[order], return_inverse=True)
    best = np.zeros(len(minutes), np.int64)
    magnitude = np.zeros(len(minutes))
    _largest_exposure(
        ts[order],
        strike_idx.astype(np.int64),
        flow["dealer_gamma"].to_numpy()[order],
        minutes.astype(np.int64),
        len(strikes),
        best,
        magnitude,
    )
    values = np.where(magnitude >= params.wall_min_gamma, strikes[best], np.nan)
    return _rows(kind, minutes, values.astype(np.float64))
