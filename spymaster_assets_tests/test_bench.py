"""`spymaster bench` end to end on small demo days (what it measures, never how fast)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import databento as db
import pytest

from spymaster_assets.bench.floor import decoded_bytes, decompress_to_nothing
from spymaster_assets.bench.report import GIB, evaluate_targets, markdown
from spymaster_assets.definitions import defs
from spymaster_assets.paths import DataLayout

from .test_cli import spymaster


def daily_asset_names() -> set[str]:
    graph = defs.resolve_asset_graph()
    return {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def}


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    home = root / "home"
    home.mkdir()
    done = spymaster(
        "bench",
        "--profile", "demo",
        "--scales", "0.5,1",
        "--research-days", "14",
        "--data-dir", str(root / "data"),
        "--results-dir", str(root / "results"),
        home=home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    reports = sorted((root / "results").glob("bench-*.json"))
    assert len(reports) == 1 and reports[0].with_suffix(".md").exists()
    return root, done.stdout, json.loads(reports[0].read_text())


def test_the_chain_reports_every_daily_asset_at_every_volume(bench_run):
    _, _, report = bench_run
    assert set(report["chains"]) == {"0.5x", "1x"}
    for chain in report["chains"].values():
        names = [a["asset"] for a in chain["assets"]]
        assert set(names) == daily_asset_names() and len(names) == len(set(names))
        assert all(a["seconds"] > 0 for a in chain["assets"])
        assert chain["chain_seconds"] >= sum(a["seconds"] for a in chain["assets"]) * 0.9
        # the kernel's high-water mark of the child and the sampled peak of the run agree
        assert chain["child_peak_rss_bytes"] >= 0.95 * chain["run_peak_rss_bytes"] > 0
        assert chain["warmup_seconds"] > 0
    # the records are the day's: the raw MBP-10 file's record count for bronze
    one = {a["asset"]: a for a in report["chains"]["1x"]["assets"]}
    half = {a["asset"]: a for a in report["chains"]["0.5x"]["assets"]}
    path = report["floor"]["files"]["mbp-10"]["path"]
    assert one["bronze/es_mbp10"]["records"] == len(db.DBNStore.from_file(path).to_ndarray())
    assert 0.3 < half["bronze/es_mbp10"]["records"] / one["bronze/es_mbp10"]["records"] < 0.7


def test_floor_dagster_path_and_baseline_are_measured_on_the_1x_day(bench_run):
    root, _, report = bench_run
    mbp = report["floor"]["files"]["mbp-10"]
    records = len(db.DBNStore.from_file(mbp["path"]).to_ndarray())
    assert mbp["decoded_bytes"] > records * 368  # records plus the metadata header
    assert len(mbp["runs"]) == 3 and mbp["seconds"] == min(mbp["runs"])
    assert report["dagster_path"]["seconds"] > 0
    assert "combined ok" in report["dagster_path"]["output"]  # every asset of the day ran
    assert report["naive"]["rows"] == records
    evaluated = [t["met"] in (True, False) for t in report["targets"]]
    # no backfill and no 2x volume in this run
    assert evaluated == [True, True, True, True, True, False]
    # the sample days are generated once under the data folder, then reused
    day = dt.date.fromisoformat(report["day"])
    assert DataLayout(root / "data" / "bench" / "demo-1x").dbn_path("mbp-10", day) == Path(
        mbp["path"]
    )


def test_the_least_a_day_costs_is_measured_beside_the_chain(bench_run):
    """The chain alone on every core, its CPU time, and the bronze book written again from
    memory with bronze's own writer: the figures that bound what the chain could reach."""
    import os

    import pyarrow.parquet as pq

    root, _, report = bench_run
    one = report["chains"]["1x"]
    assert one["threads"] == 1 and one["cpu_seconds"] > 0
    alone = report["chain_alone"]
    assert alone["threads"] == os.cpu_count() > 1
    assert [a["asset"] for a in alone["assets"]] == [a["asset"] for a in one["assets"]]
    book = report["book_write"]
    folder = DataLayout(root / "data" / "bench" / "demo-1x").lake_dir("bronze", "es_mbp10")
    path = folder / f"{report['day']}.parquet"
    bronze = pq.ParquetFile(path)
    assert book["rows"] == bronze.metadata.num_rows > 0
    assert book["columns"] == bronze.metadata.num_columns
    assert len(book["runs"]) == 3 and book["seconds"] == min(book["runs"]) > 0
    # the same writer and options: the same size within the writer's own metadata
    assert abs(book["file_bytes"] - path.stat().st_size) < 0.01 * path.stat().st_size
    assert [p.name for p in folder.iterdir()] == [path.name]  # the scratch file is gone
    section = markdown(report)
    assert "## The least a day costs" in section
    floor = report["floor"]["seconds"]
    assert f"{(floor + book['seconds']) / floor:.2f}x the floor" in section
    chain_target = report["targets"][0]
    assert (
        f"alone on {alone['threads']} cores {alone['chain_seconds']:.2f}s" in chain_target["value"]
    )
    best = min(one["chain_seconds"], alone["chain_seconds"])
    assert chain_target["met"] == (best <= 3 * floor)


def test_the_research_step_runs_on_sessions_laid_out_from_the_bench_days(bench_run):
    import polars as pl

    root, _, report = bench_run
    research = report["research"]
    day = report["day"]
    per_day = [
        pl.read_parquet(DataLayout(root / "data" / "bench" / f"demo-{s}").lake_path(
            "gold", "signals", day)).height
        for s in ("0.5x", "1x")
    ]  # fmt: skip
    assert research["days"] == 14 and research["source_days"] == 2
    # 14 sessions take the two days in turn; a shorter session may drop a few late signals
    assert 0.9 * 7 * sum(per_day) <= research["signals"] <= 7 * sum(per_day)
    assert research["folds"] == 1  # 10 days to train, 1 embargo, one block of 3 test days
    assert research["seconds"] > 0
    # every model predicts every signal of the 3 test days once
    assert 0 < research["test_signals"] < research["signals"]
    assert research["predictions"] == research["models"] * research["test_signals"]
    target = next(t for t in report["targets"] if t["target"].startswith("research"))
    assert f"{research['signals']:,} signals" in target["value"]


def test_the_table_is_printed_and_names_every_asset(bench_run):
    _, stdout, report = bench_run
    table = markdown(report)
    assert table in stdout
    for name in daily_asset_names():
        assert f"| {name} |" in table
    for target in report["targets"]:
        assert target["target"] in table


def test_a_second_run_reuses_the_sample_days(bench_run):
    root, _, _ = bench_run
    home = root / "home"
    done = spymaster(
        "bench",
        "--profile", "demo",
        "--scales", "1",
        "--no-baseline",
        "--no-dagster-path",
        "--no-research",
        "--data-dir", str(root / "data"),
        "--results-dir", str(root / "results2"),
        home=home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cached sample day" in done.stdout and "generating" not in done.stdout
    report = json.loads(next((root / "results2").glob("bench-*.json")).read_text())
    assert report["naive"] is None and report["dagster_path"] is None
    met = {t["target"]: t["met"] for t in report["targets"]}
    assert met["Dagster path for one partition"] is None
    assert met["cost grows linearly with volume"] is None


def test_the_floor_decompresses_every_byte(sample_root):
    from .conftest import SAMPLE_DAY

    path = DataLayout(sample_root).dbn_path("mbp-10", SAMPLE_DAY)
    import zstandard

    expected = len(zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()))
    assert decoded_bytes(path) == expected
    seconds, tool = decompress_to_nothing(path)
    assert seconds > 0 and tool in ("zstd CLI", "python-zstandard")


def fake_report(
    chain: float, floor: float, peak: int, dagster: float, naive: float, two: float, year: float
):
    return {
        "research": {
            "seconds": year,
            "signals": 80_000,
            "days": 252,
            "folds": 49,
            "processes": 2,
        },  # fmt: skip
        "floor": {"seconds": floor},
        "chains": {
            "1x": {"chain_seconds": chain, "child_peak_rss_bytes": peak},
            "2x": {"chain_seconds": two},
        },
        "dagster_path": {"seconds": dagster},
        "naive": {"seconds": naive},
    }


@pytest.mark.parametrize(
    "values, met",
    [
        ((3.0, 1.0, 2**30, 23.0, 30.0, 6.8, 300.0), [True] * 6),
        ((3.1, 1.0, 2**31, 23.2, 30.0, 7.2, 300.5), [False] * 6),
    ],
)
def test_targets_are_the_issue_s_ratios(values, met):
    assert [t["met"] for t in evaluate_targets(fake_report(*values))] == met


def test_the_backfill_section_says_how_busy_the_cores_were(bench_run):
    """Who used the CPU during a backfill, computed from the sampled process groups."""
    _, _, report = bench_run
    run = {"days": ["2025-12-01"], "status": "SUCCESS", "start": 0.0, "end": 100.0,
           "seconds": 100.0, "by": "sensor", "materializations": 14, "recorded_again": 0}  # fmt: skip
    two = {"wall_seconds": 130.0, "work_seconds": 100.0, "runs": [run],
           "peak_rss_by_role": {"run worker": GIB, "daemon": GIB // 8},
           "cpu_seconds_by_role": {"run worker": 138.0, "daemon": 6.0, "code server": 3.0,
                                   "webserver": 3.0}}  # fmt: skip
    one = {**two, "wall_seconds": 180.0, "work_seconds": 160.0}
    backfill = {"days": ["2025-12-01", "2025-12-02"], "days_per_run": 1,
                "startup": {"import_dagster_seconds": 0.7, "load_seconds": 0.9},
                "two_at_once": two, "one_at_a_time": one,
                "repeats": {"two_at_once_work_seconds": [100.0, 121.5],
                            "one_at_a_time_work_seconds": [170.25, 160.0]}}  # fmt: skip
    table = markdown({**report, "backfill": backfill})
    assert "used 150 CPU s over 100 s of work: 1.50 of the 2 cores busy, 12 CPU s" in table
    assert "Each way 2 times, interleaved" in table
    assert "two at once 100.0, 121.5; one at a time 170.2, 160.0." in table


@pytest.mark.parametrize(
    ("cmdline", "role"),
    [
        ("/v/bin/python /v/bin/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml", "dagster dev"),
        ("/v/bin/python -m dagster._daemon run --log-level info --code-server-log-level info",
         "daemon"),
        ("/v/bin/python -m dagster_webserver --port 3000 --code-server-log-level info",
         "webserver"),
        ("/v/bin/python /v/bin/dagster code-server start -m spymaster_assets.definitions",
         "code server"),
        ("/v/bin/python -m dagster api grpc --lazy-load-user-code --socket /tmp/s", "code server"),
        ("/v/bin/python -c from multiprocessing.spawn import spawn_main; spawn_main()",
         "run worker"),
    ],
)  # fmt: skip
def test_the_backfill_bench_names_each_process_by_what_it_runs(cmdline, role):
    from spymaster_assets.bench.backfill import _label

    assert _label(cmdline) == role


def test_the_report_lists_every_failed_check_of_its_days(bench_run):
    _, stdout, report = bench_run
    assert report["chains"]["1x"]["failed_checks"] == []  # a demo day passes every check
    assert "- the 1x day (warm chain): every check passed" in stdout
    line = "2025-12-16 gold/signals:physics_varies ERROR fuel_effect is constant (AMPLIFY)"
    chains = {**report["chains"], "1x": {**report["chains"]["1x"], "failed_checks": [line]}}
    table = markdown({**report, "chains": chains})
    assert f"- the 1x day (warm chain): 1 failed\n  - `{line}`" in table


def test_the_report_shows_how_the_1x_day_looks_to_the_rules(bench_run):
    root, stdout, report = bench_run
    figures = report["chains"]["1x"]["realism"]
    assert figures["signals"] > 0 and "barrier_state_max_share" in figures
    assert "## Signals of the 1x day, against a real-size day" in stdout
    assert f"| sweep_share | 0.01 .. 0.30 | {figures['sweep_share']} |" in stdout
    # a day that misses a target is marked so
    worse = {**figures, "barrier_states_seen": 3}
    chains = {**report["chains"], "1x": {**report["chains"]["1x"], "realism": worse}}
    assert "| barrier_states_seen | >= 5 | 3 | **not met** |" in markdown(
        {**report, "chains": chains}
    )


def test_a_cached_day_from_an_older_generator_is_generated_again(tmp_path, monkeypatch):
    """The bench reuses a day only when this generator, with these settings, wrote it."""
    from spymaster_assets.bench import sample_cache
    from spymaster_assets.bench.run import ensure_day

    day, said = dt.date(2025, 11, 24), []
    ensure_day(tmp_path, day, "demo", 7, 0.05, said.append)
    ensure_day(tmp_path, day, "demo", 7, 0.05, said.append)
    assert "generating" in said[0] and "cached sample day" in said[-1]
    ensure_day(tmp_path, day, "demo", 8, 0.05, said.append)  # another seed
    assert "generating" in said[-2]
    monkeypatch.setattr(sample_cache, "generator_fingerprint", lambda: "a-newer-generator")
    assert not sample_cache.is_current(tmp_path, day, "demo", 8, 0.05)
    ensure_day(tmp_path, day, "demo", 8, 0.05, said.append)
    assert "generating" in said[-2] and "generated in" in said[-1]


def test_the_cluster_section_survives_a_rewrite_of_the_page(tmp_path):
    """`make bench-cluster` writes its section; `make bench` rewrites the page around it."""
    from spymaster_assets.bench.report import (
        CLUSTER_END,
        CLUSTER_START,
        cluster_section,
        with_cluster_section,
    )

    def result(workers, seconds):
        return {"workers": workers, "work_seconds": seconds, "days_per_hour": 6 * 3600 / seconds,
                "days_per_hour_per_worker": 6 * 3600 / seconds / workers,
                "worker_cpu_seconds": 100.0, "worker_peak_rss": GIB, "failed_checks": []}  # fmt: skip

    section = cluster_section({
        "created": "2026-12-03T10:00:00+00:00", "cpus": 2, "profile": "full",
        "days": [f"2025-12-0{d}" for d in range(1, 7)], "results": [result(1, 120), result(2, 80)],
    })  # fmt: skip
    assert "**1.50x** as fast as one" in section
    assert "| 2 | 80s | 270 | 135 |" in section
    page = "# Performance\n\n## Backfill\n\ntext\n\n## Other paths\n\n- x\n"
    written = with_cluster_section(page, section, None)
    assert written.index("## Backfill") < written.index(CLUSTER_START)
    assert written.index(CLUSTER_END) < written.index("## Other paths")
    rewritten = with_cluster_section(page.replace("text", "new text"), None, written)
    assert "new text" in rewritten and rewritten.count(CLUSTER_START) == 1
    assert section in rewritten
    again = with_cluster_section(rewritten, section.replace("1.50x", "1.60x"), None)
    assert "1.60x" in again and "1.50x" not in again and again.count(CLUSTER_END) == 1
