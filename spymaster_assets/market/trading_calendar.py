"""NYSE trading days and their session windows, from exchange_calendars (XNYS).

Every window is computed by localising New York wall-clock times for the given date, so DST
switches and early closes come out right without any hard-coded UTC hour.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals

from spymaster_assets.market.calendar_horizon import CALENDAR_END, CALENDAR_START

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_NAME = "XNYS"
PREMARKET_OPEN = dt.time(4, 0)
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_DAY = 86_400 * NS_PER_SECOND


class NotATradingDayError(ValueError):
    """The date is not an XNYS session inside the calendar horizon."""


@lru_cache(maxsize=1)
def _calendar() -> xcals.ExchangeCalendar:
    # One extra year on each side so the horizon edges are inside the calendar's own bounds.
    with warnings.catch_warnings():
        # exchange_calendars trips pandas 3 deprecation warnings of its own; not ours to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(
            CALENDAR_NAME,
            start=str(CALENDAR_START - dt.timedelta(days=366)),
            end=str(CALENDAR_END + dt.timedelta(days=366)),
        )


@lru_cache(maxsize=1)
def _sessions() -> tuple[dt.date, ...]:
    sessions = _calendar().sessions_in_range(str(CALENDAR_START), str(CALENDAR_END))
    return tuple(ts.date() for ts in sessions)


def trading_days(start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """NYSE sessions in [start, end] (inclusive), clipped to the calendar horizon."""
    lo = start or CALENDAR_START
    hi = end or CALENDAR_END
    return [d for d in _sessions() if lo <= d <= hi]


def is_trading_day(day: dt.date) -> bool:
    return CALENDAR_START <= day <= CALENDAR_END and _calendar().is_session(str(day))


def non_trading_weekdays() -> list[dt.date]:
    """Weekdays inside the horizon that are not sessions (exchange holidays)."""
    sessions = set(_sessions())
    out = []
    day = CALENDAR_START
    while day <= CALENDAR_END:
        if day.weekday() < 5 and day not in sessions:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def consecutive_sessions(days: list[dt.date], size: int) -> list[list[dt.date]]:
    """Trading days cut into runs of at most `size` consecutive sessions (a run of the daily
    chain covers a range of partitions, so a gap in the days starts a new run)."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and len(runs[-1]) < size and trading_days(runs[-1][-1], day)[1:] == [day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def parse_trading_day(text: str) -> dt.date:
    """Parse YYYY-MM-DD and insist it is a trading day; the error says why not."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise NotATradingDayError(f"{text!r} is not a date in YYYY-MM-DD form") from exc
    if not (CALENDAR_START <= day <= CALENDAR_END):
        raise NotATradingDayError(
            f"{day} is outside the calendar horizon {CALENDAR_START}..{CALENDAR_END}"
        )
    if not _calendar().is_session(str(day)):
        reason = "a weekend" if day.weekday() >= 5 else "an NYSE holiday"
        raise NotATradingDayError(f"{day} is not an NYSE trading day ({reason})")
    return day


def utc_day_start_ns(day: dt.date) -> int:
    """Midnight UTC of `day`: Databento's daily files are cut there."""
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()) * NS_PER_SECOND


def _ny_ns(day: dt.date, wall: dt.time) -> int:
    return int(dt.datetime.combine(day, wall, tzinfo=NEW_YORK).timestamp()) * NS_PER_SECOND


@dataclass(frozen=True)
class SessionWindows:
    """UTC nanosecond bounds of one trading day's windows (all half-open [start, end))."""

    trading_day: dt.date
    premarket_start_ns: int
    rth_open_ns: int
    rth_close_ns: int
    early_close: bool

    @property
    def utc_day_start_ns(self) -> int:
        return utc_day_start_ns(self.trading_day)

    @property
    def utc_day_end_ns(self) -> int:
        return self.utc_day_start_ns + NS_PER_DAY

    def opening_range_end_ns(self, or_minutes: int) -> int:
        return self.rth_open_ns + or_minutes * NS_PER_MINUTE


def session_windows(day: dt.date) -> SessionWindows:
    """Pre-market, RTH and close of an NYSE trading day in UTC nanoseconds."""
    parse_trading_day(str(day))
    close = _calendar().session_close(str(day))
    open_ = _calendar().session_open(str(day))
    close_ny = close.tz_convert(NEW_YORK)
    return SessionWindows(
        trading_day=day,
        premarket_start_ns=_ny_ns(day, PREMARKET_OPEN),
        rth_open_ns=int(open_.value),
        rth_close_ns=int(close.value),
        early_close=close_ny.time() < dt.time(16, 0),
    )
