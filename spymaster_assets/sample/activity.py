"""Intraday activity: thin overnight, busier pre-market, heavy U-shaped regular hours."""

from __future__ import annotations

import datetime as dt

import numpy as np

from spymaster_assets.market.trading_calendar import NEW_YORK, NS_PER_SECOND, SessionWindows

SECONDS_PER_DAY = 86_400


def _second_of_day(windows: SessionWindows, ns: int) -> int:
    return int((ns - windows.utc_day_start_ns) // NS_PER_SECOND)


def _ny_second(windows: SessionWindows, day: dt.date, hour: int, minute: int = 0) -> int:
    ts = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)
    return _second_of_day(windows, int(ts.timestamp()) * NS_PER_SECOND)


def activity_profile(windows: SessionWindows) -> np.ndarray:
    """Relative event intensity for each second of the UTC day of the trading date."""
    day = windows.trading_day
    t = np.arange(SECONDS_PER_DAY, dtype=np.float64)
    rate = np.full(SECONDS_PER_DAY, 0.06)  # overnight Globex

    pm = _second_of_day(windows, windows.premarket_start_ns)
    open_ = _second_of_day(windows, windows.rth_open_ns)
    close = _second_of_day(windows, windows.rth_close_ns)
    rate[pm:open_] = 0.22
    econ = _ny_second(windows, day, 8, 30)  # 08:30 ET data releases
    rate[econ:open_] += 0.25 * np.exp(-(t[econ:open_] - econ) / 900.0)

    rth = t[open_:close]
    u_shape = 1.0 + 2.2 * np.exp(-(rth - open_) / 1800.0) + 1.6 * np.exp(-(close - rth) / 1500.0)
    rate[open_:close] = u_shape

    # After the cash close the futures keep trading, quieter, until the 17:00 ET halt
    # (the daily maintenance break), then Globex reopens at 18:00 ET for the next day.
    halt = _ny_second(windows, day, 17)
    reopen = _ny_second(windows, day, 18)
    rate[close:halt] = 0.35 * np.exp(-(t[close:halt] - close) / 1200.0) + 0.08
    rate[max(halt, 0) : min(reopen, SECONDS_PER_DAY)] = 0.0
    # The previous evening's halt can fall inside this UTC day too (21:00-22:00 / 22:00-23:00).
    prev_halt = halt - SECONDS_PER_DAY
    prev_reopen = reopen - SECONDS_PER_DAY
    if prev_reopen > 0:
        rate[max(prev_halt, 0) : prev_reopen] = 0.0
    return rate


def event_times(
    rng: np.random.Generator, rate: np.ndarray, expected_events: float, day_start_ns: int
) -> np.ndarray:
    """Inhomogeneous Poisson event times (UTC ns, sorted) with the given expected count."""
    lam = rate * (expected_events / rate.sum())
    counts = rng.poisson(lam)
    seconds = np.repeat(np.arange(len(rate), dtype=np.int64), counts)
    offsets = rng.integers(0, NS_PER_SECOND, size=len(seconds), dtype=np.int64)
    ts = day_start_ns + seconds * NS_PER_SECOND + offsets
    ts.sort(kind="stable")
    return ts
