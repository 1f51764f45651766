"""ES quarterly contracts: expiries, raw symbols, instrument ids and the volume roll."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MONTH_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}
# The volume roll happens on the Thursday eight days before expiry (CME's roll date).
ROLL_DAYS_BEFORE_EXPIRY = 8


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


@dataclass(frozen=True)
class EsContract:
    year: int
    month: int

    @property
    def expiry(self) -> dt.date:
        return third_friday(self.year, self.month)

    @property
    def roll_date(self) -> dt.date:
        return self.expiry - dt.timedelta(days=ROLL_DAYS_BEFORE_EXPIRY)

    @property
    def raw_symbol(self) -> str:
        return f"ES{MONTH_CODES[self.month]}{self.year % 10}"

    @property
    def instrument_id(self) -> int:
        # Stable, distinct ids; real ids are arbitrary integers too.
        return 100_000 + (self.year % 100) * 100 + self.month

    def next(self) -> EsContract:
        return (
            EsContract(self.year + 1, 3)
            if self.month == 12
            else EsContract(self.year, self.month + 3)
        )


def nearest_contract(day: dt.date) -> EsContract:
    """The first quarterly contract that has not expired by `day`."""
    contract = EsContract(day.year, 3)
    while contract.expiry < day:
        contract = contract.next()
    return contract


def calendar_spread_symbol(near: EsContract, far: EsContract) -> str:
    return f"{near.raw_symbol}-{far.raw_symbol}"


def spread_instrument_id(near: EsContract, far: EsContract) -> int:
    return 900_000 + (near.instrument_id % 10_000) * 10 + far.month // 3


def dominant_contract(day: dt.date) -> tuple[EsContract, EsContract, bool]:
    """(dominant, other, is_roll_day): who carries most volume on `day`.

    Before the roll date the nearest expiry dominates; from the roll date on, the next one.
    """
    near = nearest_contract(day)
    if day >= near.roll_date:
        return near.next(), near, day == near.roll_date
    return near, near.next(), False
