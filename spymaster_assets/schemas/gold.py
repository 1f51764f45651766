"""Schema of the gold signals table (SPEC §9): one row per signal, research-ready.

Built from the silver schemas it joins, so a column is defined once.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.schemas import silver
from spymaster_assets.vocabulary import (
    DEFAULT_LABEL_HORIZONS_MIN,
    DEFAULT_LABEL_THRESHOLDS,
    label_grid_of,
)

KEY = ("ts_ns", "level_price")


def _columns(schema: pa.DataFrameSchema, *names: str) -> dict[str, pa.Column]:
    return {name: schema.columns[name] for name in names}


def _without_key(schema: pa.DataFrameSchema) -> dict[str, pa.Column]:
    return {n: c for n, c in schema.columns.items() if n not in KEY}


def signals_schema(thresholds, horizons) -> pa.DataFrameSchema:
    """gold/signals for a label grid (the configured thresholds x horizons)."""
    labels = silver.outcome_labels_schema(thresholds, horizons)
    return pa.DataFrameSchema(
        {
            "event_id": pa.Column(
                pl.String,
                pa.Check.str_matches(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-"),
                unique=True,
            ),
            **_columns(silver.TOUCHES, "ts_ns", "info_ts_ns"),
            "date": pa.Column(pl.Date),
            "symbol": pa.Column(pl.String, pa.Check.eq("SPY")),
            "es_contract": pa.Column(pl.String, pa.Check.str_matches(r"^ES[HMUZ]\d$")),
            **_columns(
                silver.TOUCHES,
                "level_price",
                "level_kind",
                "level_kind_name",
                "level_kinds",
                "direction",
                "distance",
                "spot",
            ),
            **_without_key(silver.BARRIER_PHYSICS),
            **_without_key(silver.TAPE_PHYSICS),
            **_without_key(silver.FUEL_PHYSICS),
            **_without_key(silver.APPROACH_CONTEXT),
            **_without_key(labels),
        },
        strict=True,
        ordered=True,
        name="gold/signals",
    )


SIGNALS = signals_schema(DEFAULT_LABEL_THRESHOLDS, DEFAULT_LABEL_HORIZONS_MIN)


def signals_schema_of(columns) -> pa.DataFrameSchema:
    """The gold schema for the label grid a stored table carries (read from its column names),
    so files written under a non-default grid validate against their own grid."""
    thresholds, horizons = label_grid_of(columns)
    return signals_schema(thresholds, horizons) if thresholds else SIGNALS
