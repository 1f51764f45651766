"""Fuel physics (SPEC §6): dealer gamma near the level as of the information time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.signals.prices import MILLI, to_milli

EFFECTS = ("NEUTRAL", "AMPLIFY", "DAMPEN")


@dataclass(frozen=True)
class FuelParams:
    strike_range: float
    gamma_threshold: float


@njit(cache=True)
def fuel_kernel(flow_ts, strike_m, dealer_gamma, info_ts, level_m, range_m, exposure):
    """Σ dealer gamma of option trades at or before info_ts on strikes within range of L."""
    for i in range(len(info_ts)):
        end = np.searchsorted(flow_ts, info_ts[i], side="right")
        total = 0.0
        for j in range(end):
            if abs(strike_m[j] - level_m[i]) <= range_m:
                total += dealer_gamma[j]
        exposure[i] = total


def fuel_physics(touches: pl.DataFrame, flow: pl.DataFrame, params: FuelParams) -> pl.DataFrame:
    n = touches.height
    exposure = np.zeros(n)
    flow = flow.sort("ts_ns", maintain_order=True)
    fuel_kernel(
        flow["ts_ns"].to_numpy(),
        to_milli(flow["strike"].to_numpy()),
        flow["dealer_gamma"].to_numpy(),
        touches["info_ts_ns"].to_numpy(),
        to_milli(touches["level_price"].to_numpy()),
        round(params.strike_range * MILLI),
        exposure,
    )
    thr = params.gamma_threshold
    effect = np.where(exposure < -thr, "AMPLIFY", np.where(exposure > thr, "DAMPEN", "NEUTRAL"))
    return touches.select("ts_ns", "level_price").with_columns(
        gamma_exposure=pl.Series(exposure),
        fuel_effect=pl.Series(effect if n else np.array([], dtype=str)),
    )
