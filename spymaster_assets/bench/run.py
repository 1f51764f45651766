"""Orchestrates a benchmark run: sample days (generated once, cached), floor, chain at each
volume, the Dagster path and the naive baseline, each heavy part in its own child process."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spymaster_assets.bench.floor import decoded_bytes, decompress_to_nothing
from spymaster_assets.paths import DataLayout

BENCH_DAY = dt.date(2025, 11, 20)  # a regular Thursday session
WARM_DAY = dt.date(2025, 11, 21)  # the small warm-up day (demo profile)
SCALES = (0.25, 0.5, 1.0, 2.0)
FLOOR_REPEATS = 3


@dataclass
class BenchOptions:
    data_dir: Path
    day: dt.date = BENCH_DAY
    scales: tuple[float, ...] = SCALES
    baseline: bool = True
    dagster_path: bool = True
    seed: int = 7
    profile: str = "full"
    results_dir: Path = Path("bench/results")
    docs_path: Path | None = None
    extra: dict = field(default_factory=dict)


def scale_label(scale: float) -> str:
    return f"{scale:g}x"


def sample_folder(options: BenchOptions, scale: float) -> Path:
    return options.data_dir / "bench" / f"{options.profile}-{scale_label(scale)}"


def ensure_day(
    folder: Path, day: dt.date, profile: str, seed: int, volume: float, say: Callable[[str], None]
) -> DataLayout:
    """The day's raw files under `folder`, generated the first time (cached afterwards)."""
    from spymaster_assets.sample.generator import generate_day

    layout = DataLayout(folder)
    if all(p.exists() for p in layout.raw_paths(day)):
        say(f"  {folder.name}: cached sample day {day}")
        return layout
    say(f"  {folder.name}: generating the {profile} sample day {day} at {volume:g}x volume")
    generated = generate_day(day, folder, profile=profile, seed=seed, volume=volume, progress=say)
    say(f"  {folder.name}: generated in {generated.seconds:.0f}s")
    return layout


def _child(
    args: list[str], env: dict | None = None
) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run a child to completion: (wall seconds, its peak RSS in bytes, the process)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(
            args, proc.returncode, out.read().decode(), err.read().decode()
        )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(args[:4])} ... failed (exit {done.returncode}):\n{tail}")
    return seconds, usage.ru_maxrss * 1024, done


def measure_floor(layout: DataLayout, day: dt.date, say: Callable[[str], None]) -> dict:
    files = {}
    tool = None
    for schema in ("mbp-10", "trades"):
        path = layout.dbn_path(schema, day)
        runs = []
        for _ in range(FLOOR_REPEATS):
            seconds, tool = decompress_to_nothing(path)
            runs.append(seconds)
        files[schema] = {
            "path": str(path),
            "bytes": path.stat().st_size,
            "decoded_bytes": decoded_bytes(path),
            "seconds": round(min(runs), 4),
            "runs": [round(r, 4) for r in runs],
        }
        say(f"  floor {schema}: {min(runs):.2f}s ({tool}, best of {FLOOR_REPEATS})")
    total = sum(f["seconds"] for f in files.values())
    return {"tool": tool, "files": files, "seconds": round(total, 4)}


def measure_chain(folder: Path, day: dt.date, warm: Path, say: Callable[[str], None]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "chain.json"
        args = [sys.executable, "-m", "spymaster_assets.bench.chain", str(folder), str(day)]
        args += [str(warm), str(WARM_DAY), str(out)]
        wall, child_peak, _ = _child(args)
        report = json.loads(out.read_text())
    report["child_wall_seconds"] = round(wall, 3)
    report["child_peak_rss_bytes"] = child_peak
    say(
        f"  chain {folder.name}: {report['chain_seconds']:.2f}s, "
        f"peak RSS {child_peak / 2**30:.2f} GiB"
    )
    return report


def measure_dagster_path(folder: Path, day: dt.date, say: Callable[[str], None]) -> dict:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(folder.parent / "dagster_home")
    env.pop("SPYMASTER_LOG_LEVEL", None)
    args = [sys.executable, "-m", "spymaster_assets.cli", "materialize", "--date", str(day)]
    args += ["--data-dir", str(folder)]
    wall, peak, done = _child(args, env=env)
    say(f"  dagster path (spymaster materialize --date {day}): {wall:.1f}s")
    return {"seconds": round(wall, 3), "peak_rss_bytes": peak, "output": done.stdout.strip()}


def measure_naive(layout: DataLayout, day: dt.date, say: Callable[[str], None]) -> dict:
    path = layout.dbn_path("mbp-10", day)
    args = [sys.executable, "-m", "spymaster_assets.bench.naive", str(path)]
    wall, peak, done = _child(args)
    inner = json.loads(done.stdout)
    say(f"  naive DBNStore.to_df(): {inner['seconds']:.1f}s, peak RSS {peak / 2**30:.1f} GiB")
    return {"seconds": round(inner["seconds"], 3), "wall_seconds": round(wall, 3),
            "rows": inner["rows"], "peak_rss_bytes": peak}  # fmt: skip


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> dict:
    from spymaster_assets.bench.report import evaluate_targets

    if 1.0 not in options.scales:
        raise ValueError("the scales must include 1 (the targets are stated for the 1x day)")
    started = time.perf_counter()
    say(f"benchmark: {options.profile} sample day {options.day}, volumes "
        + ", ".join(scale_label(s) for s in options.scales))  # fmt: skip
    say("sample data")
    warm = options.data_dir / "bench" / "warmup"
    ensure_day(warm, WARM_DAY, "demo", options.seed, 1.0, say)
    layouts = {
        s: ensure_day(sample_folder(options, s), options.day, options.profile, options.seed, s, say)
        for s in options.scales
    }
    say("decompression floor (1x)")
    floor = measure_floor(layouts[1.0], options.day, say)
    say("per-day chain, one warm process per volume")
    # Kernels compile per argument types (e.g. read-only arrays from single-chunk frames), which
    # the small warm-up day may not meet: an untimed pass fills Numba's on-disk cache first.
    smallest = min(options.scales)
    started_pass = time.perf_counter()
    measure_chain(layouts[smallest].root, options.day, warm, lambda _: None)
    say(f"  compile pass on {scale_label(smallest)} (not timed): "
        f"{time.perf_counter() - started_pass:.0f}s")  # fmt: skip
    chains = {
        scale_label(s): measure_chain(layouts[s].root, options.day, warm, say)
        for s in options.scales
    }
    dagster = None
    if options.dagster_path:
        say("the Dagster path (1x)")
        dagster = measure_dagster_path(layouts[1.0].root, options.day, say)
    naive = None
    if options.baseline:
        say("naive baseline (1x)")
        naive = measure_naive(layouts[1.0], options.day, say)
    report = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "day": str(options.day),
        "profile": options.profile,
        "options_file": str(layouts[1.0].options_path(options.day)),
        "floor": floor,
        "chains": chains,
        "dagster_path": dagster,
        "naive": naive,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    report["targets"] = evaluate_targets(report)
    return report
