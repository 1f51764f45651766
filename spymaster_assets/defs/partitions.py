"""Trading-day partitions: every XNYS session of the fixed calendar horizon, early closes included.

The holidays come from exchange_calendars (market/trading_calendar.py); loading the definitions
reads them from the load cache instead of building the calendar in every process.
"""

import datetime as dt

import dagster as dg

from spymaster_assets.defs.load_cache import load_cache
from spymaster_assets.market.calendar_horizon import CALENDAR_END, CALENDAR_START

WEEKEND_CRONS = ["0 0 * * 6", "0 0 * * 0"]


def _calendar_facts() -> dict:
    from spymaster_assets.market.trading_calendar import non_trading_weekdays, trading_days

    return {
        "holidays": [d.isoformat() for d in non_trading_weekdays()],
        "sessions": len(trading_days()),
    }


_FACTS = load_cache().get("xnys_calendar", _calendar_facts)
# Dagster stops time-window partitions at "now"; the offset (counted in partitions, capped by
# end_date) makes the whole fixed horizon exist today, so future sessions are listed too.
HORIZON_OFFSET = _FACTS["sessions"]

trading_days = dg.DailyPartitionsDefinition(
    start_date=CALENDAR_START.isoformat(),
    end_date=(CALENDAR_END + dt.timedelta(days=1)).isoformat(),
    timezone="America/New_York",
    end_offset=HORIZON_OFFSET,
    exclusions=[
        *WEEKEND_CRONS,
        *(dt.datetime.fromisoformat(d) for d in _FACTS["holidays"]),
    ],
)
