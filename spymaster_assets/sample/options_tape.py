"""SPY option trades as a Polygon/Massive `trades_v1` flat file (CSV.gz, the vendor's columns).

0DTE calls and puts around spot, priced by Black-Scholes on a volatility smile from the same
latent path as the futures, plus what a real file also holds and the reader must drop: other
expiries, corrected prints, zero-size prints and other underlyings whose ticker starts with SPY.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.black_scholes import bs_price_array
from spymaster_assets.market.polygon_options import POLYGON_COLUMNS
from spymaster_assets.market.trading_calendar import (
    NS_PER_SECOND,
    session_windows,
    trading_days,
)
from spymaster_assets.physics.option_flow import YEAR_S
from spymaster_assets.storage import atomic_path

LOOKALIKE_ROOTS = ("SPYG", "SPYV", "SPYD")
LEAN_SPAN_S = 3600  # how long customers keep leaning one way on a contract
CONDITIONS = np.array(["209", "219", "227", "229", "209,219"])
EXCHANGES = np.array([300, 301, 302, 303, 304, 307, 308, 309, 312, 313, 315, 316, 319, 322, 323])


@njit(cache=True)
def print_prices(
    fair: np.ndarray, half_spread: np.ndarray, buys: np.ndarray, contract: np.ndarray
) -> np.ndarray:
    """Cent prices at the ask for buys (an up-tick on the contract) and the bid for sells."""
    out = np.empty(len(fair))
    last = np.full(contract.max() + 1 if len(contract) else 0, np.nan)
    for i in range(len(fair)):
        c = contract[i]
        # Step one cent past the previous print only while that stays within two half-spreads
        # of fair value: a market that has moved away re-prices, as it would.
        if buys[i]:
            p = round(fair[i] * (1.0 + half_spread[i]), 2)
            if not np.isnan(last[c]) and last[c] + 0.01 <= fair[i] * (1.0 + 2.0 * half_spread[i]):
                p = max(p, last[c] + 0.01)
        else:
            p = round(fair[i] * (1.0 - half_spread[i]), 2)
            if not np.isnan(last[c]) and last[c] - 0.01 >= fair[i] * (1.0 - 2.0 * half_spread[i]):
                p = min(p, last[c] - 0.01)
        p = max(round(p, 2), 0.01)
        last[c] = p
        out[i] = p
    return out


def _smile(moneyness: np.ndarray, atm: float) -> np.ndarray:
    # Equity skew: puts (K < S) richer, a little curvature on both wings.
    return np.clip(atm - 1.2 * moneyness + 45.0 * moneyness**2, 0.05, 2.0)


def option_trades(
    rng: np.random.Generator,
    day: dt.date,
    spot_by_second: np.ndarray,
    rate_by_second: np.ndarray,
    n_trades: int,
    risk_free_rate: float,
) -> pl.DataFrame:
    """One day's option prints, sorted by `sip_timestamp` (UTC ns)."""
    windows = session_windows(day)
    day_start = windows.utc_day_start_ns
    open_s = (windows.rth_open_ns - day_start) // NS_PER_SECOND
    close_s = (windows.rth_close_ns - day_start) // NS_PER_SECOND
    lam = np.zeros_like(rate_by_second)
    lam[open_s:close_s] = rate_by_second[open_s:close_s]
    lam *= n_trades / lam.sum()
    seconds = np.repeat(np.arange(len(lam)), rng.poisson(lam))
    n = len(seconds)
    # Sorting only reorders prints within a second, so `seconds` still matches `ts`.
    ts = np.sort(day_start + seconds * NS_PER_SECOND + rng.integers(0, NS_PER_SECOND, n))
    spot = spot_by_second[seconds]

    later = trading_days(day + dt.timedelta(days=1), day + dt.timedelta(days=45))
    expiries = [day, *later[:3], later[-1]]
    expiry_idx = np.where(rng.random(n) < 0.82, 0, rng.integers(1, len(expiries), n))
    strike = np.round(spot) + np.clip(np.round(rng.normal(0.0, 3.5, n)), -15, 15)
    is_call = rng.random(n) < 0.5

    close_by_expiry = np.array([session_windows(e).rth_close_ns for e in expiries])
    t_years = np.maximum((close_by_expiry[expiry_idx] - ts) / NS_PER_SECOND, 60.0) / YEAR_S
    vol = _smile((strike - spot) / spot, atm=0.14 + 0.04 * rng.random())
    fair = bs_price_array(spot, strike, t_years, risk_free_rate, vol, is_call)
    # Customers lean one way per contract for an hour or so (net buyers of some strikes,
    # sellers of others, buyers overall), then the flow turns: a new lean per contract every
    # LEAN_SPAN_S, so dealers are short gamma at a strike for a while and long later, as on a
    # real day, not one-signed from the open to the close. A buy prints at the ask and above
    # the contract's previous print, a sell at the bid and below it, so the tick rule can
    # recover the side, and dealer gamma builds up by strike through the day (walls, fuel).
    base = np.round(spot_by_second[open_s])
    spans = (close_s - open_s) // LEAN_SPAN_S + 1
    lean = np.clip(rng.uniform(-0.9, 0.9, size=(spans, 61, 2)) + 0.05, -0.95, 0.95)
    span = np.clip((seconds - open_s) // LEAN_SPAN_S, 0, spans - 1)
    slot = np.clip(strike - base + 30, 0, 60).astype(np.int64)
    buys = rng.random(n) < 0.5 + 0.5 * lean[span, slot, is_call.astype(np.int64)]
    half_spread = 0.03 + 0.02 * rng.random(n)
    contract = np.unique(expiry_idx * 1_000_000 + slot * 10 + is_call, return_inverse=True)[1]
    price = print_prices(fair, half_spread, buys, contract.astype(np.int64))
    size = rng.geometric(0.15, n)
    size = np.where(rng.random(n) < 0.01, size * 25, size)

    correction = np.where(rng.random(n) < 0.002, 1, 0)
    size = np.where(rng.random(n) < 0.0005, 0, size)
    roots = np.full(n, "SPY", dtype=object)
    lookalike = rng.random(n) < 0.01
    roots[lookalike] = rng.choice(LOOKALIKE_ROOTS, lookalike.sum())
    # Look-alike ETFs trade far below SPY: give them their own strikes.
    strike = np.where(lookalike, np.round(spot / 8.0), strike)

    expiry_codes = np.array([f"{e:%y%m%d}" for e in expiries])[expiry_idx]
    frame = pl.DataFrame(
        {
            "root": roots.astype(str),
            "expiry": expiry_codes,
            "right": np.where(is_call, "C", "P"),
            "strike_milli": np.round(strike * 1000).astype(np.int64),
            "conditions": rng.choice(CONDITIONS, n, p=[0.7, 0.1, 0.1, 0.05, 0.05]),
            "correction": correction.astype(np.int64),
            "exchange": rng.choice(EXCHANGES, n),
            "price": price,
            "sip_timestamp": ts.astype(np.int64),
            "size": size.astype(np.int64),
        }
    ).with_columns(
        ticker=pl.concat_str(
            pl.lit("O:"),
            "root",
            "expiry",
            "right",
            pl.col("strike_milli").cast(pl.String).str.zfill(8),
        )
    )
    return frame.sort("sip_timestamp", maintain_order=True)


def write_polygon_csv_gz(frame: pl.DataFrame, path: Path) -> None:
    data = frame.select(POLYGON_COLUMNS).write_csv().encode()
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(data, compresslevel=3, mtime=0))
