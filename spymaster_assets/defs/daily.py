"""Trading-day assets: each is a function of one day, declared here and run by the daily chain.

`@daily_asset` turns a function of one trading day into a `DailyAsset`: its key, group,
description, checks, and the same-day assets it reads. The daily chain (defs/chain) runs every
selected one, day after day in date order, and records each day's materialization and check
results on that day's partition. A function receives a `Day` (the date, its session windows,
the resources) and its inputs as polars LazyFrames, and returns a `DayOutput`: the table (or a
parquet file it streamed itself), its check results and metadata.

Functions import polars, pandera and the kernels inside their bodies: the definitions load
without them (every Dagster process loads the definitions; only runs compute).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.defs.resources import LakeResource, StagedParquet
from spymaster_assets.settings import SpymasterConfig

if TYPE_CHECKING:
    import polars as pl

    from spymaster_assets.market.trading_calendar import SessionWindows


@dataclass
class Day:
    """What a trading-day asset function knows besides its inputs."""

    day: dt.date
    settings: SpymasterConfig
    kernels: NumbaKernels
    lake: LakeResource
    log: Any
    bar_history: Callable[[dt.date], BarHistory] | None = None
    # What this run builds today: tables already built (in memory) and the selected assets.
    frames: dict[dg.AssetKey, pl.DataFrame] = field(default_factory=dict)
    selected: frozenset[dg.AssetKey] = frozenset()
    # In-memory by-products one asset leaves for a later one of the same day and run.
    shared: dict[str, Any] = field(default_factory=dict)
    # Observers of the asset being computed (see DailyAsset.watch): it shows them its data.
    watchers: list[Any] = field(default_factory=list)

    @property
    def partition_key(self) -> str:
        return self.day.isoformat()

    @cached_property
    def windows(self) -> SessionWindows:
        from spymaster_assets.market.trading_calendar import session_windows

        return session_windows(self.day)


@dataclass
class BarHistory:
    """Bars of the trading days before a day (for SMA_200), and where each came from."""

    bars: dict[dt.date, pl.DataFrame]
    sources: dict[str, str]  # day -> "this run" | "lake" | "raw trades" | "no raw file" | problem
    problems: list[str]


@dataclass
class DayOutput:
    """One asset's result for one day."""

    frame: pl.DataFrame | None = None  # the table, written to the lake by the chain
    staged: StagedParquet | None = None  # or a parquet file already written beside its path
    checks: list[dg.AssetCheckResult] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # other files it wrote (pictures)


@dataclass(frozen=True)
class DailyAsset:
    key: dg.AssetKey
    group: str
    description: str
    compute: Callable[..., DayOutput]
    checks: tuple[dg.AssetCheckSpec, ...] = ()
    inputs: Mapping[str, dg.AssetKey] = field(default_factory=dict)  # argument -> same-day asset
    deps: tuple[dg.AssetKey, ...] = ()  # same-day assets it reads without an argument
    kinds: frozenset[str] = frozenset({"polars", "parquet"})
    table: bool = True  # a parquet table whose pandera schema is named like the asset
    raw: tuple[str, ...] = ()  # the day's raw files it reads: "trades", "mbp-10", "options"
    after: tuple[dg.AssetKey, ...] = ()  # run after these when both are selected (no lineage)
    # (asset, factory): while `asset` is computed in the same run, the factory's observer sees
    # its data as it streams by (the asset gets it in `day.watchers`); this asset then finds
    # it in `day.shared[name]` (bronze MBP-10 feeds barrier physics without a second read).
    watch: tuple[dg.AssetKey, Callable[[Day], Any]] | None = None
    earlier_days: int = 0  # it also reads this many earlier trading days (from their raw files)

    @property
    def upstream(self) -> tuple[dg.AssetKey, ...]:
        return tuple(dict.fromkeys([*self.inputs.values(), *self.deps]))

    @property
    def name(self) -> str:
        return self.key.to_user_string()

    @property
    def functions(self) -> tuple[Callable, ...]:
        """The code it runs: its function, and its observer's factory (for its code version)."""
        return (self.compute,) if self.watch is None else (self.compute, self.watch[1])


def daily_asset(
    key: dg.AssetKey,
    *,
    group: str,
    description: str,
    checks: list[dg.AssetCheckSpec] | tuple = (),
    inputs: Mapping[str, dg.AssetKey] | None = None,
    deps: tuple[dg.AssetKey, ...] = (),
    kinds: set[str] | None = None,
    table: bool = True,
    raw: tuple[str, ...] = (),
    after: tuple[dg.AssetKey, ...] = (),
    watch: tuple[dg.AssetKey, Callable[[Day], Any]] | None = None,
    earlier_days: int = 0,
) -> Callable[[Callable[..., DayOutput]], DailyAsset]:
    def wrap(fn: Callable[..., DayOutput]) -> DailyAsset:
        return DailyAsset(
            key=key,
            group=group,
            description=description,
            compute=fn,
            checks=tuple(checks),
            inputs=dict(inputs or {}),
            deps=tuple(deps),
            kinds=frozenset(kinds or {"polars", "parquet"}),
            table=table,
            raw=raw,
            after=tuple(after),
            watch=watch,
            earlier_days=earlier_days,
        )

    return wrap


def output(frame: pl.DataFrame, results: list[dg.AssetCheckResult], **metadata) -> DayOutput:
    """A table with its check results; metadata gains its time range."""
    return DayOutput(frame=frame, checks=results, metadata={**metadata, **time_range(frame)})


def params_from(cls, settings):
    """A kernel's parameter dataclass filled from the configuration fields of the same names."""
    return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


def iso(ns: int | None) -> str:
    import pandas as pd

    return "" if ns is None else pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


def time_range(frame: pl.DataFrame, column: str = "ts_ns") -> dict[str, str]:
    if frame.height == 0 or column not in frame.columns:
        return {"first_ts": "", "last_ts": ""}
    return {"first_ts": iso(frame[column].min()), "last_ts": iso(frame[column].max())}


def counts_by(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    return {str(k): int(v) for k, v in frame.group_by(column).len().sort(column).iter_rows()}


def json_counts(frame: pl.DataFrame, column: str) -> dg.MetadataValue:
    return dg.MetadataValue.json(counts_by(frame, column))


def summary_metadata(results: list[dg.AssetCheckResult]) -> dict[str, str]:
    return ch.summary_metadata(results)
