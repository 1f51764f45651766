"""Run the selected daily assets over a range of trading days, one day at a time.

One Dagster step covers the run's whole partition range (a backfill chunk, a sensor's batch, or
one day). For each day in date order it runs the selected assets in dependency order, handing
each day's tables from one asset to the next in memory (an asset not selected is read from the
lake), writes every table whole (temporary file, then rename), and records on that day's
partition its materialization (rows, metadata, code and data versions) and every check result.
A day that fails records nothing for the assets it could not build and the run goes on with the
next day; the step fails at the end, naming each failed day, asset and problem, so the other
days of the range stay materialized and the backfill marks exactly the failed partitions.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_TAG,
    NULL_EVENT_POINTER,
    DataVersion,
    get_input_data_version_tag,
    get_input_event_pointer_tag,
)

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.chain.currency import (
    configuration_version,
    data_version,
    earlier_trading_days,
    raw_file_versions,
)
from spymaster_assets.defs.chain.manifest import Built, DayManifest, manifest_path
from spymaster_assets.defs.daily import BarHistory, DailyAsset, Day, DayOutput
from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.defs.resources import LakeResource, write_parquet
from spymaster_assets.defs.silver.assets import SMA_HISTORY_DAYS
from spymaster_assets.defs.silver.checks import OHLCV_1M
from spymaster_assets.settings import SpymasterConfig
from spymaster_assets.storage import (
    file_identity,
    local_copy,
    modified_ns,
    publish,
    read_parquet,
    size,
)

if TYPE_CHECKING:
    import polars as pl

FORCE_TAG = "spymaster/force"  # a run with this tag "true" rebuilds current asset-days too


def in_dependency_order(assets: list[DailyAsset]) -> list[DailyAsset]:
    """Every asset after the assets it reads, and after those it asks to follow (stable:
    declaration order otherwise)."""
    keys = {a.key for a in assets}
    done: set[dg.AssetKey] = set()
    ordered: list[DailyAsset] = []
    pending = list(assets)
    while pending:
        ready = [
            a for a in pending if all(k in done or k not in keys for k in (*a.upstream, *a.after))
        ]
        if not ready:
            raise ValueError(f"dependency cycle among {[a.name for a in pending]}")
        for asset in ready:
            ordered.append(asset)
            done.add(asset.key)
            pending.remove(asset)
    return ordered


@dataclass
class DayFailure:
    day: dt.date
    asset: str
    message: str

    def line(self) -> str:
        return f"{self.day} {self.asset}: {self.message}"


def failure_message(exc: BaseException) -> str:
    """What the user needs: a bad raw file names the file, the day and the problem; a Dagster
    Failure its description; anything else its type and message (the traceback is logged)."""
    from spymaster_assets.market.errors import RawDataError

    if isinstance(exc, RawDataError):
        return str(exc)
    if isinstance(exc, dg.Failure):
        return (exc.description or str(exc)).strip()
    return f"{type(exc).__name__}: {exc}"


@dataclass
class DayState:
    """What one day of the run has produced so far."""

    day: dt.date
    manifest: DayManifest
    frames: dict[dg.AssetKey, pl.DataFrame] = field(default_factory=dict)
    data_versions: dict[dg.AssetKey, str] = field(default_factory=dict)
    failed: dict[dg.AssetKey, str] = field(default_factory=dict)
    reused: int = 0


class ChainRun:
    def __init__(
        self,
        context: dg.AssetExecutionContext,
        assets: list[DailyAsset],
        settings: SpymasterConfig,
        kernels: NumbaKernels,
        lake: LakeResource,
    ):
        self.context = context
        self.settings = settings
        self.kernels = kernels
        self.lake = lake
        selected = context.selected_asset_keys
        self.assets = [a for a in in_dependency_order(assets) if a.key in selected]
        self.selected_checks = context.selected_asset_check_keys
        self.recent_bars: dict[dt.date, pl.DataFrame] = {}  # this run's bars, for SMA_200
        # Earlier days' bars this run read from the lake or rebuilt from raw trades, with the
        # raw trades file's identity then: the next day needs most of them again, and a run
        # whose history days another run is still building would rebuild each one every day.
        self.history_bars: dict[dt.date, tuple[list[int] | None, pl.DataFrame, str]] = {}
        self.failures: list[DayFailure] = []
        self.reused_today = 0
        # A current asset-day (same code, configuration and inputs, file in place) is recorded
        # again rather than rebuilt, unless the run asks to rebuild it.
        self.force = context.run.tags.get(FORCE_TAG, "").lower() == "true"
        self.config_version = configuration_version(settings)

    # -- inputs ---------------------------------------------------------------------------

    def _input(self, key: dg.AssetKey, state: DayState) -> pl.LazyFrame:
        from spymaster_assets.storage import scan_parquet

        if key in state.frames:
            return state.frames[key].lazy()
        path = self.lake.asset_path(key, state.day.isoformat())
        if not path.exists():
            raise FileNotFoundError(
                f"{key.to_user_string()} has no data for {state.day} (expected {path}): "
                "materialize it first, or select it too"
            )
        return scan_parquet(path)

    def _input_data_version(self, key: dg.AssetKey, state: DayState) -> str | None:
        if key in state.data_versions:
            return state.data_versions[key]
        recorded = state.manifest.data_version(key.to_user_string())
        if recorded is not None:
            return recorded
        records = self.context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[state.day.isoformat()]),
            limit=1,
        ).records
        if not records:
            return None
        return records[0].asset_materialization.tags.get(DATA_VERSION_TAG)

    def bar_history(self, day: dt.date) -> BarHistory:
        """Bars of the SMA_HISTORY_DAYS trading days before `day`: from this run, else the lake
        (when its file is newer than the raw trades file), else rebuilt from the raw trades
        file. A day without a raw trades file has no bars (the data set starts later). Bars read
        or rebuilt are kept for the run's next days while the raw trades file is unchanged."""

        from spymaster_assets.defs.bronze.assets import bronze_window
        from spymaster_assets.market.bronze_es import bronze_trades
        from spymaster_assets.market.errors import RawDataError
        from spymaster_assets.schemas.bronze import ES_TRADES as ES_TRADES_SCHEMA
        from spymaster_assets.schemas.columns import schema_errors
        from spymaster_assets.signals.bars import session_bars

        layout = self.lake.layout
        prior_days = earlier_trading_days(day, SMA_HISTORY_DAYS)
        history = BarHistory(bars={}, sources={}, problems=[])
        if prior_days:  # a run's days go forward: older history is not needed again
            for old in [d for d in self.history_bars if d < prior_days[0]]:
                del self.history_bars[old]
        for prior in prior_days:
            raw = layout.existing_dbn_path("trades", prior)
            lake_file = self.lake.asset_path(OHLCV_1M, prior.isoformat())
            raw_identity = file_identity(raw)
            cached = self.history_bars.get(prior)
            if prior in self.recent_bars:
                history.bars[prior] = self.recent_bars[prior]
                history.sources[str(prior)] = "this run"
            elif cached is not None and cached[0] == raw_identity:
                history.bars[prior] = cached[1]
                history.sources[str(prior)] = cached[2]
            elif lake_file.exists() and (
                not raw.exists() or modified_ns(lake_file) >= modified_ns(raw)
            ):
                history.bars[prior] = read_parquet(lake_file)
                history.sources[str(prior)] = "lake"
                self.history_bars[prior] = (raw_identity, history.bars[prior], "lake")
            elif raw.exists():
                prior_day = Day(prior, self.settings, self.kernels, self.lake, self.context.log)
                try:
                    with local_copy(raw) as local:
                        trades = bronze_trades(
                            local,
                            prior,
                            prior_day.windows,
                            bronze_window(prior_day),
                            self.settings.front_month_error_share,
                        ).frame
                    # the blocking check bronze/es_trades would have run on the same table
                    errors = schema_errors(ES_TRADES_SCHEMA, trades)
                    if errors:
                        raise RawDataError(
                            raw, prior, "schema violations: " + "; ".join(errors[:3])
                        )
                except RawDataError as exc:
                    history.sources[str(prior)] = f"unreadable: {exc.problem}"
                    history.problems.append(f"SMA_200 history day left out: {exc}")
                    continue
                history.bars[prior] = session_bars(
                    trades, prior_day.windows, self.settings.es_spy_ratio
                )
                history.sources[str(prior)] = "raw trades"
                self.history_bars[prior] = (raw_identity, history.bars[prior], "raw trades")
            else:
                history.sources[str(prior)] = "no raw file"
        return history

    # -- one asset, one day -----------------------------------------------------------------

    def _store(self, asset: DailyAsset, out: DayOutput, state: DayState) -> tuple[Path, int]:
        final = self.lake.asset_path(asset.key, state.day.isoformat())
        if out.staged is not None:
            publish(out.staged.path, final)
            return final, out.staged.rows
        if out.frame is not None:
            write_parquet(out.frame, final)
            state.frames[asset.key] = out.frame
            return final, out.frame.height
        return final, 0

    def _data_version(self, asset: DailyAsset, state: DayState) -> tuple[str, dict[str, str]]:
        code_version = self.context.assets_def.specs_by_key[asset.key].code_version or ""
        inputs: dict[dg.AssetKey, DataVersion] = {}
        tags: dict[str, str] = {CODE_VERSION_TAG: code_version}
        for key in asset.upstream:
            version = self._input_data_version(key, state)
            if version is None:
                continue
            inputs[key] = DataVersion(version)
            tags[get_input_data_version_tag(key)] = version
            tags[get_input_event_pointer_tag(key)] = NULL_EVENT_POINTER
        raw = raw_file_versions(asset, self.lake.layout, state.day)
        version = data_version(code_version, inputs, raw, self.config_version)
        tags[DATA_VERSION_TAG] = version
        return version, tags

    def _run_asset(self, asset: DailyAsset, day: Day, state: DayState) -> Iterator:
        version, tags = self._data_version(asset, state)
        built = None if self.force else state.manifest.current(asset.name, version)
        if built is not None:
            yield from self._record_again(asset, built, state)
            return
        if "numba" in asset.kinds:
            self.kernels.prepare()  # once per process, outside the asset's own timing
        started = time.perf_counter()
        inputs = {name: self._input(key, state) for name, key in asset.inputs.items()}
        out = asset.compute(day, **inputs)
        path, rows = self._store(asset, out, state)
        seconds = time.perf_counter() - started
        state.data_versions[asset.key] = version
        stored = {}
        files = {str(f): file_identity(f) for f in out.files}
        if out.frame is not None or out.staged is not None:
            stored = {
                "path": dg.MetadataValue.path(str(path)),
                "dagster/row_count": rows,
                "bytes": size(path),
            }
            files[str(path)] = file_identity(path)
        materialization = dg.AssetMaterialization(
            asset_key=asset.key,
            partition=state.day.isoformat(),
            metadata={
                **out.metadata,
                **stored,
                "seconds": round(seconds, 3),
                **ch.summary_metadata(out.checks),
            },
            tags=tags,
        )
        blocking = {spec.name: spec.blocking for spec in asset.checks}
        evaluations = [
            dg.AssetCheckEvaluation(
                asset_key=asset.key,
                check_name=result.check_name,
                passed=result.passed,
                metadata=result.metadata,
                severity=result.severity,
                description=result.description,
                blocking=blocking.get(result.check_name, False),
                partition=state.day.isoformat(),
            )
            for result in out.checks
        ]
        built = Built(version, materialization, evaluations, files, self.context.run.run_id)
        state.manifest.record(asset.name, built)
        yield materialization
        yield from self._evaluations(asset, built, state)

    def _watchers(self, asset: DailyAsset, day: Day) -> list:
        """Observers that selected assets of this run set on `asset`'s data (kept in
        day.shared under the observing asset's name)."""
        watchers = []
        for other in self.assets:
            if other.watch is not None and other.watch[0] == asset.key:
                observer = other.watch[1](day)
                day.shared.pop(other.name, None)
                if observer is not None:
                    day.shared[other.name] = observer
                    watchers.append(observer)
        return watchers

    def _drop_watchers(self, asset: DailyAsset, day: Day) -> None:
        for other in self.assets:
            if other.watch is not None and other.watch[0] == asset.key:
                day.shared.pop(other.name, None)
        day.watchers = []

    def _record_again(self, asset: DailyAsset, built: Built, state: DayState) -> Iterator:
        """A current asset-day: its last materialization and check results, recorded again."""
        state.data_versions[asset.key] = built.data_version
        state.reused += 1
        yield built.materialization.with_metadata(
            {**built.materialization.metadata, "seconds": 0.0, "reused_from_run": built.run_id}
        )
        yield from self._evaluations(asset, built, state)

    def _evaluations(self, asset: DailyAsset, built: Built, state: DayState) -> Iterator:
        for evaluation in built.checks:
            if evaluation.asset_check_key in self.selected_checks:
                yield evaluation
            failed = not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
            if evaluation.blocking and failed:
                state.failed[asset.key] = (
                    f"blocking check {evaluation.check_name} failed: {evaluation.description}"
                )

    # -- the range --------------------------------------------------------------------------

    def _run_assets(self, context: Day, state: DayState) -> Iterator:
        """The selected assets of one day, in dependency order (a failure stops its dependants)."""
        day = state.day
        for asset in self.assets:
            upstream_failed = [k for k in asset.upstream if k in state.failed]
            if upstream_failed:
                state.failed[asset.key] = f"not run: {upstream_failed[0].to_user_string()} failed"
                continue
            reused = state.reused
            try:
                context.watchers = self._watchers(asset, context)
                yield from self._run_asset(asset, context, state)
                if state.reused > reused:  # recorded again, not streamed: nothing observed
                    self._drop_watchers(asset, context)
            except Exception as exc:
                self._drop_watchers(asset, context)
                message = failure_message(exc)
                state.failed[asset.key] = message
                self.context.log.error(
                    f"{day} {asset.name} failed: {message}\n{traceback.format_exc()}"
                )
                continue
            context.watchers = []
            if asset.key in state.failed:  # a blocking check
                self.context.log.error(f"{day} {asset.name}: {state.failed[asset.key]}")

    def run_day(self, day: dt.date) -> Iterator:
        from spymaster_assets.storage import lock_file

        context = Day(day, self.settings, self.kernels, self.lake, self.context.log)
        context.bar_history = self.bar_history
        context.selected = frozenset(a.key for a in self.assets)
        lake = self.lake.layout.root / "lake"
        # Two runs that reach the same day (a sensor run beside a backfill) take turns on it; the
        # second finds the day current and records it again instead of building it twice.
        with lock_file(lake / "_days" / f"{day}.lock"):
            state = DayState(day, DayManifest.load(manifest_path(self.lake.layout, day)))
            context.frames = state.frames
            try:
                yield from self._run_assets(context, state)
            finally:
                # Once per day, whole, before the lock goes (the next run of the day reads it);
                # a day cut short keeps what it recorded so far.
                state.manifest.save()
        for key, message in state.failed.items():
            if not message.startswith("not run:"):
                self.failures.append(DayFailure(day, key.to_user_string(), message))
        self.reused_today = state.reused
        if OHLCV_1M in state.frames:
            self.recent_bars[day] = state.frames[OHLCV_1M]
            for old in sorted(self.recent_bars)[:-SMA_HISTORY_DAYS]:
                del self.recent_bars[old]

    def run(self, days: list[dt.date]) -> Iterator:
        for n, day in enumerate(sorted(days), 1):
            started = time.perf_counter()
            yield from self.run_day(day)
            failed = [f for f in self.failures if f.day == day]
            self.context.log.info(
                f"{day} ({n}/{len(days)}): {'FAILED' if failed else 'ok'} in "
                f"{time.perf_counter() - started:.1f}s"
                + (
                    f", {self.reused_today} current assets recorded again"
                    if self.reused_today
                    else ""
                )
            )
        if self.failures:
            failed_days = sorted({f.day for f in self.failures})
            raise dg.Failure(
                description="\n".join(f.line() for f in self.failures),
                metadata={
                    "failed_days": dg.MetadataValue.json([str(d) for d in failed_days]),
                    "failures": dg.MetadataValue.json(
                        [
                            {"day": str(f.day), "asset": f.asset, "message": f.message}
                            for f in self.failures
                        ]  # fmt: skip
                    ),
                },
            )
