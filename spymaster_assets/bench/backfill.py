"""The backfill benchmark: K full-size trading days through the daemon, as users backfill.

    spymaster bench --backfill-days K

K consecutive full-size sample days are generated once (cached under DATA_DIR/bench/). Then,
on a fresh instance each time (the repo's dagster.yaml) and a fresh lake over the same raw
files, `dagster dev` (webserver, daemon and their shared code server, as `make ui` runs them)
runs `spymaster backfill` of the K days: once with two runs at once (the repo's setting), once
with one run at a time (the same file, max_concurrent_runs 1), for the two-core throughput. The
single-day warm chain and the decompression floor are measured on the first day. Every process
of `dagster dev`'s process group (daemon, webserver, code server, each run) is sampled for its
peak RSS and CPU time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from spymaster_assets.paths import DataLayout
from spymaster_assets.processes import free_port, process_group

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIRST_DAY = dt.date(2025, 12, 1)  # a Monday: the days run on from here
YEAR_SESSIONS = 252


def backfill_days(k: int) -> list[dt.date]:
    from spymaster_assets.market.trading_calendar import trading_days

    days = trading_days(FIRST_DAY, FIRST_DAY + dt.timedelta(days=3 * k + 10))[:k]
    if len(days) < k:
        raise ValueError(f"not enough trading days after {FIRST_DAY} for {k}")
    return days


def ensure_days(
    folder: Path, days: list[dt.date], profile: str, seed: int, say: Callable[[str], None]
) -> DataLayout:
    """The days' raw files under `folder`, generated once by two `spymaster sample-data`
    children at a time (one per core); a day written by an older generator is written again."""
    from spymaster_assets.bench import sample_cache

    layout = DataLayout(folder)
    missing = [d for d in days if not sample_cache.is_current(folder, d, profile, seed, 1.0)]
    if not missing:
        say(f"  {folder.name}: {len(days)} cached sample days {days[0]}..{days[-1]}")
        return layout
    say(f"  {folder.name}: generating {len(missing)} {profile} sample days (two at a time)")
    started = time.perf_counter()
    pending = list(missing)
    running: list[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < 2:
            day = pending.pop(0)
            args = [sys.executable, "-m", "spymaster_assets.cli", "sample-data"]
            args += ["--start", str(day), "--profile", profile, "--seed", str(seed)]
            args += ["--data-dir", str(folder), "--force"]
            running.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))
        time.sleep(0.5)
        for proc in [p for p in running if p.poll() is not None]:
            if proc.returncode != 0:
                raise RuntimeError(f"generating a sample day failed: {' '.join(proc.args)}")
            running.remove(proc)
    for day in missing:  # every child succeeded
        sample_cache.mark(folder, day, profile, seed, 1.0)
    say(f"  {folder.name}: generated in {time.perf_counter() - started:.0f}s")
    return layout


class GroupSampler:
    """Peak RSS of every process in a process group, sampled every `interval` seconds.

    The kernel's VmHWM of each live process is its own peak so far, so a process sampled
    shortly before it exits is recorded with its true peak."""

    def __init__(self, pgid: int, interval: float = 0.2):
        self.pgid = pgid
        self.interval = interval
        self.peaks: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, user + system seconds)
        self.commands: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                if os.getpgid(pid) != self.pgid:
                    continue
                status = Path(f"/proc/{pid}/status").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, ProcessLookupError):
                continue
            ticks = os.sysconf("SC_CLK_TCK")
            self.cpu[pid] = (_label(cmdline), (int(stat[11]) + int(stat[12])) / ticks)
            self.commands[pid] = cmdline[:300]
            hwm = next((int(x.split()[1]) * 1024 for x in status.splitlines()
                        if x.startswith("VmHWM:")), 0)  # fmt: skip
            label = _label(cmdline)
            if hwm > self.peaks.get(pid, ("", 0))[1]:
                self.peaks[pid] = (label, hwm)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> GroupSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, seconds in self.cpu.values():
            out[label] = round(out.get(label, 0.0) + seconds, 2)
        return out

    def by_role(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for label, peak in self.peaks.values():
            out[label] = max(out.get(label, 0), peak)
        return out


def _label(cmdline: str) -> str:
    # the code server starts each run in a process of its own (multiprocessing spawn)
    if "execute_run" in cmdline or "spawn_main" in cmdline or not cmdline.strip():
        return "run worker"
    # by the module each runs (the daemon's and webserver's arguments name the code server)
    command = " ".join(cmdline.split()[:6])  # e.g. python -m dagster api grpc --lazy-load
    if any(m in command for m in ("dagster-daemon", "dagster_daemon", "dagster._daemon")):
        return "daemon"
    if "dagster-webserver" in command or "dagster_webserver" in command:
        return "webserver"
    if "grpc" in command or "code-server" in command or "code_server" in command:
        return "code server"
    if "dagster dev" in command:
        return "dagster dev"  # the supervisor of the three
    return "other"


def _instance_home(home: Path, max_concurrent_runs: int | None) -> None:
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    if max_concurrent_runs is not None:
        config.setdefault("run_queue", {})["max_concurrent_runs"] = max_concurrent_runs
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


@contextlib.contextmanager
def running_daemon(home: Path, env: dict) -> Iterator[subprocess.Popen]:
    """`dagster dev` as `make ui` runs it (webserver, daemon and one code server they share), in
    its own process group, ended (with its runs) on the way out. A bare `dagster-daemon run`
    would start a new code server every minute (its workspace refresh), which `dagster dev`'s
    shared code server does not."""
    # Create the instance's storage first: two processes creating it at once race on it.
    init = "import dagster as dg; dg.DagsterInstance.get().get_runs(limit=1)"
    subprocess.run([sys.executable, "-c", init], env=env, check=True)
    command = [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(free_port()),
               "-w", "workspace.yaml"]  # fmt: skip
    with process_group(command, env, home / "daemon.log", REPO) as proc:
        _wait_for_heartbeat(home, env, proc)
        yield proc


def _wait_for_heartbeat(home: Path, env: dict, proc: subprocess.Popen) -> None:
    probe = (
        "import dagster as dg, sys; i = dg.DagsterInstance.get(); "
        "sys.exit(0 if 'BACKFILL' in i.get_daemon_heartbeats() else 1)"
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster dev exited: {(home / 'daemon.log').read_text()[-2000:]}")
        if subprocess.run([sys.executable, "-c", probe], env=env).returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError("the daemon of `dagster dev` sent no heartbeat within 180 s")


@dataclass
class BackfillRun:
    wall_seconds: float  # `spymaster backfill` from submit to the end
    # from the first run's start to the last run's end: the work, without the daemon's fixed
    # latency (its backfill loop looks every 30 s: to start the runs, then to close the backfill)
    work_seconds: float
    runs: list[dict]
    peak_rss_by_role: dict[str, int]
    cpu_seconds_by_role: dict[str, float]
    per_partition_checks: int
    failed_checks: list[str]  # day asset:check SEVERITY message


def run_backfill(
    raw: Path,
    days: list[dt.date],
    days_per_run: int,
    max_concurrent_runs: int | None,
    say: Callable[[str], None],
) -> BackfillRun:
    """One backfill of `days` on a fresh instance and a fresh lake over the cached raw files."""
    with tempfile.TemporaryDirectory(prefix="spymaster-backfill-") as tmp:
        home, data = Path(tmp) / "home", Path(tmp) / "data"
        _instance_home(home, max_concurrent_runs)
        data.mkdir()
        (data / "raw").symlink_to(raw / "raw")
        env = {**os.environ, "DAGSTER_HOME": str(home), "SPYMASTER_DATA_DIR": str(data),
               "SPYMASTER_DAYS_PER_RUN": str(days_per_run)}  # fmt: skip
        env.pop("SPYMASTER_LOG_LEVEL", None)
        with running_daemon(home, env) as daemon, GroupSampler(os.getpgid(daemon.pid)) as rss:
            args = [sys.executable, "-m", "spymaster_assets.cli", "backfill"]
            args += ["--start", str(days[0]), "--end", str(days[-1]), "--timeout", "7200"]
            started = time.perf_counter()
            done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True)
            wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(
                f"the backfill failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        runs, checks, failed = _runs_and_checks(home, env, days)
    say(
        f"  {len(days)} days, {len(runs)} runs, up to {max_concurrent_runs or 'the repo setting'} "
        f"at once: {wall:.0f}s"
    )
    work = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    return BackfillRun(
        round(wall, 2), round(work, 2), runs, rss.by_role(), rss.cpu_by_role(), checks, failed
    )


def _runs_and_checks(
    home: Path, env: dict, days: list[dt.date]
) -> tuple[list[dict], int, list[str]]:
    """The backfill's runs (days, wall time), how many check results carry a partition, and
    every check whose latest result for one of the days failed."""
    script = """
import json, sys
import dagster as dg
from dagster._core.storage.event_log.base import AssetCheckKey
from spymaster_assets.backfill import run_days
from spymaster_assets.definitions import defs
from spymaster_assets.failed_checks import latest_failures
days = set(sys.argv[1].split(","))
instance = dg.DagsterInstance.get()
runs = []
for record in instance.get_run_records():
    run = record.dagster_run
    if record.start_time is None or record.end_time is None:
        continue
    mats = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    reused = sum("reused_from_run" in e.asset_materialization.metadata for e in mats)
    by = ("sensor" if "dagster/sensor_name" in run.tags
          else "backfill" if "dagster/backfill" in run.tags else "other")
    runs.append({"days": run_days(run), "status": run.status.value, "start": record.start_time,
                 "end": record.end_time, "seconds": record.end_time - record.start_time,
                 "by": by, "materializations": len(mats), "recorded_again": reused})
graph = defs.resolve_asset_graph()
checked = 0
for key in graph.asset_check_keys:
    if graph.get(key.asset_key).partitions_def is None:
        continue
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=1000)
    checked += len({r.partition for r in history if r.partition in days
                    and r.status.value in ("SUCCEEDED", "FAILED")})
failed = [f.line() for f in latest_failures(instance, list(graph.asset_check_keys), sorted(days))]
print(json.dumps({"runs": runs, "checks": checked, "failed_checks": failed}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, ",".join(str(d) for d in days)],
        env=env, cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["runs"], out["checks"], out["failed_checks"]


def measure_startup(say: Callable[[str], None], repeats: int = 5) -> dict:
    """Loading the code location (definitions and repository, as every Dagster process does)
    against `import dagster`, best of `repeats` fresh processes each, the load cache warm."""
    load = (
        "from spymaster_assets.definitions import defs; "
        "defs.get_repository_def().get_all_jobs(); defs.resolve_asset_graph()"
    )
    subprocess.run([sys.executable, "-c", load], check=True, cwd=REPO)  # fills the load cache

    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
        return time.perf_counter() - started

    # interleaved, so a slow spell of the machine weighs on both alike; best of each
    times = [(once("import dagster"), once(load)) for _ in range(repeats)]
    dagster = min(t[0] for t in times)
    location = min(t[1] for t in times)
    say(f"  import dagster {dagster:.2f}s, load the code location {location:.2f}s")
    return {"import_dagster_seconds": round(dagster, 3), "load_seconds": round(location, 3)}


def run_backfill_bench(
    data_dir: Path,
    k: int,
    profile: str,
    seed: int,
    days_per_run: int | None,
    say: Callable[[str], None],
    repeats: int = 2,
) -> dict:
    """The backfill with two runs at once and with one at a time, `repeats` times each,
    interleaved; each keeps its fastest repeat. Another tenant of the host only ever slows a
    repeat down (the same backfill measured 1.4x to 1.8x on one machine in one hour), so the
    fastest repeat of each is the machine's own figure, and interleaving gives both a slow
    spell alike."""
    days = backfill_days(k)
    per_run = days_per_run or max(1, -(-k // 2))  # two runs: one per core
    say(f"backfill of {k} {profile} days ({days[0]}..{days[-1]}), {per_run} days per run")
    layout = ensure_days(data_dir / "bench" / f"backfill-{profile}", days, profile, seed, say)
    startup = measure_startup(say)
    twos, ones = [], []
    for _ in range(repeats):
        twos.append(run_backfill(layout.root, days, per_run, None, say))
        ones.append(run_backfill(layout.root, days, per_run, 1, say))
    two = min(twos, key=lambda r: r.work_seconds)
    one = min(ones, key=lambda r: r.work_seconds)
    return {
        "days": [str(d) for d in days],
        "days_per_run": per_run,
        "startup": startup,
        "repeats": {
            "two_at_once_work_seconds": [r.work_seconds for r in twos],
            "one_at_a_time_work_seconds": [r.work_seconds for r in ones],
        },
        "two_at_once": two.__dict__,
        "one_at_a_time": one.__dict__,
    }
