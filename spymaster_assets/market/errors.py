"""The one error type for bad raw input: it always names the file, the trading day and the problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


class RawDataError(Exception):
    def __init__(self, path: Path | str, trading_day: dt.date | str, problem: str):
        self.path = str(path)
        self.trading_day = str(trading_day)
        self.problem = problem
        super().__init__(f"{self.path} (trading day {self.trading_day}): {problem}")
