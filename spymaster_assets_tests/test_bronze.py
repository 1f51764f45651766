"""Bronze assets on generated days, through Dagster: what is kept, what is dropped, metadata, checks."""

from __future__ import annotations

import datetime as dt
import shutil

import databento as db
import numpy as np
import polars as pl
import pytest

from spymaster_assets.market.dbn_format import F_LAST, PRICE_SCALE
from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.generator import generate_day

from .bronze_runner import check_results, materializations, run_bronze
from .conftest import SAMPLE_DAY

MARGIN_BEFORE = 1800 * 10**9
MARGIN_AFTER = 60 * 10**9


@pytest.fixture(scope="module")
def bronze_day(sample_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("bronze")
    shutil.copytree(sample_root / "raw", root / "raw")
    result = run_bronze(root, SAMPLE_DAY)
    assert result.success
    return root, result


def lake(root, name, day=SAMPLE_DAY) -> pl.DataFrame:
    return pl.read_parquet(DataLayout(root).lake_path("bronze", name, day.isoformat()))


def test_all_bronze_assets_materialize_with_passing_checks(bronze_day):
    _, result = bronze_day
    checks = check_results(result)
    assert set(checks) == {
        "bronze/es_trades:schema",
        "bronze/es_trades:front_month_share",
        "bronze/es_trades:timestamp_order",
        "bronze/es_trades:duplicates",
        "bronze/es_trades:sequence_gaps",
        "bronze/es_mbp10:schema",
        "bronze/es_mbp10:crossed_books",
        "bronze/es_mbp10:timestamp_order",
        "bronze/es_mbp10:duplicates",
        "bronze/es_mbp10:sequence_gaps",
        "bronze/spy_option_trades:schema",
        "bronze/spy_option_trades:bad_rows",
    }
    assert all(c.passed for c in checks.values()), {k: c.description for k, c in checks.items()}


def test_materialization_metadata_tells_the_story(bronze_day):
    _, result = bronze_day
    mats = materializations(result)
    trades = mats["bronze/es_trades"].metadata
    assert trades["es_contract"].value == "ESZ5"
    assert 0.9 < trades["front_month_share"].value < 1.0
    assert trades["records_read"].value > trades["records_kept"].value > 0
    assert trades["source_file"].value.endswith("glbx-mdp3-20251120.trades.dbn.zst")
    assert trades["first_ts_event"].value.startswith("2025-11-20T08:30")  # 04:00 ET - 30 min
    assert trades["check/schema"].value.startswith("PASSED")
    mbp = mats["bronze/es_mbp10"].metadata
    assert mbp["dropped_without_f_last"].value > 0
    assert mbp["crossed_books"].value == 0
    assert mats["bronze/spy_option_trades"].metadata["other_underlyings_dropped"].value > 0


def test_es_trades_keep_only_the_front_month_in_the_window_sorted(bronze_day, sample_root):
    root, _ = bronze_day
    frame = lake(root, "es_trades")
    windows = session_windows(SAMPLE_DAY)
    raw = db.DBNStore.from_file(DataLayout(sample_root).dbn_path("trades", SAMPLE_DAY)).to_ndarray()
    front = raw[raw["instrument_id"] == 102512]
    lo, hi = windows.premarket_start_ns - MARGIN_BEFORE, windows.rth_close_ns + MARGIN_AFTER
    expected = front[(front["ts_event"] >= lo) & (front["ts_event"] < hi)]
    assert frame.height == len(expected)
    assert frame["instrument_id"].unique().to_list() == [102512]
    assert frame["price"].min() > 1000  # no spread prices
    keys = frame.select("ts_event", "sequence").rows()
    assert keys == sorted(keys)
    assert np.allclose(np.sort(frame["price"].to_numpy()), np.sort(expected["price"] / PRICE_SCALE))


def test_es_mbp10_keeps_exactly_the_complete_books_of_the_front_month(bronze_day, sample_root):
    root, _ = bronze_day
    frame = lake(root, "es_mbp10")
    windows = session_windows(SAMPLE_DAY)
    raw = db.DBNStore.from_file(DataLayout(sample_root).dbn_path("mbp-10", SAMPLE_DAY)).to_ndarray()
    lo, hi = windows.premarket_start_ns - MARGIN_BEFORE, windows.rth_close_ns + MARGIN_AFTER
    keep = (
        (raw["instrument_id"] == 102512)
        & ((raw["flags"] & F_LAST) != 0)
        & (raw["ts_event"] >= lo)
        & (raw["ts_event"] < hi)
    )
    assert frame.height == int(keep.sum())
    assert ((frame["flags"].cast(pl.Int32) & F_LAST) != 0).all()
    assert frame["ts_event"].min() >= lo and frame["ts_event"].max() < hi
    assert (frame["bid_px_00"] < frame["ask_px_00"]).all()
    assert np.array_equal(frame["sequence"].to_numpy(), raw["sequence"][keep].astype(np.int64))


def test_options_keep_spy_0dte_trades_only(bronze_day, sample_root):
    root, _ = bronze_day
    frame = lake(root, "spy_option_trades")
    raw = pl.read_csv(DataLayout(sample_root).options_path(SAMPLE_DAY))
    expected = raw.filter(
        pl.col("ticker").str.contains(rf"^O:SPY{SAMPLE_DAY:%y%m%d}[CP]\d{{8}}$")
        & (pl.col("correction") == 0)
        & (pl.col("size") > 0)
    )
    assert frame.height == expected.height > 0
    assert (frame["expiration"] == SAMPLE_DAY).all()
    assert frame["ts_ns"].is_sorted()
    assert set(frame["right"].unique()) == {"C", "P"}
    strikes = frame["strike"].to_numpy()
    assert np.allclose(strikes, np.round(strikes))


@pytest.mark.parametrize(
    "day, label",
    [
        (dt.date(2025, 3, 10), "first day of EDT"),
        (dt.date(2025, 11, 3), "first day back on EST"),
        (dt.date(2025, 11, 28), "13:00 early close"),
    ],
)
def test_session_windows_follow_dst_and_early_closes(tmp_path, day, label):
    generate_day(day, tmp_path, profile="demo", seed=11)
    result = run_bronze(tmp_path, day)
    assert result.success, label
    windows = session_windows(day)
    trades = lake(tmp_path, "es_trades", day)
    books = lake(tmp_path, "es_mbp10", day)
    lo, hi = windows.premarket_start_ns - MARGIN_BEFORE, windows.rth_close_ns + MARGIN_AFTER
    for frame in (trades, books):
        assert frame["ts_event"].min() >= lo
        assert frame["ts_event"].max() < hi
        # the window is used to its end: data right up to the (early) close is kept
        assert frame["ts_event"].max() > windows.rth_close_ns - 5 * 60 * 10**9
        assert frame["ts_event"].min() < windows.premarket_start_ns


def test_uncompressed_dbn_files_are_read_the_same(bronze_day, sample_root, tmp_path):
    import zstandard

    layout = DataLayout(tmp_path)
    src = DataLayout(sample_root)
    for schema in ("trades", "mbp-10"):
        plain = layout.dbn_path(schema, SAMPLE_DAY, compressed=False)
        plain.parent.mkdir(parents=True)
        with open(src.dbn_path(schema, SAMPLE_DAY), "rb") as fh, open(plain, "wb") as out:
            zstandard.ZstdDecompressor().copy_stream(fh, out)
    options = layout.options_path(SAMPLE_DAY)
    options.parent.mkdir(parents=True)
    shutil.copyfile(src.options_path(SAMPLE_DAY), options)
    assert run_bronze(tmp_path, SAMPLE_DAY).success
    root, _ = bronze_day
    for name in ("es_trades", "es_mbp10"):
        assert lake(tmp_path, name).equals(lake(root, name)), name


def test_roll_day_bronze_follows_the_volume_to_the_next_expiry(tmp_path):
    roll_day = dt.date(2025, 12, 11)
    generate_day(roll_day, tmp_path, profile="demo", seed=5)
    result = run_bronze(tmp_path, roll_day)
    assert result.success
    meta = materializations(result)["bronze/es_trades"].metadata
    assert meta["es_contract"].value == "ESH6"
    assert 0.5 < meta["front_month_share"].value < 0.9
    share_check = check_results(result)["bronze/es_trades:front_month_share"]
    assert not share_check.passed and share_check.severity.value == "WARN"
    assert lake(tmp_path, "es_trades", roll_day)["es_contract"].unique().to_list() == ["ESH6"]
    assert lake(tmp_path, "es_mbp10", roll_day)["bid_px_00"].min() > 1000
