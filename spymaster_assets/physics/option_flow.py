"""Dealer gamma from SPY 0DTE option trades (SPEC §6, fuel).

Per trade: spot = last front-month ES trade at or before it / ratio; time to expiry to the
session close of the expiration date (DST- and early-close-aware), floored; implied volatility
solved from the trade price; delta and gamma; the customer's side by the tick rule per contract
(up-tick buy +1, down-tick sell -1, zero tick repeats the last non-zero sign, first print 0);
dealers take the other side: dealer_gamma = dealer_side_sign x side x size x gamma x 100
(shares per $1; with the default dealer_side_sign = -1, customers buying options leave dealers
short gamma, a negative number).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.black_scholes import bs_delta_gamma, implied_vol
from spymaster_assets.market.trading_calendar import NS_PER_SECOND

YEAR_S = 365.0 * 86_400.0
IV_SOLVED, IV_CONTRACT_FALLBACK, IV_DEFAULT = 0, 1, 2
IV_SOURCES = ("solved", "last_good", "default")
SHARES_PER_CONTRACT = 100.0


@dataclass(frozen=True)
class FlowParams:
    es_spy_ratio: float
    risk_free_rate: float
    iv_min: float
    iv_max: float
    default_iv: float
    min_time_to_expiry_s: float
    dealer_side_sign: int


@njit(cache=True)
def option_flow_kernel(
    contract: np.ndarray,
    strike: np.ndarray,
    is_call: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    spot: np.ndarray,
    t_years: np.ndarray,
    rate: float,
    iv_lo: float,
    iv_hi: float,
    default_iv: float,
    dealer_sign: float,
    iv: np.ndarray,
    iv_source: np.ndarray,
    delta: np.ndarray,
    gamma: np.ndarray,
    side: np.ndarray,
    dealer_gamma: np.ndarray,
) -> None:
    """Trades must be in time order; `contract` is a dense id (0..n-1) per option ticker."""
    n_contracts = contract.max() + 1 if len(contract) else 0
    last_price = np.full(n_contracts, np.nan)
    last_sign = np.zeros(n_contracts, dtype=np.int64)
    last_iv = np.full(n_contracts, np.nan)
    for i in range(len(price)):
        c = contract[i]
        v = implied_vol(price[i], spot[i], strike[i], t_years[i], rate, is_call[i], iv_lo, iv_hi)
        if math.isnan(v):
            if math.isnan(last_iv[c]):
                v = default_iv
                iv_source[i] = IV_DEFAULT
            else:
                v = last_iv[c]
                iv_source[i] = IV_CONTRACT_FALLBACK
        else:
            last_iv[c] = v
            iv_source[i] = IV_SOLVED
        iv[i] = v
        d, g = bs_delta_gamma(spot[i], strike[i], t_years[i], rate, v, is_call[i])
        delta[i] = d
        gamma[i] = g
        if math.isnan(last_price[c]):
            s = 0
        elif price[i] > last_price[c]:
            s = 1
        elif price[i] < last_price[c]:
            s = -1
        else:
            s = last_sign[c]
        if s != 0:
            last_sign[c] = s
        last_price[c] = price[i]
        side[i] = s
        dealer_gamma[i] = dealer_sign * s * size[i] * g * SHARES_PER_CONTRACT


def spot_at(option_ts: np.ndarray, es_ts: np.ndarray, es_price: np.ndarray) -> np.ndarray:
    """Last ES trade at or before each option trade (NaN before the first ES trade)."""
    idx = np.searchsorted(es_ts, option_ts, side="right") - 1
    out = np.where(idx >= 0, es_price[np.maximum(idx, 0)], np.nan)
    return out


def option_flow(
    options: pl.DataFrame, es_trades: pl.DataFrame, expiry_close_ns: int, params: FlowParams
) -> tuple[pl.DataFrame, int]:
    """Per-trade flow with cumulative dealer gamma; returns (frame, trades without a spot)."""
    ts = options["ts_ns"].to_numpy()
    spot = (
        spot_at(ts, es_trades["ts_event"].to_numpy(), es_trades["price"].to_numpy())
        / params.es_spy_ratio
    )
    valued = ~np.isnan(spot)
    frame = options.filter(pl.Series(valued)).with_columns(spot=pl.Series(spot[valued]))
    n = frame.height
    contract = frame["ticker"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    if n:
        _, contract = np.unique(contract, return_inverse=True)
    seconds = np.maximum(
        (expiry_close_ns - frame["ts_ns"].to_numpy()) / NS_PER_SECOND, params.min_time_to_expiry_s
    )
    out = {
        "iv": np.empty(n),
        "iv_source": np.empty(n, np.int64),
        "delta": np.empty(n),
        "gamma": np.empty(n),
        "customer_side": np.empty(n, np.int64),
        "dealer_gamma": np.empty(n),
    }
    option_flow_kernel(
        contract.astype(np.int64),
        frame["strike"].to_numpy(),
        (frame["right"] == "C").to_numpy(),
        frame["price"].to_numpy(),
        frame["size"].to_numpy().astype(np.float64),
        frame["spot"].to_numpy(),
        seconds / YEAR_S,
        params.risk_free_rate,
        params.iv_min,
        params.iv_max,
        params.default_iv,
        float(params.dealer_side_sign),
        *out.values(),
    )
    result = (
        frame.select("ts_ns", "ticker", "right", "strike", "price", "size", "spot")
        .with_columns(
            time_to_expiry_years=pl.Series(seconds / YEAR_S),
            iv=pl.Series(out["iv"]),
            iv_source=pl.Series(IV_SOURCES, dtype=pl.String).gather(out["iv_source"]),
            delta=pl.Series(out["delta"]),
            gamma=pl.Series(out["gamma"]),
            customer_side=pl.Series(out["customer_side"]).cast(pl.Int8),
            dealer_gamma=pl.Series(out["dealer_gamma"]),
        )
        .with_columns(
            cum_dealer_gamma=pl.col("dealer_gamma").cum_sum().over("strike", "right"),
            cum_strike_volume=pl.col("size").cum_sum().over("strike"),
        )
    )
    return result, int((~valued).sum())
