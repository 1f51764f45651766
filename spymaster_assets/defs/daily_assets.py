"""What every daily silver asset shares: its decorator, its output with check summaries, and
the metadata helpers researchers see in the UI."""

import dataclasses

import dagster as dg
import pandas as pd
import polars as pl

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.column_schema import column_schema
from spymaster_assets.defs.partitions import trading_days

NUMBA_POOL = "numba"  # dagster.yaml limits this pool: one compiled-kernel step at a time


def silver_asset(key: dg.AssetKey, schema, check_specs, description: str, **kwargs):
    """A trading-day silver asset stored as parquet, with its column schema and checks."""
    extra_kinds = kwargs.pop("extra_kinds", set())
    if "numba" in extra_kinds:
        kwargs.setdefault("pool", NUMBA_POOL)
    return dg.asset(
        key=key,
        partitions_def=trading_days,
        group_name="silver",
        kinds={"polars", "parquet"} | extra_kinds,
        check_specs=check_specs,
        metadata={"dagster/column_schema": column_schema(schema)},
        description=description,
        **kwargs,
    )


def params_from(cls, settings):
    """A kernel's parameter dataclass filled from the configuration fields of the same names."""
    return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


def iso(ns: int | None) -> str:
    return "" if ns is None else pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


def time_range(frame: pl.DataFrame, column: str = "ts_ns") -> dict[str, str]:
    if frame.height == 0:
        return {"first_ts": "", "last_ts": ""}
    return {"first_ts": iso(frame[column].min()), "last_ts": iso(frame[column].max())}


def counts_by(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    return {str(k): int(v) for k, v in frame.group_by(column).len().sort(column).iter_rows()}


def emit(frame: pl.DataFrame, results: list[dg.AssetCheckResult], **metadata):
    """The output (metadata + every check's summary), then the check results themselves."""
    yield dg.Output(
        frame, metadata={**metadata, **time_range(frame), **ch.summary_metadata(results)}
    )
    yield from results
