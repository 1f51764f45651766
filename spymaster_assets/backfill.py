"""Submit a real Dagster backfill to the instance and follow it until the daemon is done."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

TERMINAL = {
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}
HEARTBEAT_MAX_AGE_S = 120.0


class NoDaemonError(RuntimeError):
    pass


def require_backfill_daemon(instance: dg.DagsterInstance) -> None:
    """Refuse to submit when no daemon would ever pick the backfill up."""
    beats = instance.get_daemon_heartbeats()
    beat = beats.get("BACKFILL")
    if beat is None or time.time() - beat.timestamp > HEARTBEAT_MAX_AGE_S:
        raise NoDaemonError(
            "no dagster-daemon is running for this instance "
            f"({instance.root_directory}): start it with `make ui` (webserver and daemon), "
            "then run the backfill again"
        )


def submit(
    instance: dg.DagsterInstance,
    asset_graph,
    partition_keys: Sequence[str],
    asset_keys: Sequence[dg.AssetKey],
    title: str,
    force: bool = False,
) -> str:
    from spymaster_assets.defs.chain.runner import FORCE_TAG

    backfill_id = uuid.uuid4().hex[:8]
    # Exactly these days of exactly these assets; the daemon cuts the days into runs of
    # consecutive days by the assets' backfill policy (SPYMASTER_DAYS_PER_RUN).
    target = AssetGraphSubset(
        partitions_subsets_by_asset_key={
            key: asset_graph.get(key).partitions_def.subset_with_partition_keys(
                list(partition_keys)
            )
            for key in asset_keys
        }
    )
    backfill = PartitionBackfill.from_asset_graph_subset(
        backfill_id=backfill_id,
        backfill_timestamp=time.time(),
        tags={"spymaster/launched_by": "cli", **({FORCE_TAG: "true"} if force else {})},
        dynamic_partitions_store=instance,
        asset_graph_subset=target,
        title=title,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


@dataclass
class Progress:
    status: BulkActionStatus
    assets_done: dict[str, int]  # partition -> selected assets materialized in this backfill
    failed: dict[str, bool]  # partition -> a run failed on it
    runs: int
    errors: list[str]

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status in (
            BulkActionStatus.COMPLETED_SUCCESS,
            BulkActionStatus.COMPLETED,
        ) and not any(self.failed.values())


def step_failure_message(data) -> str:
    """What a failed step says: a `dg.Failure`'s own description (the daily chain lists each
    failed day, asset and problem: a bad raw file names the file, the day and the problem),
    else the error's message; without Dagster's class names."""
    failure = data.user_failure_data if data else None
    if failure is not None and failure.description:
        return failure.description.strip()
    return data.error.message.strip() if data and data.error else "step failed"


def run_days(run: dg.DagsterRun) -> list[str]:
    """The trading days a run covers: its partition, or its range of partitions."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from spymaster_assets.market.trading_calendar import trading_days

    if "dagster/partition" in run.tags:
        return [run.tags["dagster/partition"]]
    start = run.tags.get(ASSET_PARTITION_RANGE_START_TAG)
    end = run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not (start and end):
        return []
    return [str(d) for d in trading_days(dt.date.fromisoformat(start), dt.date.fromisoformat(end))]


def progress(
    instance: dg.DagsterInstance,
    backfill_id: str,
    partition_keys: Sequence[str],
    asset_keys: Sequence[dg.AssetKey],
) -> Progress:
    """Asset partitions materialized by the backfill's runs so far, failures, and their errors.

    A run covers a range of days (the backfill policy), so progress is counted in materialized
    asset partitions, and a failed run's errors say which of its days failed."""
    backfill = instance.get_backfill(backfill_id)
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    run_ids = {run.run_id for run in runs}
    done = {k: 0 for k in partition_keys}
    for key in asset_keys:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partition_keys)),
            limit=10 * len(partition_keys) + 100,
        ).records
        days = {r.partition_key for r in records if r.run_id in run_ids}
        for day in days & set(done):
            done[day] += 1
    failed = {k: False for k in partition_keys}
    errors = []
    for run in runs:
        if run.status.value not in ("FAILURE", "CANCELED"):
            continue
        covered = [d for d in run_days(run) if d in done]
        lines = []
        for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
            lines += step_failure_message(event.dagster_event.step_failure_data).splitlines()
        dated = {d: [x for x in lines if x.startswith(f"{d} ")] for d in covered}
        for day in covered:
            if dated[day]:
                failed[day] = True
                errors += dated[day]
            elif not any(dated.values()) and done[day] < len(asset_keys):
                failed[day] = True  # the run died without naming its days
                errors += [f"{day} {line}" for line in lines[-1:]] or [f"{day}: run failed"]
    return Progress(backfill.status, done, failed, len(runs), errors)


def follow(
    instance: dg.DagsterInstance,
    backfill_id: str,
    partition_keys: Sequence[str],
    asset_keys: Sequence[dg.AssetKey],
    on_update: Callable[[Progress], None],
    timeout_s: float,
    poll_s: float = 2.0,
) -> Progress:
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        state = progress(instance, backfill_id, partition_keys, asset_keys)
        snapshot = (state.status, tuple(state.assets_done.values()), tuple(state.failed.values()))
        if snapshot != last:
            on_update(state)
            last = snapshot
        if state.done:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"backfill {backfill_id} still {state.status.value} after {timeout_s:.0f}s"
            )
        time.sleep(poll_s)


IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def runs_on(instance: dg.DagsterInstance, days: Sequence[str]) -> list[dg.DagsterRun]:
    """Runs queued or going that cover one of `days` (the raw-files sensor's, another
    backfill's, a manual one's)."""
    wanted = set(days)
    return [
        run
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))
        if wanted.intersection(run_days(run))
    ]


def wait_for_runs_on(
    instance: dg.DagsterInstance,
    days: Sequence[str],
    say: Callable[[str], None],
    timeout_s: float,
    poll_s: float = 2.0,
) -> None:
    """Return once no run is queued or going on any of `days`: what they build is then current
    and need not be submitted again."""
    deadline = time.monotonic() + timeout_s
    told: set[str] = set()
    wanted = set(days)
    while runs := runs_on(instance, days):
        for run in runs:
            if run.run_id not in told:
                told.add(run.run_id)
                covered = [d for d in run_days(run) if d in wanted]
                by = run.tags.get("dagster/sensor_name") or run.tags.get(
                    "dagster/backfill", "a manual run"
                )
                say(
                    f"waiting for run {run.run_id[:8]} ({by}) on {covered[0]}..{covered[-1]} "
                    f"({len(covered)} of these days)"
                )
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs still going on these days after {timeout_s:.0f}s")
        time.sleep(poll_s)


def current_days(
    instance: dg.DagsterInstance,
    asset_graph,
    asset_keys: Sequence[dg.AssetKey],
    days: Sequence[str],
    data_dir,
) -> list[str]:
    """The days whose every selected asset is current in the lake (as a run with the default
    configuration would find it: recorded again, not built) and was built by a run this
    instance knows, so its materializations and check results are already recorded here. A
    lake built under another instance is not current for this one."""
    from spymaster_assets.defs.chain.assets import DAILY_ASSETS
    from spymaster_assets.defs.chain.currency import configuration_version, current_builds
    from spymaster_assets.defs.chain.runner import in_dependency_order
    from spymaster_assets.paths import DataLayout
    from spymaster_assets.settings import SpymasterConfig

    layout = DataLayout(data_dir)
    selected = set(asset_keys)
    assets = in_dependency_order([a for a in DAILY_ASSETS if a.key in selected])
    code_versions = {a.key: asset_graph.get(a.key).code_version or "" for a in assets}
    configuration = configuration_version(SpymasterConfig())
    known: dict[str, bool] = {}
    current = []
    for day in days:
        builds = current_builds(
            dt.date.fromisoformat(day), assets, code_versions, layout, configuration
        )
        if builds is None:
            continue
        builders = {built.run_id for built in builds}
        for run_id in builders - set(known):
            known[run_id] = bool(run_id) and instance.has_run(run_id)
        if all(known[run_id] for run_id in builders):
            current.append(day)
    return current
