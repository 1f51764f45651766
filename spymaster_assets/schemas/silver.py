"""Schemas of the silver tables (SPY dollars, UTC ns)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.signals.level_kinds import LEVEL_KINDS
from spymaster_assets.signals.outcome_names import DIRECTIONS, OUTCOMES

C = pa.Column
POSITIVE = pa.Check.gt(0)

OHLCV_1M = pa.DataFrameSchema(
    {
        "ts_ns": C(
            pl.Int64,
            [
                POSITIVE,
                pa.Check(
                    lambda d: d.lazyframe.select(pl.col(d.key) % 60_000_000_000 == 0),
                    name="minute_aligned",
                ),
            ],
            unique=True,
            description="Bar start, UTC ns",
        ),
        "open": C(pl.Float64, POSITIVE, description="First trade, SPY $"),
        "high": C(pl.Float64, POSITIVE, description="Highest trade, SPY $"),
        "low": C(pl.Float64, POSITIVE, description="Lowest trade, SPY $"),
        "close": C(pl.Float64, POSITIVE, description="Last trade, SPY $"),
        "volume": C(pl.Int64, POSITIVE, description="ES contracts"),
        "trades": C(pl.Int64, POSITIVE, description="Number of trades"),
        "notional": C(
            pl.Float64, POSITIVE, description="Sum of SPY price x ES contracts (for VWAP)"
        ),
        "session": C(
            pl.String, pa.Check.isin(["PM", "RTH"]), description="PM (04:00-09:30 ET) or RTH"
        ),
    },
    strict=True,
    ordered=True,
    name="silver/ohlcv_1m",
)

LEVELS = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE, description="Start of the bar the level applies to, UTC ns"),
        "level_kind": C(
            pl.Int8,
            pa.Check.in_range(0, len(LEVEL_KINDS) - 1),
            description="Code in SPEC §4 priority order",
        ),
        "level_kind_name": C(pl.String, pa.Check.isin(list(LEVEL_KINDS))),
        "level_price": C(pl.Float64, POSITIVE, description="SPY $, rounded to the cent"),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_kind", "level_price"],
    name="silver/levels",
)

TOUCHES = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE),
        "info_ts_ns": C(pl.Int64, POSITIVE),
        "level_price": C(pl.Float64, POSITIVE),
        "level_kind": C(pl.Int8, pa.Check.in_range(0, len(LEVEL_KINDS) - 1)),
        "level_kind_name": C(pl.String, pa.Check.isin(list(LEVEL_KINDS))),
        "level_kinds": C(pl.List(pl.String)),
        "direction": C(pl.String, pa.Check.isin(list(DIRECTIONS))),
        "distance": C(pl.Float64, pa.Check.ge(0)),
        "spot": C(pl.Float64, POSITIVE),
        "bar_open": C(pl.Float64, POSITIVE),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/touches",
)

APPROACH_CONTEXT = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE),
        "level_price": C(pl.Float64, POSITIVE),
        "approach_velocity": C(pl.Float64, nullable=True),
        "approach_bars": C(pl.Int32, pa.Check.ge(0), nullable=True),
        "approach_distance": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "prior_touches": C(pl.Int32, pa.Check.ge(0)),
        "bars_since_open": C(pl.Int32, pa.Check.ge(0)),
        "is_first_15m": C(pl.Boolean),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/approach_context",
)

OUTCOME_LABELS = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE),
        "level_price": C(pl.Float64, POSITIVE),
        "outcome": C(pl.String, pa.Check.isin(list(OUTCOMES))),
        "time_to_outcome_s": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "future_price_5min": C(pl.Float64, POSITIVE, nullable=True),
        "excursion_max": C(pl.Float64, nullable=True),
        "excursion_min": C(pl.Float64, nullable=True),
        "label_truncated": C(pl.Boolean),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/outcome_labels",
)
