"""Tape physics (SPEC §6): the front-month trades of the touch window [ts, ts + W_t).

Band trades are those within ±TAPE_BAND of the level (in ES). Buy / sell volume by aggressor
(B / A; N ignored), imbalance, trades per second of the whole window (all front-month trades),
and sweeps: a run of same-side aggressive band trades, consecutive prints at most
SWEEP_MAX_GAP_MS apart, touching at least two prices, notional Σ price·size·multiplier at least
SWEEP_MIN_NOTIONAL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.physics.barrier import BUY, SELL


@dataclass(frozen=True)
class TapeParams:
    window_ns: int
    band_es: float
    max_gap_ns: int
    min_notional: float
    multiplier: float


@njit(cache=True)
def tape_kernel(
    tr_ts,
    tr_px,
    tr_sz,
    tr_side,
    sig_ts,
    level_es,
    window_ns,
    band_es,
    max_gap_ns,
    min_notional,
    multiplier,
    buy_vol,
    sell_vol,
    velocity,
    sweep,
):
    for i in range(len(sig_ts)):
        lo = np.searchsorted(tr_ts, sig_ts[i], side="left")
        hi = np.searchsorted(tr_ts, sig_ts[i] + window_ns, side="left")
        b = 0
        s = 0
        found = False
        run_side = 0
        run_last_ts = 0
        run_notional = 0.0
        run_min = 0.0
        run_max = 0.0
        for j in range(lo, hi):
            if abs(tr_px[j] - level_es[i]) > band_es + 1e-9:
                continue
            side = tr_side[j]
            if side == BUY:
                b += tr_sz[j]
            elif side == SELL:
                s += tr_sz[j]
            else:
                run_side = 0  # an unsigned print breaks a run
                continue
            if side == run_side and tr_ts[j] - run_last_ts <= max_gap_ns:
                run_notional += tr_px[j] * tr_sz[j] * multiplier
                run_min = min(run_min, tr_px[j])
                run_max = max(run_max, tr_px[j])
            else:
                run_side = side
                run_notional = tr_px[j] * tr_sz[j] * multiplier
                run_min = tr_px[j]
                run_max = tr_px[j]
            run_last_ts = tr_ts[j]
            if run_max > run_min and run_notional >= min_notional:
                found = True
        buy_vol[i] = b
        sell_vol[i] = s
        velocity[i] = (hi - lo) / (window_ns / 1e9)
        sweep[i] = found


def tape_physics(
    touches: pl.DataFrame, trades: pl.DataFrame, params: TapeParams, es_spy_ratio: float
) -> pl.DataFrame:
    n = touches.height
    buy, sell = np.zeros(n, np.int64), np.zeros(n, np.int64)
    velocity, sweep = np.zeros(n), np.zeros(n, np.bool_)
    side = trades["side"].to_numpy()
    tape_kernel(
        trades["ts_event"].to_numpy(),
        trades["price"].to_numpy().astype(np.float64),
        trades["size"].to_numpy().astype(np.int64),
        np.where(side == "B", BUY, np.where(side == "A", SELL, 0)).astype(np.int64),
        touches["ts_ns"].to_numpy(),
        touches["level_price"].to_numpy() * es_spy_ratio,
        params.window_ns,
        params.band_es,
        params.max_gap_ns,
        params.min_notional,
        params.multiplier,
        buy,
        sell,
        velocity,
        sweep,
    )
    total = buy + sell
    with np.errstate(invalid="ignore", divide="ignore"):
        imbalance = np.where(total > 0, (buy - sell) / np.maximum(total, 1), 0.0)
    return touches.select("ts_ns", "level_price").with_columns(
        tape_imbalance=pl.Series(imbalance),
        tape_buy_vol=pl.Series(buy).cast(pl.Float64),
        tape_sell_vol=pl.Series(sell).cast(pl.Float64),
        tape_velocity=pl.Series(velocity),
        sweep_detected=pl.Series(sweep),
    )
