"""Hand-made trading days: write exactly the trades a rule needs, run the real asset chain."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import dagster as dg
import polars as pl

from spymaster_assets.definitions import defs
from spymaster_assets.defs.chain.runner import FORCE_TAG
from spymaster_assets.defs.resources import make_resources
from spymaster_assets.market.trading_calendar import NEW_YORK
from spymaster_assets.paths import DataLayout
from spymaster_assets.settings import SpymasterConfig

from . import dbn_factory as make

FRONT = 4242
CHAIN = [
    "bronze/es_trades",
    "bronze/es_mbp10",
    "bronze/spy_option_trades",
    "silver/ohlcv_1m",
    "silver/option_flow",
    "silver/levels",
    "silver/touches",
    "silver/barrier_physics",
    "silver/tape_physics",
    "silver/fuel_physics",
    "silver/approach_context",
    "silver/outcome_labels",
    "gold/signals",
]


def ns(day: dt.date, clock: str) -> int:
    """UTC ns of a New York wall-clock time 'HH:MM[:SS[.ffffff]]' on `day`."""
    parts = clock.split(":")
    h, m = int(parts[0]), int(parts[1])
    sec = float(parts[2]) if len(parts) > 2 else 0.0
    whole = int(sec)
    micro = round((sec - whole) * 1e6)
    moment = dt.datetime.combine(day, dt.time(h, m, whole, micro), tzinfo=NEW_YORK)
    return int(moment.timestamp()) * 10**9 + micro * 1000


class HandDay:
    def __init__(self, root: Path, day: dt.date):
        self.root = root
        self.day = day
        self.rows: list[tuple] = []

    def trade(self, clock: str, spy_price: float, size: int = 1, side: str = "B") -> HandDay:
        self.rows.append((FRONT, ns(self.day, clock), spy_price * 10, size, side))
        return self

    def bar(self, minute: str, o: float, h: float, low: float, c: float, size: int = 1) -> HandDay:
        """Four trades in the minute starting at `minute` (HH:MM): open, high, low, close."""
        for second, price in zip((1, 2, 3, 4), (o, h, low, c), strict=True):
            self.trade(f"{minute}:{second:02d}", price, size)
        return self

    def write(self, books: list[tuple] | None = None, options_csv: str | None = None) -> HandDay:
        """Write the trades; books (see dbn_factory.books) and options CSV text are optional."""
        layout = DataLayout(self.root)
        rows = sorted(self.rows, key=lambda r: r[1])
        rows = [(*r, i + 1) for i, r in enumerate(rows)]
        make.write_day_file(
            layout.dbn_path("trades", self.day),
            "trades",
            self.day,
            make.trades(rows),
            {"ESZ5": FRONT},
        )
        make.write_day_file(
            layout.dbn_path("mbp-10", self.day),
            "mbp-10",
            self.day,
            make.books(books or []),
            {"ESZ5": FRONT},
        )
        options = layout.options_path(self.day)
        options.parent.mkdir(parents=True, exist_ok=True)
        header = "ticker,conditions,correction,exchange,price,sip_timestamp,size\n"
        options.write_bytes(gzip.compress((options_csv or header).encode()))
        return self

    def run(self, selection: list[str] | None = None, settings: SpymasterConfig | None = None):
        result, failures = self._materialize(selection, settings)
        assert result.success, failures
        return result

    def failures(self, selection: list[str] | None = None) -> list[str]:
        """The step failure messages of a run expected to fail."""
        result, failures = self._materialize(selection, None)
        assert not result.success
        return failures

    def _materialize(self, selection, settings):
        result = dg.materialize(
            list(defs.assets),
            partition_key=self.day.isoformat(),
            selection=selection or CHAIN,
            resources=make_resources(self.root, settings),
            raise_on_error=False,
            tags={FORCE_TAG: "true"},  # these tests are about computing: never reuse a day
        )
        failures = [
            _full_message(e.step_failure_data.error) for e in result.all_events if e.is_step_failure
        ]
        return result, failures

    def table(self, layer: str, name: str) -> pl.DataFrame:
        return pl.read_parquet(DataLayout(self.root).lake_path(layer, name, self.day.isoformat()))

    def signals(self) -> pl.DataFrame:
        return self.table("gold", "signals")

    def at(self, clock: str) -> int:
        return ns(self.day, clock)


def _full_message(error) -> str:
    """An error's message and its causes' (a failed input load wraps the real error)."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return "\n".join(parts)
