"""The fixed horizon of the partition set (no imports: read when the definitions load).

Users load years of history, and the partition list must not change from one day to the next.
"""

import datetime as dt

CALENDAR_START = dt.date(2015, 1, 2)
CALENDAR_END = dt.date(2027, 12, 31)
