"""One warm process runs the whole per-day chain and reports each asset (run as a child).

    python -m spymaster_assets.bench.chain DATA_DIR DAY WARM_DATA_DIR WARM_DAY OUT_JSON

The warm-up day (small) loads the imports, the compiled kernels and the thread pools, so the
measured day pays only for its own data. Per-asset wall times are the `seconds` the daily chain
records on each materialization (ending at the event's time), RSS from a sampling thread and the
kernel's high-water mark.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from spymaster_assets.bench.rss import RssSampler, current_rss, peak_rss
from spymaster_assets.threads import threads_per_run


def daily_assets(defs) -> list:
    graph = defs.resolve_asset_graph()
    return sorted(k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None)


def _records(metadata: dict) -> int | None:
    for key in ("records_read", "dagster/row_count"):
        if key in metadata:
            return int(metadata[key].value)
    return None


def run_chain(defs, data_dir: str, day: str, instance) -> tuple[float, str]:
    import dagster as dg

    from spymaster_assets.defs.chain.runner import FORCE_TAG
    from spymaster_assets.defs.resources import make_resources

    started = time.perf_counter()
    result = dg.materialize(
        list(defs.assets),
        partition_key=day,
        selection=daily_assets(defs),
        resources=make_resources(data_dir),
        instance=instance,
        raise_on_error=True,
        tags={FORCE_TAG: "true"},  # the same day again: built, not recorded again
    )
    return time.perf_counter() - started, result.run_id


def measure(data_dir: str, day: str, warm_data_dir: str, warm_day: str) -> dict:
    import dagster as dg

    from spymaster_assets import failed_checks
    from spymaster_assets.definitions import defs

    with dg.DagsterInstance.ephemeral() as instance:
        warm_seconds, _ = run_chain(defs, warm_data_dir, warm_day, instance)
    rss_before = current_rss()
    with RssSampler() as sampler, dg.DagsterInstance.ephemeral() as instance:
        t0, cpu0 = time.time(), time.process_time()
        total, run_id = run_chain(defs, data_dir, day, instance)
        t1, cpu = time.time(), time.process_time() - cpu0  # every thread of the process
        assets = []
        realism = None
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.event_type_value != "ASSET_MATERIALIZATION":
                continue
            mat = event.event_specific_data.materialization
            if "realism" in mat.metadata:  # gold/signals: how the day looks to the rules
                realism = mat.metadata["realism"].value
            seconds = float(mat.metadata["seconds"].value)
            n = _records(mat.metadata)
            assets.append(
                {
                    "asset": mat.asset_key.to_user_string(),
                    "seconds": round(seconds, 4),
                    "records": n,
                    "records_per_s": round(n / seconds) if n and seconds > 0 else None,
                    "peak_rss_bytes": sampler.peak(entry.timestamp - seconds, entry.timestamp),
                }
            )
        failed = [f.line() for f in sorted(failed_checks.from_events(instance.all_logs(run_id)))]
    return {
        "day": day,
        "failed_checks": failed,
        "realism": realism,
        "warmup_seconds": round(warm_seconds, 3),
        "chain_seconds": round(total, 4),
        "cpu_seconds": round(cpu, 4),
        "threads": threads_per_run(),
        "assets": assets,
        "rss_before_bytes": rss_before,
        "run_peak_rss_bytes": sampler.peak(t0, t1),
        "process_peak_rss_bytes": peak_rss(),
    }


def main() -> None:
    data_dir, day, warm_data_dir, warm_day, out = sys.argv[1:6]
    report = measure(data_dir, day, warm_data_dir, warm_day)
    Path(out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
