"""Submit a real Dagster backfill to the instance and follow it until the daemon is done."""

from __future__ import annotations

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
) -> str:
    backfill_id = uuid.uuid4().hex[:8]
    # Exactly these days of exactly these assets. (Deriving the target from the roots would pull
    # in later days too: silver/levels of the next days reads these days' bars for SMA_200.)
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
        tags={"spymaster/launched_by": "cli"},
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
    failed: dict[str, bool]  # partition -> a run of it failed
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
    """What a failed step says: a `dg.Failure`'s own description (a bad raw file names the file,
    the day and the problem), else the error's message; without Dagster's class names."""
    failure = data.user_failure_data if data else None
    if failure is not None and failure.description:
        return failure.description.strip()
    return data.error.message.strip() if data and data.error else "step failed"


def progress(
    instance: dg.DagsterInstance, backfill_id: str, partition_keys: Sequence[str], n_assets: int
) -> Progress:
    """Asset partitions materialized by the backfill's runs so far, failures, and their errors.

    An asset backfill may run a day in several runs (assets wait for the earlier days they read),
    so progress is counted in materialized asset partitions, not in runs.
    """
    backfill = instance.get_backfill(backfill_id)
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    done = {k: 0 for k in partition_keys}
    failed = {k: False for k in partition_keys}
    errors = []
    for run in runs:
        key = run.tags.get("dagster/partition")
        if key not in done:
            continue
        done[key] += len(
            instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        )
        if run.status.value == "FAILURE":
            failed[key] = True
            for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
                message = step_failure_message(event.dagster_event.step_failure_data)
                errors.append(f"{key}: {event.dagster_event.step_key}: {message.splitlines()[-1]}")
    return Progress(
        backfill.status, {k: min(v, n_assets) for k, v in done.items()}, failed, len(runs), errors
    )


def follow(
    instance: dg.DagsterInstance,
    backfill_id: str,
    partition_keys: Sequence[str],
    n_assets: int,
    on_update: Callable[[Progress], None],
    timeout_s: float,
    poll_s: float = 2.0,
) -> Progress:
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        state = progress(instance, backfill_id, partition_keys, n_assets)
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
