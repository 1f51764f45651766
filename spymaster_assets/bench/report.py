"""The benchmark's targets, its markdown table and where both are written."""

from __future__ import annotations

import json
from pathlib import Path

GIB = 2**30
RSS_LIMIT = 1.5 * GIB
FLOOR_MULTIPLE = 3.0
DAGSTER_OVERHEAD_S = 20.0
NAIVE_SPEEDUP = 10.0
SCALING_LIMIT = 2.3  # 2x the volume costs at most this much more time
STARTUP_MULTIPLE = 1.5  # loading the code location against `import dagster`
YEAR_SESSIONS = 252
YEAR_LIMIT_S = 30 * 60
AMORTIZED_MULTIPLE = 1.2  # cost per day inside a backfill against the warm single-day chain
TWO_CORE_SPEEDUP = 1.6
BACKFILL_RSS_LIMIT = 2 * GIB
RESEARCH_YEAR_LIMIT_S = 5 * 60  # "a year of signals evaluated in a few minutes on 2 cores"


def _target(name: str, goal: str, value: str, met: bool | None) -> dict:
    return {"target": name, "goal": goal, "value": value, "met": met}


def evaluate_targets(report: dict) -> list[dict]:
    one = report["chains"]["1x"]
    chain = one["chain_seconds"]
    floor = report["floor"]["seconds"]
    peak = one["child_peak_rss_bytes"]
    alone = report.get("chain_alone")
    best = min(chain, alone["chain_seconds"]) if alone else chain
    value = f"one thread {chain:.2f}s = {chain / floor:.2f}x the floor ({floor:.2f}s)"
    if alone:
        value += (
            f"; alone on {alone['threads']} cores {alone['chain_seconds']:.2f}s = "
            f"{alone['chain_seconds'] / floor:.2f}x"
        )
    targets = [
        _target(
            "whole per-day chain, warm process",
            f"<= {FLOOR_MULTIPLE:g}x the decompression floor",
            value,
            best <= FLOOR_MULTIPLE * floor,
        ),
        _target(
            "peak RSS of that process",
            f"<= {RSS_LIMIT / GIB:g} GiB",
            f"{peak / GIB:.2f} GiB",
            peak <= RSS_LIMIT,
        ),
    ]
    dagster = report.get("dagster_path")
    targets.append(
        _target(
            "Dagster path for one partition",
            f"<= chain + {DAGSTER_OVERHEAD_S:g}s",
            f"{dagster['seconds']:.1f}s (chain + {dagster['seconds'] - chain:.1f}s)"
            if dagster
            else "not run",
            dagster["seconds"] <= chain + DAGSTER_OVERHEAD_S if dagster else None,
        )
    )
    naive = report.get("naive")
    targets.append(
        _target(
            "speed-up over the naive DBNStore.to_df()",
            f">= {NAIVE_SPEEDUP:g}x",
            f"{naive['seconds'] / chain:.1f}x ({naive['seconds']:.1f}s)" if naive else "not run",
            naive["seconds"] / chain >= NAIVE_SPEEDUP if naive else None,
        )
    )
    targets += backfill_targets(report, chain, floor)
    research = report.get("research")
    targets.append(
        _target(
            "research step on a year of signals",
            f"<= {RESEARCH_YEAR_LIMIT_S / 60:g} min",
            f"{research['seconds'] / 60:.1f} min ({research['signals']:,} signals, "
            f"{research['days']} days, {research['folds']} folds, "
            f"{research['processes']} processes)"
            if research
            else "not run",
            research["seconds"] <= RESEARCH_YEAR_LIMIT_S if research else None,
        )
    )
    two = report["chains"].get("2x")
    targets.append(
        _target(
            "cost grows linearly with volume",
            f"2x volume <= {SCALING_LIMIT:g}x time",
            f"{two['chain_seconds'] / chain:.2f}x" if two else "not run",
            two["chain_seconds"] / chain <= SCALING_LIMIT if two else None,
        )
    )
    return targets


def backfill_figures(report: dict, chain: float, floor: float) -> dict | None:
    """Per-day figures of the backfill. A backfill pays a fixed latency (the daemon's backfill
    loop looks every 30 s: once to start the runs, once to close the backfill) and then a cost
    per day: the year is projected as that latency plus 252 days at the measured work rate
    (first run's start to last run's end)."""
    backfill = report.get("backfill")
    if not backfill:
        return None
    k = len(backfill["days"])
    two, one = backfill["two_at_once"], backfill["one_at_a_time"]
    two_work = two.get("work_seconds", two["wall_seconds"])
    one_work = one.get("work_seconds", one["wall_seconds"])
    latency = max(0.0, two["wall_seconds"] - two_work)
    per_day_one = one_work / k
    return {
        "k": k,
        "year_s": latency + two_work / k * YEAR_SESSIONS,
        "latency_s": latency,
        "days_per_hour": k / two_work * 3600,
        "per_day_one": per_day_one,
        "per_day_two": two_work / k,
        "vs_chain": per_day_one / chain,
        "vs_floor": per_day_one / floor,
        "speedup": one_work / two_work,
        "peak": max([*two["peak_rss_by_role"].values(), *one["peak_rss_by_role"].values()]),
        "startup": backfill["startup"],
    }


def backfill_targets(report: dict, chain: float, floor: float) -> list[dict]:
    f = backfill_figures(report, chain, floor)
    if f is None:
        return []
    start = f["startup"]
    ratio = start["load_seconds"] / start["import_dagster_seconds"]
    return [
        _target(
            "loading the code location",
            f"<= {STARTUP_MULTIPLE:g}x `import dagster`",
            f"{start['load_seconds']:.2f}s = {ratio:.2f}x ({start['import_dagster_seconds']:.2f}s)",
            ratio <= STARTUP_MULTIPLE,
        ),
        _target(
            f"projected year ({YEAR_SESSIONS} full-size days), daemon backfill",
            f"<= {YEAR_LIMIT_S / 60:g} min",
            f"{f['year_s'] / 60:.1f} min ({f['days_per_hour']:.0f} days/hour over {f['k']} days, "
            f"plus {f['latency_s']:.0f}s of daemon latency)",
            f["year_s"] <= YEAR_LIMIT_S,
        ),
        _target(
            "amortized cost per day inside a backfill (one run at a time)",
            f"<= {AMORTIZED_MULTIPLE:g}x the warm single-day chain",
            f"{f['per_day_one']:.2f}s = {f['vs_chain']:.2f}x the chain ({chain:.2f}s)",
            f["vs_chain"] <= AMORTIZED_MULTIPLE,
        ),
        _target(
            "two cores: two runs at once",
            f">= {TWO_CORE_SPEEDUP:g}x the throughput of one at a time",
            f"{f['speedup']:.2f}x",
            f["speedup"] >= TWO_CORE_SPEEDUP,
        ),
        _target(
            "peak RSS of any process of the backfill",
            f"<= {BACKFILL_RSS_LIMIT / GIB:g} GiB",
            f"{f['peak'] / GIB:.2f} GiB",
            f["peak"] <= BACKFILL_RSS_LIMIT,
        ),
    ]


def backfill_section(report: dict) -> list[str]:
    one_day = report["chains"]["1x"]["chain_seconds"]
    floor = report["floor"]["seconds"]
    f = backfill_figures(report, one_day, floor)
    if f is None:
        return []
    backfill = report["backfill"]
    lines = [
        "",
        "## Backfill through the daemon",
        "",
        f"{f['k']} consecutive full-size sample days ({backfill['days'][0]} to "
        f"{backfill['days'][-1]}), generated once under `data/bench/`. On a fresh instance "
        "with the repo's `dagster.yaml` and a fresh lake, `dagster dev` (webserver, daemon and "
        "the code server they share, as `make ui` runs them) runs "
        f"`spymaster backfill` of the {f['k']} days, cut into runs of "
        f"{backfill['days_per_run']} days (`SPYMASTER_DAYS_PER_RUN`; a year's backfill with "
        "the default 10 spreads each run's start over more days). Both ways: with two runs at once "
        "(the repo's setting) and with one at a time. The raw-files sensor is on, as under "
        "`make ui`: whichever asks first gets the days, and `spymaster backfill` waits for the "
        "sensor's runs on its days and leaves out the days they made current. Wall time is "
        "`spymaster backfill` from submitting to the end; the work is the span from the first "
        "run's start to the last run's end (the daemon's loops look every 30 s at most: a fixed "
        "latency, counted once in the projection).",
        "",
        "| runs at once | wall s | work s | days/hour | s per day | vs warm chain | vs floor | "
        "runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key in (("two", "two_at_once"), ("one", "one_at_a_time")):
        run = backfill[key]
        work = run.get("work_seconds", run["wall_seconds"])
        per_day = work / f["k"]
        lines.append(
            f"| {label} | {run['wall_seconds']:.1f} | {work:.1f} | "
            f"{f['k'] / work * 3600:.0f} | {per_day:.2f} | {per_day / one_day:.2f}x | "
            f"{per_day / floor:.1f}x | {len(run['runs'])} |"
        )
    repeats = backfill.get("repeats")
    if repeats and len(repeats["two_at_once_work_seconds"]) > 1:

        def seconds(key: str) -> str:
            return ", ".join(f"{s:.1f}" for s in repeats[key])

        lines += [
            "",
            f"Each way {len(repeats['two_at_once_work_seconds'])} times, interleaved; the "
            "table holds the fastest of each (another tenant of the host only slows a repeat "
            f"down). Work s of every repeat: two at once {seconds('two_at_once_work_seconds')}; "
            f"one at a time {seconds('one_at_a_time_work_seconds')}.",
        ]
    lines += ["", "Who did the work (the sensor is on, as under `make ui`):", ""]
    for label, key in (("two at once", "two_at_once"), ("one at a time", "one_at_a_time")):
        lines.append(f"- {label}: {runs_by_launcher(backfill[key]['runs'])}")
    lines += ["", "Peak RSS and CPU time of each kind of process (all of its processes):", ""]
    for label, key in (("two at once", "two_at_once"), ("one at a time", "one_at_a_time")):
        roles = backfill[key]["peak_rss_by_role"]
        cpu = backfill[key].get("cpu_seconds_by_role", {})
        cells = ", ".join(
            f"{role} {_gib(peak)} GiB ({cpu.get(role, 0):.0f} CPU s)"
            for role, peak in sorted(roles.items())
        )
        lines.append(f"- {label}: {cells}")
    two = backfill["two_at_once"]
    cpu = two.get("cpu_seconds_by_role", {})
    work = two.get("work_seconds", two["wall_seconds"])
    if cpu and work:
        busy = sum(cpu.values()) / work
        dagster = sum(v for k, v in cpu.items() if k != "run worker")
        lines += [
            "",
            f"Two at once, the processes used {sum(cpu.values()):.0f} CPU s over {work:.0f} s of "
            f"work: {busy:.2f} of the 2 cores busy, {dagster:.0f} CPU s of it Dagster's own "
            "processes (the daemon creating runs, which logs every planned asset and check of "
            "every day as a separate SQLite transaction; the sensors in the code server; the "
            "webserver).",
        ]
    start = f["startup"]
    lines += [
        "",
        f"Start-up: `python -c 'import dagster'` {start['import_dagster_seconds']:.2f}s; loading "
        f"the code location (definitions and repository, load cache warm) "
        f"{start['load_seconds']:.2f}s (best of 5 each, interleaved).",
    ]
    return lines


def runs_by_launcher(runs: list[dict]) -> str:
    """Per launcher (the raw-files sensor, the backfill): runs, days, and how many asset-days
    they built or recorded again (current days, built by an earlier run)."""
    parts = []
    for by in ("sensor", "backfill", "other"):
        mine = [r for r in runs if r.get("by", "other") == by]
        if not mine:
            continue
        days = sum(len(r["days"]) for r in mine)
        seconds = sum(r["seconds"] for r in mine)
        again = sum(r.get("recorded_again", 0) for r in mine)
        built = sum(r.get("materializations", 0) for r in mine) - again
        name = {"sensor": "raw_files_sensor", "other": "other runs"}.get(by, by)
        per_day = f" ({seconds / days:.2f} s per day)" if days else ""
        parts.append(
            f"{name} {len(mine)} runs over {days} days, {seconds:.1f} s of run time{per_day}: "
            f"{built} asset-days built, {again} recorded again"
        )
    return "; ".join(parts) or "no runs"


def _gib(n: int) -> str:
    return f"{n / GIB:.2f}"


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not run"}[flag]


def where_the_time_goes(report: dict) -> list[str]:
    """A few sentences computed from the run: what the chain spends beyond the floor."""
    floor = report["floor"]
    mbp = floor["files"]["mbp-10"]
    one = report["chains"]["1x"]
    steps = {a["asset"]: a["seconds"] for a in one["assets"]}
    bronze = sum(v for k, v in steps.items() if k.startswith("bronze/"))
    chain = one["chain_seconds"]
    others = sorted(
        ((v, k) for k, v in steps.items() if not k.startswith("bronze/")), reverse=True
    )[:3]
    bookkeeping = chain - sum(steps.values())
    ratio = mbp["decoded_bytes"] / mbp["bytes"]
    return [
        f"- The generated MBP-10 file compresses {ratio:.0f}:1. Such regular data decompresses "
        f"fast: this floor ({floor['seconds']:.2f}s) is below the 1 to 2.5 s a real day's file "
        "takes, so the floor ratio above is stricter here than on real files.",
        f"- The three bronze assets (decode, contract and F_LAST filtering, book checks on the raw "
        f"integers, parquet) take {bronze:.2f}s of the {chain:.2f}s, "
        f"{bronze / floor['seconds']:.1f}x the floor on its own: decompression runs at the "
        "floor, the rest is gathering the kept rows into columns and encoding parquet. "
        "bronze/es_mbp10 also carries silver/barrier_physics: the barrier is computed from the "
        "book while it streams by, so barrier_physics itself only collects the result.",
        "- The slowest later assets: "
        + ", ".join(f"{k} {v:.2f}s" for v, k in others)
        + f". The daily chain's own work (events, check results, the day's bookkeeping) is "
        f"the remaining {max(bookkeeping, 0):.2f}s.",
        "- Runs use one thread each (SPYMASTER_THREADS_PER_RUN, spymaster_assets/threads.py): "
        "the daemon runs two at once on the two cores. A run alone with more threads (polars' "
        "pool, the book encoded in the background) finishes a day sooner"
        + (
            f" ({alone['chain_seconds']:.2f}s with {alone['threads']})"
            if (alone := report.get("chain_alone"))
            else ""
        )
        + "; two runs at once do not.",
    ]


def least_cost_section(report: dict) -> list[str]:
    """How low the chain could go on this machine: the work no design can skip (decompressing
    the raw files, writing the bronze book), and all of the chain's work spread over the
    cores."""
    book = report.get("book_write")
    if not book:
        return []
    floor = report["floor"]["seconds"]
    one = report["chains"]["1x"]
    alone = report.get("chain_alone")
    must = floor + book["seconds"]
    lines = [
        "",
        "## The least a day costs",
        "",
        f"- Writing the bronze book, already gathered in memory, with bronze's own parquet "
        f"writer and options (lz4 pages; {book['rows']:,} books x {book['columns']} columns, "
        f"{book['in_memory_bytes'] / 1e9:.2f} GB into {book['file_bytes'] / 1e6:.0f} MB, best "
        f"of {len(book['runs'])}): **{book['seconds']:.2f}s**. With the floor, that is "
        f"{must:.2f}s = **{must / floor:.2f}x the floor** on one core before a single column "
        "is gathered, a check run or a signal computed.",
        f"- The one-thread chain used {one['cpu_seconds']:.2f} CPU s for its "
        f"{one['chain_seconds']:.2f}s.",
    ]
    if alone:
        cores = alone["threads"]
        lines.append(
            f"- Alone with {cores} threads it used {alone['cpu_seconds']:.2f} CPU s in "
            f"{alone['chain_seconds']:.2f}s of wall time. Spread perfectly over the {cores} "
            f"cores, the one-thread chain's work would still take "
            f"{one['cpu_seconds'] / cores:.2f}s = {one['cpu_seconds'] / cores / floor:.2f}x "
            "the floor: the book's stream (decompress, gather, barrier physics) waits on the "
            "touches, which wait on the trades and the options, so the steps cannot all run "
            "side by side."
        )
    return lines


def failed_checks_section(report: dict) -> list[str]:
    """Every check that failed on the benchmark's days: a WARN or non-blocking check fails
    without failing its day, and a generated day that trips one should be seen."""
    found: list[tuple[str, list[str]]] = [
        (f"the {label} day (warm chain)", chain["failed_checks"])
        for label, chain in report["chains"].items()
        if "failed_checks" in chain
    ]
    backfill = report.get("backfill")
    if backfill and "failed_checks" in backfill["two_at_once"]:
        found.append((f"the {len(backfill['days'])} backfill days",
                      backfill["two_at_once"]["failed_checks"]))  # fmt: skip
    if not found:
        return []
    lines = ["", "## Failed checks", ""]
    for where, failed in found:
        if not failed:
            lines.append(f"- {where}: every check passed")
            continue
        lines.append(f"- {where}: {len(failed)} failed")
        lines += [f"  - `{line}`" for line in failed]
    return lines


def realism_section(report: dict) -> list[str]:
    """How the 1x day's signals look to the rules (signals/realism.py), against the figures of
    a real-size ES day."""
    from spymaster_assets.signals.realism import TARGETS

    figures = report["chains"]["1x"].get("realism")
    if not figures:
        return []
    lines = [
        "",
        "## Signals of the 1x day, against a real-size day",
        "",
        f"{figures['signals']} signals (gold/signals metadata `realism`).",
        "",
        "| figure | goal | this day | |",
        "|---|---|---|---|",
    ]
    for name, goal, ok in TARGETS:
        if name in figures:
            value = figures[name]
            shown = ", ".join(value) or "none" if isinstance(value, list) else value
            lines.append(f"| {name} | {goal} | {shown} | {_met(ok(value))} |")
    return lines


def markdown(report: dict) -> str:
    m = report["machine"]
    floor = report["floor"]
    one = report["chains"]["1x"]
    mbp = floor["files"]["mbp-10"]
    trades = floor["files"]["trades"]
    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` (`spymaster bench`) on {report['created']}: "
        f"{m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}. "
        f"The `{report['profile']}` sample day {report['day']}: MBP-10 file "
        f"{mbp['bytes'] / 1e6:.0f} MB ({mbp['decoded_bytes'] / 1e9:.2f} GB decoded), trades file "
        f"{trades['bytes'] / 1e6:.1f} MB. Every figure below comes from this one run; the "
        "targets are ratios between them.",
        "",
        "## Targets",
        "",
        "| target | goal | this run | |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['goal']} | {t['value']} | {_met(t['met'])} |")
    lines += ["", "## Reading these numbers", "", *where_the_time_goes(report)]
    lines += [
        "",
        "## The decompression floor",
        "",
        f"Decompressing the raw files to nothing with the {floor['tool']} (best of "
        f"{len(mbp['runs'])}): MBP-10 {mbp['seconds']:.2f}s, trades {trades['seconds']:.2f}s, "
        f"together **{floor['seconds']:.2f}s**.",
        "",
        "## The per-day chain at 1x (warm process)",
        "",
        f"Every daily asset of one partition in one process whose imports, compiled kernels and "
        f"thread pools were loaded by a small warm-up day first "
        f"({one['warmup_seconds']:.1f}s, not counted). Records: read from the raw file for "
        "bronze, written otherwise. RSS: the highest sample (every 5 ms) during the step.",
        "",
        "| asset | seconds | records | records/s | peak RSS GiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for a in one["assets"]:
        records = f"{a['records']:,}" if a["records"] is not None else ""
        rate = f"{a['records_per_s']:,}" if a["records_per_s"] else ""
        lines.append(
            f"| {a['asset']} | {a['seconds']:.2f} | {records} | {rate} | "
            f"{_gib(a['peak_rss_bytes'])} |"
        )
    lines += [
        f"| **whole chain** | **{one['chain_seconds']:.2f}** | | | "
        f"**{_gib(one['child_peak_rss_bytes'])}** (process peak) |",
        "",
        "## Cost against volume",
        "",
        "| volume | MBP-10 records | chain seconds | vs 1x | process peak RSS GiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, chain in report["chains"].items():
        mbp_records = next(
            (a["records"] for a in chain["assets"] if a["asset"] == "bronze/es_mbp10"), None
        )
        lines.append(
            f"| {label} | {mbp_records:,} | {chain['chain_seconds']:.2f} | "
            f"{chain['chain_seconds'] / one['chain_seconds']:.2f} | "
            f"{_gib(chain['child_peak_rss_bytes'])} |"
        )
    lines += least_cost_section(report)
    lines += backfill_section(report)
    lines += realism_section(report)
    lines += failed_checks_section(report)
    dagster, naive = report.get("dagster_path"), report.get("naive")
    lines += ["", "## Other paths", ""]
    if dagster:
        lines.append(
            f"- The Dagster path, `spymaster materialize --date {report['day']}` in a fresh "
            f"process (imports, definitions, the instance, every daily asset and the combined "
            f"one): **{dagster['seconds']:.1f}s** wall."
        )
    if naive:
        lines.append(
            f"- The naive baseline, `DBNStore.from_file(mbp10).to_df()`: "
            f"**{naive['seconds']:.1f}s** and {_gib(naive['peak_rss_bytes'])} GiB peak RSS for "
            f"{naive['rows']:,} rows (all instruments, every record, nothing else done)."
        )
    lines += [
        "",
        "Re-run with `make bench` (the sample days are generated once under "
        "`data/bench/` and reused); `spymaster bench --help` lists the options. Reports land in "
        "`bench/results/` as JSON and markdown.",
        "",
    ]
    return "\n".join(lines)


def _stamp(created: str) -> str:
    return created.replace(":", "").replace("-", "").replace("+0000", "Z")


def write_report(report: dict, results_dir: Path, docs_path: Path | None) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(report["created"])
    text = markdown(report)
    paths = [results_dir / f"bench-{stamp}.json", results_dir / f"bench-{stamp}.md"]
    paths[0].write_text(json.dumps(report, indent=2) + "\n")
    paths[1].write_text(text)
    if docs_path is not None:
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        previous = docs_path.read_text() if docs_path.exists() else None
        docs_path.write_text(with_cluster_section(text, None, previous))
        paths.append(docs_path)
    return paths


# The cluster benchmark (`make bench-cluster`) writes its own section between these markers;
# `make bench` rewrites the rest of the page and keeps it.
CLUSTER_START = "<!-- cluster benchmark: written by `make bench-cluster` -->"
CLUSTER_END = "<!-- end of the cluster benchmark -->"


def cluster_section(result: dict) -> str:
    one, two = result["results"][0], result["results"][1]
    k = len(result["days"])
    lines = [
        CLUSTER_START,
        "## The backfill on Celery workers",
        "",
        f"Measured by `make bench-cluster` (`spymaster bench-cluster`) on {result['created']}, "
        f"{result['cpus']} CPUs: {k} consecutive {result['profile']} sample days "
        f"({result['days'][0]} to {result['days'][-1]}) backfilled on the cluster of "
        "`docs/deploy.md`, all on this machine: PostgreSQL 15, redis-server and moto's S3 "
        "server on loopback, `dagster dev`, and 1 then 2 `spymaster worker` processes (one "
        "step at a time each). One day per run, twice as many runs at once as workers (a run's "
        "start overlaps another's step). The work is "
        "the span from the first run's start to the last run's end.",
        "",
        "| workers | work | days/hour | days/hour per worker | workers' CPU | worker peak RSS "
        "| failed checks |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['workers']} | {r['work_seconds']:.0f}s | {r['days_per_hour']:.0f} | "
            f"{r['days_per_hour_per_worker']:.0f} | {r['worker_cpu_seconds']:.0f} CPU s | "
            f"{_gib(r['worker_peak_rss'])} GiB | {len(r['failed_checks'])} |"
        )
    speedup = one["work_seconds"] / two["work_seconds"]
    lines += [
        "",
        f"Two workers do the {k} days **{speedup:.2f}x** as fast as one. On "
        f"{result['cpus']} cores the second worker shares them with the first, the runs' "
        "orchestrators, the daemon and the S3 server (a Python process that every byte of the "
        "lake passes through): this is what a second worker adds on this machine, not what a "
        "second machine would. The figure to scale by is one worker with the machine to "
        f"itself, {one['days_per_hour']:.0f} days/hour: a worker per machine adds about that "
        "much while the database, the broker and the bucket keep up. Against the local-disk "
        "backfill above, the cluster pays for a run per day and for every raw and lake byte "
        "going through the S3 server.",
        CLUSTER_END,
    ]
    return "\n".join(lines)


def with_cluster_section(page: str, section: str | None, previous: str | None) -> str:
    """`page` with the cluster section: the new one, else the one `previous` held."""
    if section is None and previous and CLUSTER_START in previous and CLUSTER_END in previous:
        start = previous.index(CLUSTER_START)
        section = previous[start : previous.index(CLUSTER_END) + len(CLUSTER_END)]
    if CLUSTER_START in page and CLUSTER_END in page:
        start, end = page.index(CLUSTER_START), page.index(CLUSTER_END) + len(CLUSTER_END)
        page = page[:start].rstrip("\n") + "\n" + page[end:].lstrip("\n")
    if section is None:
        return page
    anchor = "\n## Other paths"
    at = page.find(anchor)
    if at < 0:
        return page.rstrip("\n") + "\n\n" + section + "\n"
    return page[:at].rstrip("\n") + "\n\n" + section + "\n" + page[at:]


def write_cluster_report(result: dict, results_dir: Path, docs_path: Path | None) -> str:
    """The cluster benchmark's JSON under `results_dir`, its section in `docs_path`."""
    section = cluster_section(result)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"cluster-{_stamp(result['created'])}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    if docs_path is not None:
        docs_path.write_text(with_cluster_section(docs_path.read_text(), section, None))
    return section
