"""Trading-day partitions: every XNYS session of the fixed calendar horizon, early closes included."""

import datetime as dt

import dagster as dg

from spymaster_assets.market.trading_calendar import (
    CALENDAR_END,
    CALENDAR_START,
    non_trading_weekdays,
)
from spymaster_assets.market.trading_calendar import trading_days as calendar_trading_days

WEEKEND_CRONS = ["0 0 * * 6", "0 0 * * 0"]
# Dagster stops time-window partitions at "now"; the offset (counted in partitions, capped by
# end_date) makes the whole fixed horizon exist today, so future sessions are listed too.
HORIZON_OFFSET = len(calendar_trading_days())

trading_days = dg.DailyPartitionsDefinition(
    start_date=CALENDAR_START.isoformat(),
    end_date=(CALENDAR_END + dt.timedelta(days=1)).isoformat(),
    timezone="America/New_York",
    end_offset=HORIZON_OFFSET,
    exclusions=[
        *WEEKEND_CRONS,
        *(dt.datetime.combine(d, dt.time()) for d in non_trading_weekdays()),
    ],
)
