import datetime as dt

import pytest

from spymaster_assets.defs.partitions import trading_days as partitions
from spymaster_assets.market.trading_calendar import (
    NotATradingDayError,
    parse_trading_day,
    session_windows,
    trading_days,
)


def utc_hour(ns: int, day: dt.date) -> float:
    return (ns - session_windows(day).utc_day_start_ns) / 3.6e12


def test_partitions_are_exactly_the_xnys_sessions_of_the_horizon():
    keys = partitions.get_partition_keys()
    assert keys == [d.isoformat() for d in trading_days()]
    assert keys[0] == "2015-01-02"
    assert keys[-1] == "2027-12-31"  # the horizon exists today, not only up to now


@pytest.mark.parametrize(
    "day, present",
    [
        ("2025-11-22", False),  # Saturday
        ("2025-11-27", False),  # Thanksgiving
        ("2025-12-25", False),  # Christmas
        ("2025-11-28", True),  # early close is a partition
        ("2025-11-24", True),  # Monday
        ("2027-06-18", False),  # Juneteenth observed, in the future
    ],
)
def test_weekends_and_holidays_are_not_partitions(day, present):
    assert partitions.has_partition_key(day) is present


def test_dst_moves_the_utc_open_but_not_the_new_york_open():
    winter = dt.date(2025, 3, 7)  # Friday before the March switch: EST
    summer = dt.date(2025, 3, 10)  # Monday after: EDT
    assert utc_hour(session_windows(winter).rth_open_ns, winter) == 14.5
    assert utc_hour(session_windows(summer).rth_open_ns, summer) == 13.5
    assert utc_hour(session_windows(winter).premarket_start_ns, winter) == 9.0
    assert utc_hour(session_windows(summer).premarket_start_ns, summer) == 8.0
    november = dt.date(2025, 11, 3)  # Monday after the November switch back to EST
    assert utc_hour(session_windows(november).rth_close_ns, november) == 21.0


def test_early_close_is_1300_new_york():
    day = dt.date(2025, 11, 28)
    windows = session_windows(day)
    assert windows.early_close
    assert utc_hour(windows.rth_close_ns, day) == 18.0
    assert not session_windows(dt.date(2025, 11, 26)).early_close


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2025-11-22", "weekend"),
        ("2025-11-27", "holiday"),
        ("2014-12-31", "outside the calendar horizon"),
        ("2028-01-03", "outside the calendar horizon"),
        ("2025-13-01", "YYYY-MM-DD"),
    ],
)
def test_non_trading_dates_are_refused_with_a_reason(text, reason):
    with pytest.raises(NotATradingDayError, match=reason):
        parse_trading_day(text)
