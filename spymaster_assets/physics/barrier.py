"""Barrier physics (SPEC §6): what the defending side of the ES book did in the touch window.

The defending side is the ask for UP (resistance) and the bid for DOWN (support); the zone is
every price within ±BARRIER_ZONE_ES_TICKS of the level in ES. Walking consecutive complete books
of the window [ts, ts + W_b): at each zone price on the defending side, a size increase is
added liquidity; a decrease is filled up to the aggressive volume that traded at that price
against that side between the two books, the rest canceled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.dbn_format import N_LEVELS, level_field

STATES = ("VACUUM", "CONSUMED", "WALL", "ABSORPTION", "WEAK", "NEUTRAL")
VACUUM, CONSUMED, WALL, ABSORPTION, WEAK, NEUTRAL = range(6)
NO_PRICE = -1  # an empty book level (prices are positive ticks)
BUY, SELL = 1, -1  # aggressor codes: a buy lifts the ask, a sell hits the bid


@dataclass(frozen=True)
class BarrierParams:
    window_ns: int
    lookback_ns: int
    zone_ticks: int
    f_thresh: float
    r_vac: float
    r_wall: float
    weak_percentile: float
    ratio_cap: float


@njit(cache=True)
def _size_at(px: np.ndarray, sz: np.ndarray, row: int, price: int) -> int:
    for k in range(px.shape[1]):
        if px[row, k] == price:
            return sz[row, k]
    return 0


@njit(cache=True)
def _listed(px: np.ndarray, row: int, price: int) -> bool:
    for k in range(px.shape[1]):
        if px[row, k] == price:
            return True
    return False


@njit(cache=True)
def _zone_depth(px: np.ndarray, sz: np.ndarray, row: int, lo: float, hi: float) -> int:
    total = 0
    for k in range(px.shape[1]):
        p = px[row, k]
        if p != NO_PRICE and lo <= p <= hi:
            total += sz[row, k]
    return total


@njit(cache=True)
def _traded(tr_ts, tr_px, tr_sz, tr_side, t0, t1, price, aggressor) -> int:
    """Aggressive volume at `price` by `aggressor` with t0 < ts <= t1."""
    lo = np.searchsorted(tr_ts, t0, side="right")
    hi = np.searchsorted(tr_ts, t1, side="right")
    vol = 0
    for j in range(lo, hi):
        if tr_px[j] == price and tr_side[j] == aggressor:
            vol += tr_sz[j]
    return vol


@njit(cache=True)
def barrier_kernel(
    book_ts,
    bid_px,
    bid_sz,
    ask_px,
    ask_sz,
    tr_ts,
    tr_px,
    tr_sz,
    tr_side,
    sig_ts,
    level_ticks,
    is_up,
    window_ns,
    lookback_ns,
    zone_ticks,
    f_thresh,
    r_vac,
    r_wall,
    weak_pct,
    ratio_cap,
    added,
    canceled,
    filled,
    depth,
    baseline,
    weak_floor,
    state,
    ratio,
):
    """Prices are integer ES ticks (level_ticks may fall between ticks); outputs per signal."""
    for i in range(len(sig_ts)):
        if is_up[i]:
            px, sz, aggressor = ask_px, ask_sz, BUY
        else:
            px, sz, aggressor = bid_px, bid_sz, SELL
        zlo = level_ticks[i] - zone_ticks
        zhi = level_ticks[i] + zone_ticks
        a = 0
        c = 0
        f = 0
        w0 = np.searchsorted(book_ts, sig_ts[i], side="left")
        w1 = np.searchsorted(book_ts, sig_ts[i] + window_ns, side="left")
        for r in range(w0 + 1, w1):
            # every zone price present in either book
            for side_row in (r - 1, r):
                for k in range(px.shape[1]):
                    p = px[side_row, k]
                    if p == NO_PRICE or p < zlo or p > zhi:
                        continue
                    if side_row == r and _listed(px, r - 1, p):
                        continue  # already handled from the previous book
                    before = _size_at(px, sz, r - 1, p)
                    after = _size_at(px, sz, r, p)
                    if after > before:
                        a += after - before
                    elif after < before:
                        dec = before - after
                        vol = _traded(
                            tr_ts, tr_px, tr_sz, tr_side, book_ts[r - 1], book_ts[r], p, aggressor
                        )
                        fill = min(dec, vol)
                        f += fill
                        c += dec - fill
        added[i] = a
        canceled[i] = c
        filled[i] = f
        depth[i] = _zone_depth(px, sz, w1 - 1, zlo, zhi) if w1 > w0 else -1
        # causal baseline: defending-side 10-level depth over the lookback before ts
        b0 = np.searchsorted(book_ts, sig_ts[i] - lookback_ns, side="left")
        n_base = w0 - b0
        if n_base > 0:
            depths = np.empty(n_base)
            for r in range(b0, w0):
                total = 0
                for k in range(px.shape[1]):
                    if px[r, k] != NO_PRICE:
                        total += sz[r, k]
                depths[r - b0] = total
            baseline[i] = depths.mean()
            weak_floor[i] = np.quantile(depths, weak_pct)
        else:
            baseline[i] = np.nan
            weak_floor[i] = np.nan
        removed = c + f
        if removed > 0:
            ratio[i] = min(a / removed, ratio_cap)
        else:
            ratio[i] = ratio_cap if a > 0 else 0.0
        delta = a - c - f
        if w1 - w0 < 2:
            state[i] = NEUTRAL
        elif delta < -f_thresh and c > f and ratio[i] < r_vac:
            state[i] = VACUUM
        elif delta < -f_thresh and f >= c:
            state[i] = CONSUMED
        elif delta > f_thresh and ratio[i] > r_wall:
            state[i] = WALL
        elif f >= f_thresh and ratio[i] >= 1.0:
            state[i] = ABSORPTION
        elif not np.isnan(weak_floor[i]) and depth[i] >= 0 and depth[i] < weak_floor[i]:
            state[i] = WEAK
        else:
            state[i] = NEUTRAL


def book_arrays(books: pl.DataFrame, tick: float) -> tuple[np.ndarray, ...]:
    """(ts, bid_px, bid_sz, ask_px, ask_sz) with prices as integer ticks, NO_PRICE when empty."""

    def prices(side: str) -> np.ndarray:
        cols = [level_field(f"{side}_px", k) for k in range(N_LEVELS)]
        arr = books.select(cols).to_numpy()
        return np.where(np.isnan(arr), NO_PRICE, np.round(np.nan_to_num(arr) / tick)).astype(
            np.int64
        )

    def sizes(side: str) -> np.ndarray:
        cols = [level_field(f"{side}_sz", k) for k in range(N_LEVELS)]
        return books.select(cols).to_numpy().astype(np.int64)

    return books["ts_event"].to_numpy(), prices("bid"), sizes("bid"), prices("ask"), sizes("ask")


def trade_arrays(trades: pl.DataFrame, tick: float) -> tuple[np.ndarray, ...]:
    side = trades["side"].to_numpy()
    return (
        trades["ts_event"].to_numpy(),
        np.round(trades["price"].to_numpy() / tick).astype(np.int64),
        trades["size"].to_numpy().astype(np.int64),
        np.where(side == "B", BUY, np.where(side == "A", SELL, 0)).astype(np.int64),
    )


def barrier_physics(
    touches: pl.DataFrame,
    books: pl.DataFrame,
    trades: pl.DataFrame,
    params: BarrierParams,
    es_spy_ratio: float,
    tick: float,
) -> pl.DataFrame:
    n = touches.height
    out = {
        "added": np.zeros(n, np.int64),
        "canceled": np.zeros(n, np.int64),
        "filled": np.zeros(n, np.int64),
        "depth": np.zeros(n, np.int64),
        "baseline": np.zeros(n),
        "weak_floor": np.zeros(n),
        "state": np.zeros(n, np.int64),
        "ratio": np.zeros(n),
    }
    barrier_kernel(
        *book_arrays(books, tick),
        *trade_arrays(trades, tick),
        touches["ts_ns"].to_numpy(),
        touches["level_price"].to_numpy() * es_spy_ratio / tick,
        (touches["direction"] == "UP").to_numpy(),
        params.window_ns,
        params.lookback_ns,
        params.zone_ticks,
        params.f_thresh,
        params.r_vac,
        params.r_wall,
        params.weak_percentile,
        params.ratio_cap,
        *out.values(),
    )
    depth = pl.Series(out["depth"]).replace(-1, None)
    baseline = pl.Series(out["baseline"]).fill_nan(None)
    return touches.select("ts_ns", "level_price").with_columns(
        barrier_state=pl.Series(np.array(STATES)[out["state"]] if n else np.array([], dtype=str)),
        barrier_delta_liq=pl.Series(out["added"] - out["canceled"] - out["filled"]).cast(
            pl.Float64
        ),
        barrier_replenishment_ratio=pl.Series(out["ratio"]),
        barrier_added=pl.Series(out["added"]).cast(pl.Float64),
        barrier_canceled=pl.Series(out["canceled"]).cast(pl.Float64),
        barrier_filled=pl.Series(out["filled"]).cast(pl.Float64),
        depth_in_zone=depth.cast(pl.Float64),
        wall_ratio=pl.when(baseline > 0).then(depth.cast(pl.Float64) / baseline).otherwise(None),
    )
