"""Bad raw input fails the partition with file, date and problem, and leaves no partial parquet;
the same on a local folder and on an S3 bucket (SPEC §11)."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from spymaster_assets.paths import DataLayout
from spymaster_assets.storage import SCRATCH_DIR_ENV

from . import dbn_factory as make
from .bronze_runner import check_results, failure_messages, materializations, run_bronze
from .conftest import SAMPLE_DAY, upload_tree


@pytest.fixture(params=["disk", "object store"])
def day_copy(request, sample_root, tmp_path) -> Path:
    """The sample day's raw files and its good bronze outputs, from a run before the damage:
    in a local folder, or under s3://lake/<prefix> on the loopback S3 server."""
    if request.param == "disk":
        root = tmp_path / "data"
        shutil.copytree(sample_root / "raw", root / "raw")
    else:
        root = request.getfixturevalue("s3_root")
        upload_tree(sample_root / "raw", root / "raw")
    assert run_bronze(root, SAMPLE_DAY).success
    return root


def lake_files(root: Path) -> list[Path]:
    lake = root / "lake"
    files = sorted(p for p in lake.rglob("*") if p.is_file())
    return [p for p in files if "_days" not in p.relative_to(lake).parts]  # not the bookkeeping


def copy_file(source: Path, target: Path) -> None:
    target.write_bytes(source.read_bytes())


def assert_fails_cleanly(root: Path, asset: str, bad_file: Path, problem: str):
    before = {p: p.read_bytes() for p in lake_files(root)}
    result = run_bronze(root, SAMPLE_DAY)
    assert not result.success
    messages = failure_messages(result)
    assert any(problem in m and str(bad_file) in m and str(SAMPLE_DAY) in m for m in messages), (
        messages
    )
    final = DataLayout(root).lake_path("bronze", asset.split("/")[1], SAMPLE_DAY.isoformat())
    assert final in before, "the fixture made a good output first"
    # the failed asset's earlier output, and every other file, byte for byte (the assets that
    # ran again rewrote the same bytes)
    assert {p: p.read_bytes() for p in lake_files(root)} == before
    leftovers = [p for p in lake_files(root) if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not leftovers, leftovers
    scratch = os.environ.get(SCRATCH_DIR_ENV)  # an object store's local scratch: emptied
    if scratch:
        assert not [p for p in Path(scratch).rglob("*") if p.is_file() and p.suffix != ".lock"]
    return result


def trades_path(root: Path) -> Path:
    return DataLayout(root).dbn_path("trades", SAMPLE_DAY)


def mbp_path(root: Path) -> Path:
    return DataLayout(root).dbn_path("mbp-10", SAMPLE_DAY)


def options_path(root: Path) -> Path:
    return DataLayout(root).options_path(SAMPLE_DAY)


def test_missing_trades_file(day_copy):
    trades_path(day_copy).unlink()
    assert_fails_cleanly(day_copy, "bronze/es_trades", trades_path(day_copy), "missing raw file")


def test_missing_options_file(day_copy):
    options_path(day_copy).unlink()
    assert_fails_cleanly(
        day_copy, "bronze/spy_option_trades", options_path(day_copy), "missing raw file"
    )


def test_truncated_mbp10_keeps_the_earlier_good_output(day_copy):
    data = mbp_path(day_copy).read_bytes()
    mbp_path(day_copy).write_bytes(data[: int(len(data) * 0.6)])
    assert_fails_cleanly(day_copy, "bronze/es_mbp10", mbp_path(day_copy), "truncated")


def test_corrupt_mbp10(day_copy):
    data = bytearray(mbp_path(day_copy).read_bytes())
    at = int(len(data) * 0.5)
    data[at : at + 64] = bytes(64)
    mbp_path(day_copy).write_bytes(bytes(data))
    assert_fails_cleanly(day_copy, "bronze/es_mbp10", mbp_path(day_copy), "corrupt")


def test_wrong_schema(day_copy):
    copy_file(mbp_path(day_copy), trades_path(day_copy))
    assert_fails_cleanly(
        day_copy, "bronze/es_trades", trades_path(day_copy), "wrong schema 'mbp-10'"
    )


def test_wrong_dataset(day_copy):
    rows = make.trades([(1, 1_763_650_000_000_000_000, 6800.0, 1, "B")])
    make.write_day_file(
        trades_path(day_copy), "trades", SAMPLE_DAY, rows, {"ESZ5": 1}, dataset="XNAS.ITCH"
    )
    assert_fails_cleanly(
        day_copy, "bronze/es_trades", trades_path(day_copy), "wrong dataset 'XNAS.ITCH'"
    )


def test_mixed_schema_file(day_copy, external_dir):
    copy_file(external_dir / "databento-python/test_data.live.dbn.zst", trades_path(day_copy))
    assert_fails_cleanly(day_copy, "bronze/es_trades", trades_path(day_copy), "mixed-schema")


def test_legacy_dbz(day_copy, external_dir):
    copy_file(external_dir / "dbn/test_data.trades.dbz", trades_path(day_copy))
    assert_fails_cleanly(day_copy, "bronze/es_trades", trades_path(day_copy), "legacy DBZ")


def test_file_of_another_day(day_copy):
    other = DataLayout(day_copy).dbn_path("trades", dt.date(2025, 11, 21))
    rows = make.trades([(1, 1_763_740_000_000_000_000, 6800.0, 1, "B")])
    make.write_day_file(trades_path(day_copy), "trades", dt.date(2025, 11, 21), rows, {"ESZ5": 1})
    assert not other.exists()
    assert_fails_cleanly(
        day_copy, "bronze/es_trades", trades_path(day_copy), "not this trading day"
    )


def test_no_dominant_contract_is_an_error(day_copy):
    from spymaster_assets.market.trading_calendar import session_windows

    t = session_windows(SAMPLE_DAY).rth_open_ns + 10**12
    rows = make.trades(
        [(1, t, 6800.0, 40, "B"), (2, t + 1, 6850.0, 35, "A"), (3, t + 2, 6900.0, 25, "B")]
    )
    make.write_day_file(
        trades_path(day_copy), "trades", SAMPLE_DAY, rows, {"ESZ5": 1, "ESH6": 2, "ESM6": 3}
    )
    assert_fails_cleanly(day_copy, "bronze/es_trades", trades_path(day_copy), "not what it claims")


def rewrite_csv(path: Path, transform) -> None:
    frame = pl.read_csv(gzip.decompress(path.read_bytes()), infer_schema=False)
    text = transform(frame)
    path.write_bytes(gzip.compress(text.encode()))


def test_csv_with_missing_columns(day_copy):
    rewrite_csv(options_path(day_copy), lambda f: f.drop("sip_timestamp").write_csv())
    assert_fails_cleanly(
        day_copy,
        "bronze/spy_option_trades",
        options_path(day_copy),
        "missing columns ['sip_timestamp']",
    )


def test_csv_with_too_many_bad_rows(day_copy):
    def damage(frame: pl.DataFrame) -> str:
        bad = pl.int_range(pl.len()) % 50 == 0  # 2% of rows
        return frame.with_columns(
            price=pl.when(bad).then(pl.lit("n/a")).otherwise("price")
        ).write_csv()

    rewrite_csv(options_path(day_copy), damage)
    assert_fails_cleanly(
        day_copy, "bronze/spy_option_trades", options_path(day_copy), "rows unparsable"
    )


def test_a_few_bad_csv_rows_are_tolerated_counted_and_warned(day_copy):
    def damage(frame: pl.DataFrame) -> str:
        bad = pl.int_range(pl.len()) == 7
        return frame.with_columns(size=pl.when(bad).then(pl.lit("x")).otherwise("size")).write_csv()

    rewrite_csv(options_path(day_copy), damage)
    result = run_bronze(day_copy, SAMPLE_DAY)
    assert result.success
    check = check_results(result)["bronze/spy_option_trades:bad_rows"]
    assert not check.passed and check.severity.value == "WARN"
    assert materializations(result)["bronze/spy_option_trades"].metadata["bad_rows"].value == 1


def test_unreadable_gzip(day_copy):
    options_path(day_copy).write_bytes(b"not gzip at all")
    assert_fails_cleanly(
        day_copy, "bronze/spy_option_trades", options_path(day_copy), "unreadable gzip"
    )


def test_a_blocking_schema_failure_stops_downstream_and_fails_the_run(day_copy):
    from spymaster_assets.market.trading_calendar import session_windows

    t = session_windows(SAMPLE_DAY).rth_open_ns + 10**12
    rows = make.trades([(102512, t, 6800.1, 5, "B"), (102512, t + 1, 6800.0, 5, "A")])  # off-grid
    make.write_day_file(trades_path(day_copy), "trades", SAMPLE_DAY, rows, {"ESZ5": 102512})
    result = run_bronze(day_copy, SAMPLE_DAY)
    assert not result.success
    schema = check_results(result)["bronze/es_trades:schema"]
    assert not schema.passed and "on_es_tick_grid" in schema.description
    assert "bronze/es_mbp10" not in materializations(result), "downstream must not run"
    assert any("blocking check schema failed" in m for m in failure_messages(result))
