"""Re-runs give the same bytes; chunk sizes do not change the data (SPEC: reproducible lake)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from spymaster_assets.definitions import defs
from spymaster_assets.defs.resources import make_resources
from spymaster_assets.paths import DataLayout
from spymaster_assets.settings import SpymasterConfig

from .conftest import SAMPLE_DAY
from .test_cli import spymaster

DAILY = [
    k
    for k in defs.resolve_asset_graph().get_all_asset_keys()
    if defs.resolve_asset_graph().get(k).partitions_def is not None
]


def lake_digests(root: Path) -> dict[str, str]:
    """Every data file of the lake (not the chain's own bookkeeping under lake/_days/)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "lake").rglob("*"))
        if p.is_file() and "_days" not in p.relative_to(root).parts
    }


def test_materializing_a_day_twice_gives_byte_identical_files(one_day, dagster_home):
    first = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day),
                      home=dagster_home)  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    before = lake_digests(one_day)
    # every daily asset, the combined research file and the charts
    assert len([k for k in before if k.endswith(f"{SAMPLE_DAY}.parquet")]) == len(DAILY) - 1
    assert "lake/gold/research/signals_vectorized.parquet" in before
    assert any(k.endswith(".png") for k in before)
    again = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day),
                      "--force", home=dagster_home)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{SAMPLE_DAY} ok" in again.stdout, "rebuilt, not recorded again"
    assert lake_digests(one_day) == before


def materialize(root: Path, settings: SpymasterConfig) -> None:
    result = dg.materialize(
        list(defs.assets),
        partition_key=SAMPLE_DAY.isoformat(),
        selection=DAILY,
        resources=make_resources(root, settings),
    )
    assert result.success


def test_the_same_bytes_with_one_thread_or_more_per_run(sample_root, tmp_path, monkeypatch):
    """SPYMASTER_THREADS_PER_RUN=2 encodes the book in a background thread: the same files."""
    roots = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("SPYMASTER_THREADS_PER_RUN", threads)
        roots[threads] = tmp_path / f"threads{threads}"
        shutil.copytree(sample_root / "raw", roots[threads] / "raw")
        materialize(roots[threads], SpymasterConfig(mbp_chunk_records=997))  # many chunks
    assert lake_digests(roots["1"]) == lake_digests(roots["2"])


def test_a_day_written_while_the_combined_file_is_read_is_in_it(sample_root, tmp_path, monkeypatch):
    """Another run writes a day of gold/signals while the combined file reads the days."""
    root = tmp_path / "data"
    shutil.copytree(sample_root / "raw", root / "raw")
    materialize(root, SpymasterConfig())
    day_dir = root / "lake" / "gold" / "signals"
    [written] = day_dir.glob("*.parquet")
    next_day = SAMPLE_DAY + dt.timedelta(days=1)
    late = pl.read_parquet(written).with_columns(  # the same signals a day later
        pl.lit(next_day).alias("date"),
        pl.col("ts_ns") + 86_400 * 10**9,
        ("ffffffff" + pl.col("event_id").str.slice(8)).alias("event_id"),
    )
    read_parquet = pl.read_parquet

    def read_while_another_run_writes(path, *args, **kwargs):
        frame = read_parquet(path, *args, **kwargs)
        if Path(path).parent == day_dir and not (day_dir / f"{next_day}.parquet").exists():
            late.write_parquet(day_dir / f"{next_day}.parquet")
        return frame

    monkeypatch.setattr(pl, "read_parquet", read_while_another_run_writes)
    result = dg.materialize(
        list(defs.assets),
        selection=[dg.AssetKey(["gold", "signals_vectorized"])],
        resources=make_resources(root, SpymasterConfig()),
    )
    assert result.success
    combined = read_parquet(root / "lake" / "gold" / "research" / "signals_vectorized.parquet")
    assert sorted(combined["date"].unique().to_list()) == [SAMPLE_DAY, next_day]


@pytest.mark.parametrize("chunk_records", [997, 1_000_000])
def test_the_same_data_whatever_the_mbp10_chunk_size(sample_root, tmp_path, chunk_records):
    roots = {}
    for name, chunk in (("default", SpymasterConfig().mbp_chunk_records), ("other", chunk_records)):
        roots[name] = tmp_path / name
        shutil.copytree(sample_root / "raw", roots[name] / "raw")
        materialize(roots[name], SpymasterConfig(mbp_chunk_records=chunk))
    a, b = (lake_digests(r) for r in roots.values())
    assert a.keys() == b.keys()
    books = f"lake/bronze/es_mbp10/{SAMPLE_DAY}.parquet"
    # the books are the same rows; only their parquet row groups follow the chunks
    assert pl.read_parquet(roots["default"] / books).equals(pl.read_parquet(roots["other"] / books))
    assert {k for k in a if a[k] != b[k]} <= {books}
    signals = DataLayout(roots["other"]).lake_path("gold", "signals", SAMPLE_DAY.isoformat())
    assert pl.read_parquet(signals).height > 0


def test_a_run_killed_while_writing_leaves_the_previous_files_and_the_next_run_succeeds(
    one_day, dagster_home
):
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day), "--force"]
    assert spymaster(*args, home=dagster_home).returncode == 0
    good = lake_digests(one_day)
    books = one_day / "lake" / "bronze" / "es_mbp10"
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    env.pop("SPYMASTER_DATA_DIR", None)
    run = subprocess.Popen(
        [sys.executable, "-m", "spymaster_assets.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not list(books.glob(".*.tmp")):  # the book's parquet is being written
        assert run.poll() is None, "the run ended before it wrote the books"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    # every output under its final name is the earlier good file, whole and readable
    after = {k: v for k, v in lake_digests(one_day).items() if not k.endswith(".tmp")}
    assert after == good
    for name in after:
        if name.endswith(".parquet"):
            pl.read_parquet(one_day / name)
    again = spymaster(*args, home=dagster_home)
    assert again.returncode == 0, again.stderr[-2000:]
    assert lake_digests(one_day) == good  # and the killed run's temporary file is gone


def test_only_temporary_files_of_dead_writers_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    from spymaster_assets.storage import remove_orphans, scratch_sibling, temporary_sibling

    final = tmp_path / "2025-11-20.parquet"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    orphan = tmp_path / f".{final.name}.{dead.stdout.strip()}.0123456789ab.tmp"
    live = tmp_path / f".{final.name}.{os.getppid()}.0123456789ab.tmp"  # a concurrent writer
    other = tmp_path / ".2025-11-21.parquet.1.0123456789ab.tmp"  # another partition
    sorted_orphan = scratch_sibling(orphan, "sorted")  # a dead writer's re-sorted copy
    for p in (orphan, sorted_orphan, live, other):
        p.write_bytes(b"half a file")
    mine = temporary_sibling(final)
    assert str(os.getpid()) in mine.name and mine.parent == tmp_path
    assert not orphan.exists() and not sorted_orphan.exists()
    assert live.exists() and other.exists()
    assert remove_orphans(final) == []


OTHER_DAY = SAMPLE_DAY.replace(day=26)  # a Wednesday, more than SMA history days later


def start(args: list[str], home: Path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DAGSTER_HOME": str(home)}
    env.pop("SPYMASTER_DATA_DIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "spymaster_assets.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_runs_of_different_and_of_the_same_days_leave_correct_outputs(
    sample_root, tmp_path, dagster_home
):
    from spymaster_assets.sample.generator import generate_day

    days = tmp_path / "days"
    shutil.copytree(sample_root / "raw", days / "raw")
    generate_day(OTHER_DAY, days, profile="demo", seed=7)
    # the reference: one day after the other
    alone = tmp_path / "alone"
    shutil.copytree(days / "raw", alone / "raw")
    for day in (SAMPLE_DAY, OTHER_DAY):
        done = spymaster("materialize", "--date", str(day), "--data-dir", str(alone),
                         home=dagster_home)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    expected = lake_digests(alone)

    together = tmp_path / "together"
    shutil.copytree(days / "raw", together / "raw")
    runs = [
        start(["materialize", "--date", str(day), "--data-dir", str(together)], dagster_home)
        for day in (SAMPLE_DAY, OTHER_DAY, SAMPLE_DAY)  # two days at once, one of them twice
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
    got = lake_digests(together)
    assert not [k for k in got if k.endswith(".tmp")]  # no temporary file left behind
    research = "lake/gold/research/signals_vectorized.parquet"
    daily = {k: v for k, v in got.items() if k != research and not k.endswith(".lock")}
    assert daily == {k: v for k, v in expected.items() if k != research and not k.endswith(".lock")}
    # the research file holds both days whichever run rebuilt it last
    combined = pl.read_parquet(together / research)
    assert sorted(combined["date"].unique().to_list()) == [SAMPLE_DAY, OTHER_DAY]
    assert combined.equals(pl.read_parquet(alone / research))


def test_days_run_together_give_the_same_files_as_days_run_one_by_one_in_any_order(
    tmp_path, dagster_home, monkeypatch
):
    """A backfill runs consecutive days in one process (the chain hands each day's tables on in
    memory, SMA_200 reads the same run's bars); alone, a day reads the earlier days' bars from
    the lake or rebuilds them from the raw trades. Byte for byte the same lake either way."""
    from spymaster_assets.sample.generator import generate_day

    days = [dt.date(2025, 11, 20), dt.date(2025, 11, 21), dt.date(2025, 11, 24)]
    raw = tmp_path / "raw_days"
    for day in days:
        generate_day(day, raw, profile="demo", seed=5)

    def lake_of(name: str, runs: list[list[dt.date]]) -> dict[str, str]:
        root = tmp_path / name
        shutil.copytree(raw / "raw", root / "raw")
        for run in runs:
            monkeypatch.setenv("SPYMASTER_DAYS_PER_RUN", str(len(run)))
            done = spymaster("materialize", "--start", str(run[0]), "--end", str(run[-1]),
                             "--data-dir", str(root), home=dagster_home)  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            expected = "running" if len(run) > 1 else "[1/1]"
            assert expected in done.stdout, done.stdout
        return lake_digests(root)

    together = lake_of("together", [days])  # one run, three days
    one_by_one = lake_of("one_by_one", [[d] for d in days])  # in date order
    backwards = lake_of("backwards", [[d] for d in reversed(days)])  # Monday before its history
    assert together == one_by_one == backwards
    assert len([k for k in together if k.endswith("2025-11-24.parquet")]) == len(DAILY) - 1
