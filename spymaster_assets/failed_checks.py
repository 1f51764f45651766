"""Every check that failed, as one list at the end of `materialize`, `backfill` and `bench`.

A WARN check (or a non-blocking ERROR such as `physics_varies`) does not fail its partition, so
a run that ends "ok" may still carry a failed check: the list names each one (day, asset, check,
severity, message) so that none goes unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True, order=True)
class FailedCheck:
    day: str  # the partition ("-" for an unpartitioned asset)
    asset: str
    check: str
    severity: str
    message: str

    @classmethod
    def of(cls, evaluation: dg.AssetCheckEvaluation) -> FailedCheck:
        return cls(
            evaluation.partition or "-",
            evaluation.asset_key.to_user_string(),
            evaluation.check_name,
            evaluation.severity.value,
            (evaluation.description or "").strip(),
        )

    def what(self) -> str:
        """The check and its message, without the day (printed under the day's own line)."""
        return f"{self.asset}:{self.check} {self.severity} {self.message}".rstrip()

    def line(self) -> str:
        return f"{self.day} {self.what()}"


def from_events(events: Iterable) -> list[FailedCheck]:
    """The failed checks among a run's Dagster events (or event log entries), in event order."""
    out = []
    for event in events:
        event = getattr(event, "dagster_event", event)
        if event is None or event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if not evaluation.passed:
            out.append(FailedCheck.of(evaluation))
    return out


def latest_failures(
    instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey], days: Sequence[str]
) -> list[FailedCheck]:
    """The checks whose latest result for one of `days` (in this instance) is a failure,
    whichever run recorded it: a backfill's, or the raw-files sensor's for a day the backfill
    left out as current."""
    from dagster._core.event_api import PartitionKeyFilter
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )

    out = []
    storage = instance.event_log_storage
    for day in days:
        latest = storage.get_latest_asset_check_execution_by_key(
            list(check_keys), PartitionKeyFilter(key=day)
        )
        for record in latest.values():
            if record.status != AssetCheckExecutionRecordStatus.FAILED or record.event is None:
                continue
            evaluation = record.event.dagster_event.event_specific_data
            if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
                out.append(FailedCheck.of(evaluation))
    return sorted(set(out))


def report(failures: Sequence[FailedCheck], echo: Callable[[str], None]) -> None:
    """The closing list: every failed check, or a line saying there was none."""
    if not failures:
        echo("checks: every check passed")
        return
    echo(f"checks: {len(failures)} failed (the partitions above still hold their data)")
    for failure in failures:
        echo(f"    {failure.line()}")
