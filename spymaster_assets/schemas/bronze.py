"""Schemas of the bronze tables: what a consumer can rely on in each parquet file."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.vocabulary import BOOK_KINDS, N_LEVELS, level_field

ES_TICKS_PER_POINT = 4  # ES trades on a 0.25 grid


def _on_es_grid(data: pa.PolarsData) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(
        ((col * ES_TICKS_PER_POINT).round(0) == col * ES_TICKS_PER_POINT) | col.is_null()
    )


def _has_f_last(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select((pl.col(data.key).cast(pl.Int32) & 128) != 0)


ES_TRADES = pa.DataFrameSchema(
    {
        "ts_event": pa.Column(pl.Int64, pa.Check.gt(0), description="Exchange time, UTC ns"),
        "ts_recv": pa.Column(
            pl.Int64, pa.Check.gt(0), description="Databento receive time, UTC ns"
        ),
        "sequence": pa.Column(pl.Int64, description="Venue sequence number"),
        "price": pa.Column(
            pl.Float64, pa.Check(_on_es_grid, name="on_es_tick_grid"), description="ES points"
        ),
        "size": pa.Column(pl.Int64, pa.Check.gt(0), description="ES contracts"),
        "side": pa.Column(
            pl.String,
            pa.Check.isin(["A", "B", "N"]),
            description="Aggressor: B buy, A sell, N none",
        ),
        "flags": pa.Column(pl.UInt8),
        "instrument_id": pa.Column(pl.Int64),
        "es_contract": pa.Column(pl.String, description="Raw symbol of the front month, e.g. ESZ5"),
    },
    strict=True,
    ordered=True,
    name="bronze/es_trades",
)


def _book_columns() -> dict[str, pa.Column]:
    cols: dict[str, pa.Column] = {}
    for k in range(N_LEVELS):
        for kind in BOOK_KINDS:
            name = level_field(kind, k)
            if kind.endswith("_px"):
                cols[name] = pa.Column(
                    pl.Float64, pa.Check(_on_es_grid, name="on_es_tick_grid"), nullable=True
                )
            else:
                cols[name] = pa.Column(pl.UInt32)
    return cols


ES_MBP10 = pa.DataFrameSchema(
    {
        "ts_event": pa.Column(pl.Int64, pa.Check.gt(0)),
        "ts_recv": pa.Column(pl.Int64, pa.Check.gt(0)),
        "sequence": pa.Column(pl.Int64),
        "action": pa.Column(pl.String, pa.Check.isin(["A", "C", "M", "T", "F", "R", "N"])),
        "side": pa.Column(pl.String, pa.Check.isin(["A", "B", "N"])),
        "depth": pa.Column(pl.UInt8, pa.Check.lt(N_LEVELS)),
        "price": pa.Column(pl.Float64, nullable=True),
        "size": pa.Column(pl.UInt32),
        "flags": pa.Column(pl.UInt8, pa.Check(_has_f_last, name="f_last_set")),
        **_book_columns(),
    },
    strict=True,
    ordered=True,
    name="bronze/es_mbp10",
)

SPY_OPTION_TRADES = pa.DataFrameSchema(
    {
        "ts_ns": pa.Column(pl.Int64, pa.Check.gt(0), description="SIP timestamp, UTC ns"),
        "ticker": pa.Column(pl.String, pa.Check.str_matches(r"^O:SPY\d{6}[CP]\d{8}$")),
        "expiration": pa.Column(pl.Date),
        "right": pa.Column(pl.String, pa.Check.isin(["C", "P"])),
        "strike": pa.Column(pl.Float64, pa.Check.gt(0)),
        "price": pa.Column(pl.Float64, pa.Check.ge(0)),
        "size": pa.Column(pl.Int64, pa.Check.gt(0)),
        "exchange": pa.Column(pl.Int64),
        "conditions": pa.Column(pl.String, nullable=True),
    },
    strict=True,
    ordered=True,
    name="bronze/spy_option_trades",
)
