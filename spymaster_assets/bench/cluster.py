"""The backfill benchmark on the cluster of docs/deploy.md: 1 and then 2 Celery workers.

    spymaster bench-cluster --days K        (make bench-cluster)

The K full-size days of the backfill benchmark (cached under DATA_DIR/bench/) are uploaded to
a bucket of moto's S3 server on loopback; PostgreSQL 15 and redis-server run on loopback too
(local_services). For each worker count N, on a fresh database, bucket and broker: `dagster
dev` (daemon, webserver, code server) with the raw-files sensor stopped, N `spymaster worker`
processes (one step at a time each, folders of their own), and `spymaster backfill` of the K
days, one day per run and 2N runs at once (a run's start overlaps another's step). The work is
the span from the first run's start to the last run's end; throughput is days per hour of it,
and per worker.

On one 2-core machine the workers compete with the orchestrators, the daemon, the S3 server
and each other for the same cores: the figure says what a second worker adds here, not what
a second machine would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from spymaster_assets.bench.backfill import (
    REPO,
    GroupSampler,
    _runs_and_checks,
    backfill_days,
    ensure_days,
    running_daemon,
)
from spymaster_assets.processes import process_group

BUCKET = "bench"


def _home(home: Path, runs_at_once: int) -> None:
    config = yaml.safe_load((REPO / "deploy" / "dagster-postgres.yaml").read_text())
    config["run_queue"]["max_concurrent_runs"] = runs_at_once
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def _upload(raw: Path, days: list[dt.date], endpoint: str, prefix: str) -> None:
    import boto3

    from spymaster_assets.local_services import s3_client_args
    from spymaster_assets.paths import DataLayout

    client, local = boto3.client("s3", **s3_client_args(endpoint)), DataLayout(raw)
    for day in days:
        for source in ("trades", "mbp-10", "options"):
            path = local.raw_path(source, day)
            client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(raw).as_posix()}")


def _stop_sensor(env: dict) -> None:
    """The raw-files sensor would start runs on the uploaded days by itself: stop it, as a
    user would in the UI, so the backfill alone runs them."""
    script = (
        "import dagster as dg\n"
        "from dagster._core.workspace.context import WorkspaceProcessContext\n"
        "from dagster._core.workspace.load_target import WorkspaceFileTarget\n"
        "instance = dg.DagsterInstance.get()\n"
        "with WorkspaceProcessContext(instance, WorkspaceFileTarget(['workspace.yaml'])) as c:\n"
        "    (location,) = c.create_request_context().code_locations\n"
        "    (repo,) = location.get_repositories().values()\n"
        "    sensor = repo.get_sensor('raw_files_sensor')\n"
        "    instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, check=True)


def run_cluster_backfill(
    raw: Path, days: list[dt.date], workers: int, say: Callable[[str], None]
) -> dict:
    from spymaster_assets.local_services import postgres, redis, s3_server, s3_variables

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spymaster-cluster-")))
        pg = stack.enter_context(postgres())
        broker = stack.enter_context(redis())
        endpoint = stack.enter_context(s3_server(BUCKET, fresh=True))
        prefix = f"s3://{BUCKET}/data"
        env = {**os.environ, **s3_variables(endpoint), "SPYMASTER_PG_URL": pg,
               "SPYMASTER_CELERY_BROKER": broker, "SPYMASTER_DATA_DIR": prefix,
               "SPYMASTER_DAYS_PER_RUN": "1", "DAGSTER_HOME": str(tmp / "home")}  # fmt: skip
        env.pop("SPYMASTER_LOG_LEVEL", None)
        _home(tmp / "home", 2 * workers)  # a run starts while another's step runs
        samplers = []
        for n in range(1, workers + 1):
            folder = tmp / f"worker-{n}"
            folder.mkdir()
            mine = {**env, "DAGSTER_HOME": str(folder / "home"),
                    "SPYMASTER_SCRATCH_DIR": str(folder / "scratch")}  # fmt: skip
            command = [sys.executable, "-m", "spymaster_assets.cli", "worker", "--name", f"w{n}"]
            proc = stack.enter_context(process_group(command, mine, folder / "log", folder))
            samplers.append(stack.enter_context(GroupSampler(os.getpgid(proc.pid))))
        stack.enter_context(running_daemon(tmp / "home", env))
        _stop_sensor(env)
        _upload(raw, days, endpoint, "data")  # after: the sensor must not take the days
        args = [sys.executable, "-m", "spymaster_assets.cli", "backfill", "--start", str(days[0]),
                "--end", str(days[-1]), "--timeout", "7200"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"the cluster backfill failed:\n{done.stdout[-2000:]}\n"
                               f"{done.stderr[-2000:]}")  # fmt: skip
        runs, checks, failed = _runs_and_checks(tmp / "home", env, days)
    backfill = [r for r in runs if r["by"] == "backfill"]
    if len(backfill) != len(days):
        raise RuntimeError(f"expected a run per day of the backfill, found {runs}")
    work = max(r["end"] for r in backfill) - min(r["start"] for r in backfill)
    worker_cpu = sum(sum(s.cpu_by_role().values()) for s in samplers)
    worker_rss = max((max(s.by_role().values(), default=0) for s in samplers), default=0)
    say(f"  {workers} worker(s): {len(days)} days in {work:.0f}s of work ({wall:.0f}s wall)")
    return {
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "work_seconds": round(work, 2),
        "days_per_hour": round(len(days) * 3600 / work, 2),
        "days_per_hour_per_worker": round(len(days) * 3600 / work / workers, 2),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "worker_peak_rss": worker_rss,
        "runs": len(backfill),
        "per_partition_checks": checks,
        "failed_checks": failed,
    }


def run_cluster_bench(
    data_dir: Path, k: int, profile: str, seed: int, say: Callable[[str], None]
) -> dict:
    days = backfill_days(k)
    say(f"cluster backfill of {k} {profile} days ({days[0]}..{days[-1]}), 1 then 2 workers")
    layout = ensure_days(data_dir / "bench" / f"backfill-{profile}", days, profile, seed, say)
    results = [run_cluster_backfill(layout.root, days, n, say) for n in (1, 2)]
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "days": [str(d) for d in days],
        "profile": profile,
        "cpus": os.cpu_count(),
        "results": results,
    }
