"""Schema of the gold signals table (SPEC §9): one row per signal, research-ready.

Physics columns (barrier, tape, fuel) join when their assets exist.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.signals.level_kinds import LEVEL_KINDS
from spymaster_assets.signals.outcome_names import DIRECTIONS, OUTCOMES

C = pa.Column
POSITIVE = pa.Check.gt(0)

SIGNALS = pa.DataFrameSchema(
    {
        "event_id": C(
            pl.String, pa.Check.str_matches(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-"), unique=True
        ),
        "ts_ns": C(pl.Int64, POSITIVE),
        "info_ts_ns": C(pl.Int64, POSITIVE),
        "date": C(pl.Date),
        "symbol": C(pl.String, pa.Check.eq("SPY")),
        "es_contract": C(pl.String, pa.Check.str_matches(r"^ES[HMUZ]\d$")),
        "level_price": C(pl.Float64, POSITIVE),
        "level_kind": C(pl.Int8, pa.Check.in_range(0, len(LEVEL_KINDS) - 1)),
        "level_kind_name": C(pl.String, pa.Check.isin(list(LEVEL_KINDS))),
        "level_kinds": C(pl.List(pl.String)),
        "direction": C(pl.String, pa.Check.isin(list(DIRECTIONS))),
        "distance": C(pl.Float64, pa.Check.ge(0)),
        "spot": C(pl.Float64, POSITIVE),
        "approach_velocity": C(pl.Float64, nullable=True),
        "approach_bars": C(pl.Int32, pa.Check.ge(0), nullable=True),
        "approach_distance": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "prior_touches": C(pl.Int32, pa.Check.ge(0)),
        "bars_since_open": C(pl.Int32, pa.Check.ge(0)),
        "is_first_15m": C(pl.Boolean),
        "outcome": C(pl.String, pa.Check.isin(list(OUTCOMES))),
        "time_to_outcome_s": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "future_price_5min": C(pl.Float64, POSITIVE, nullable=True),
        "excursion_max": C(pl.Float64, nullable=True),
        "excursion_min": C(pl.Float64, nullable=True),
        "label_truncated": C(pl.Boolean),
    },
    strict=True,
    ordered=True,
    name="gold/signals",
)
