"""Fuel physics (SPEC §6): dealer gamma near the level as of the information time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.signals.prices import MILLI, to_milli
from spymaster_assets.vocabulary import FUEL_EFFECTS

EFFECTS = FUEL_EFFECTS


@dataclass(frozen=True)
class FuelParams:
    strike_range: float
    share_threshold: float  # FUEL_SHARE_THRESHOLD: |gamma_share| beyond it is AMPLIFY/DAMPEN


@njit(cache=True)
def fuel_kernel(flow_ts, strike_m, dealer_gamma, info_ts, level_m, range_m, exposure, total_abs):
    """Σ dealer gamma of option trades at or before info_ts on strikes within range of L
    (`exposure`), and Σ over every strike of |its cumulative dealer gamma| then (`total_abs`,
    the day's dealer positioning so far, G of SPEC §6).

    Trades are grouped by strike (in time order within a strike) with a running sum, so each
    signal adds, for each strike, the running sum at its information time: a search per strike
    instead of a pass over every trade of the day."""
    order = np.argsort(strike_m, kind="mergesort")  # stable: time order within a strike
    n = len(order)
    ts = np.empty(n, np.int64)
    running = np.empty(n)
    starts = np.empty(n + 1, np.int64)
    strikes = np.empty(n, np.int64)
    blocks = 0
    for j in range(n):
        k = order[j]
        ts[j] = flow_ts[k]
        if j == 0 or strike_m[k] != strike_m[order[j - 1]]:
            starts[blocks] = j
            strikes[blocks] = strike_m[k]
            blocks += 1
            running[j] = dealer_gamma[k]
        else:
            running[j] = running[j - 1] + dealer_gamma[k]
    starts[blocks] = n
    for i in range(len(info_ts)):
        near = 0.0
        every = 0.0
        lo = np.searchsorted(strikes[:blocks], level_m[i] - range_m, side="left")
        hi = np.searchsorted(strikes[:blocks], level_m[i] + range_m, side="right")
        for b in range(blocks):
            a, z = starts[b], starts[b + 1]
            end = a + np.searchsorted(ts[a:z], info_ts[i], side="right")
            if end > a:
                every += abs(running[end - 1])
                if lo <= b < hi:
                    near += running[end - 1]
        exposure[i] = near
        total_abs[i] = every


def fuel_physics(touches: pl.DataFrame, flow: pl.DataFrame, params: FuelParams) -> pl.DataFrame:
    """gamma_exposure near each level, its share of the day's absolute dealer gamma so far
    (null before any 0DTE trade), and the fuel effect from that share: a share means the same
    on a quiet day and on a real one, where SPY 0DTE trades millions of contracts."""
    n = touches.height
    exposure = np.zeros(n)
    total_abs = np.zeros(n)
    flow = flow.sort("ts_ns", maintain_order=True)
    fuel_kernel(
        flow["ts_ns"].to_numpy(),
        to_milli(flow["strike"].to_numpy()),
        flow["dealer_gamma"].to_numpy(),
        touches["info_ts_ns"].to_numpy(),
        to_milli(touches["level_price"].to_numpy()),
        round(params.strike_range * MILLI),
        exposure,
        total_abs,
    )
    has = total_abs > 0
    share = np.where(has, exposure / np.where(has, total_abs, 1.0), np.nan)
    thr = params.share_threshold
    effect = np.where(
        has & (share < -thr), "AMPLIFY", np.where(has & (share > thr), "DAMPEN", "NEUTRAL")
    )
    return touches.select("ts_ns", "level_price").with_columns(
        gamma_exposure=pl.Series(exposure),
        gamma_share=pl.Series(share, dtype=pl.Float64).fill_nan(None),
        fuel_effect=pl.Series(effect if n else np.array([], dtype=str)),
    )
