"""Gold rows: touches joined with approach context and labels, with a stable event id."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.gold import SIGNALS

SIGNAL_COLUMNS = dtypes(SIGNALS)
# Fixed namespace: the same (date, ts_ns, kind, price) gets the same id in every run.
EVENT_NAMESPACE = uuid.UUID("5b0c1d2e-7a44-4f0e-9a1c-3e5d6f7a8b9c")
KEY = ["ts_ns", "level_price"]


def event_id(day: dt.date, ts_ns: int, level_kind_name: str, level_price: float) -> str:
    return str(
        uuid.uuid5(
            EVENT_NAMESPACE, f"{day.isoformat()}|{ts_ns}|{level_kind_name}|{level_price:.2f}"
        )
    )


def gold_signals(
    day: dt.date,
    es_contract: str,
    touches: pl.DataFrame,
    features: list[pl.DataFrame],
    columns: dict[str, pl.DataType] = SIGNAL_COLUMNS,
) -> pl.DataFrame:
    """Touches joined one to one with every per-signal table (physics, approach, labels), in
    the gold schema's `columns` (the default label grid's unless given)."""
    joined = touches
    for table in features:
        joined = joined.join(table, on=KEY, how="left", validate="1:1")
    if joined.height != touches.height:
        raise ValueError("a feature table does not match the touches one to one")
    ids = [
        event_id(day, ts, kind, price)
        for ts, kind, price in joined.select("ts_ns", "level_kind_name", "level_price").iter_rows()
    ]
    return (
        joined.with_columns(
            event_id=pl.Series(ids, dtype=pl.String),
            date=pl.lit(day, dtype=pl.Date),
            symbol=pl.lit("SPY"),
            es_contract=pl.lit(es_contract),
        )
        .select(list(columns))
        .cast(columns)
        .sort(KEY)
    )
