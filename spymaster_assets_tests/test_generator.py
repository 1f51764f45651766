"""The sample generator writes real vendor formats with market-consistent content."""

from __future__ import annotations

import datetime as dt
import gzip

import databento as db
import numpy as np
import polars as pl
import pytest

from spymaster_assets.market.dbn_format import F_LAST, PRICE_SCALE, UNDEF_PRICE
from spymaster_assets.market.polygon_options import POLYGON_COLUMNS
from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.contracts import dominant_contract
from spymaster_assets.sample.generator import generate_day

from .conftest import SAMPLE_DAY


@pytest.fixture(scope="module")
def stores(sample_root):
    layout = DataLayout(sample_root)
    return (
        db.DBNStore.from_file(layout.dbn_path("trades", SAMPLE_DAY)),
        db.DBNStore.from_file(layout.dbn_path("mbp-10", SAMPLE_DAY)),
    )


def test_files_decode_with_the_official_client_as_parent_symbology_files(stores):
    for store, schema in zip(stores, ("trades", "mbp-10"), strict=True):
        meta = store.metadata
        assert meta.dataset == "GLBX.MDP3"
        assert str(meta.schema) == schema
        assert str(meta.stype_in) == "parent"
        assert meta.symbols == ["ES.FUT"]
        assert meta.version == 3
        symbols = set(store.mappings)
        assert {"ESZ5", "ESH6", "ESZ5-ESH6"} <= symbols
        df = store.to_df()
        assert set(df["symbol"]) == {"ESZ5", "ESH6", "ESZ5-ESH6"}


def test_files_are_zstd_with_a_content_checksum(sample_root):
    raw = DataLayout(sample_root).dbn_path("mbp-10", SAMPLE_DAY).read_bytes()
    assert raw[:4] == b"\x28\xb5\x2f\xfd"
    frame_header_descriptor = raw[4]
    assert frame_header_descriptor & 0b100, "content checksum flag must be set"


def test_front_month_dominates_and_the_back_month_and_spread_trade_less(stores):
    df = stores[0].to_df()
    volume = df.groupby("symbol")["size"].sum()
    assert volume["ESZ5"] > 10 * volume["ESH6"] > 0
    assert volume["ESZ5-ESH6"] > 0


def test_prices_sit_on_each_instruments_grid(stores):
    df = stores[0].to_df()
    outright = df[df["symbol"] != "ESZ5-ESH6"]["price"].to_numpy()
    spread = df[df["symbol"] == "ESZ5-ESH6"]["price"].to_numpy()
    assert np.allclose(outright * 4, np.round(outright * 4))
    assert np.allclose(spread * 20, np.round(spread * 20))
    assert spread.max() < 0 < outright.min(), "the spread has its own price scale"


def test_complete_books_are_never_crossed_and_levels_are_ordered(stores):
    recs = stores[1].to_ndarray()
    last = recs[(recs["flags"] & F_LAST) != 0]
    bid, ask = last["bid_px_00"], last["ask_px_00"]
    defined = (bid != UNDEF_PRICE) & (ask != UNDEF_PRICE)
    assert defined.mean() > 0.99
    assert np.all(bid[defined] < ask[defined])
    for k in range(9):
        b0, b1 = last[f"bid_px_{k:02d}"], last[f"bid_px_{k + 1:02d}"]
        ok = (b1 == UNDEF_PRICE) | (b0 > b1)
        assert ok.all()


def test_trades_print_at_the_touch_and_deplete_it(stores):
    recs = stores[1].to_ndarray()
    is_trade = (recs["action"] == b"T") & (recs["side"] != b"N")  # N: aggressor unknown
    t = recs[is_trade]
    buys, sells = t[t["side"] == b"B"], t[t["side"] == b"A"]
    assert len(buys) > 100 and len(sells) > 100
    assert np.all(buys["price"] == buys["ask_px_00"])
    assert np.all(sells["price"] == sells["bid_px_00"])
    assert np.all(t["size"] <= np.where(t["side"] == b"B", t["ask_sz_00"], t["bid_sz_00"]))
    # The record after each T is the same event's book update, which removes the traded size.
    idx = np.flatnonzero(is_trade)
    nxt = recs[idx + 1]
    assert np.all(nxt["sequence"] == t["sequence"]) and np.all((nxt["flags"] & F_LAST) != 0)
    was = np.where(t["side"] == b"B", t["ask_sz_00"], t["bid_sz_00"]).astype(np.int64)
    same_level = np.where(
        t["side"] == b"B", nxt["ask_px_00"] == t["price"], nxt["bid_px_00"] == t["price"]
    )
    now = np.where(t["side"] == b"B", nxt["ask_sz_00"], nxt["bid_sz_00"]).astype(np.int64)
    partial = same_level & (was > t["size"].astype(np.int64))
    assert np.all(now[partial] == was[partial] - t["size"][partial].astype(np.int64))


def test_trades_file_matches_the_books_trade_records(stores):
    trades = stores[0].to_ndarray()
    recs = stores[1].to_ndarray()
    t = recs[recs["action"] == b"T"]
    assert len(trades) == len(t)
    for field in ("ts_event", "ts_recv", "sequence", "price", "size", "side", "instrument_id"):
        assert np.array_equal(trades[field], t[field]), field


def test_multi_record_events_set_f_last_only_on_their_last_record(stores):
    recs = stores[1].to_ndarray()
    seq = recs["sequence"].astype(np.int64)
    last_of_event = np.append(seq[1:] != seq[:-1], True)
    has_last = (recs["flags"] & F_LAST) != 0
    assert np.array_equal(has_last, last_of_event)
    assert (~last_of_event).sum() > 1000, "there must be multi-record events"
    assert np.all(np.diff(recs["ts_recv"].astype(np.int64)) >= 0), "files are in ts_recv order"


def test_session_activity_thin_overnight_busier_premarket_heavy_u_shaped_rth(stores):
    windows = session_windows(SAMPLE_DAY)
    trades = stores[0].to_ndarray()
    ts = trades["ts_event"].astype(np.int64)
    minute = 60 * 10**9

    def per_minute(lo, hi):
        return ((ts >= lo) & (ts < hi)).sum() / ((hi - lo) / minute)

    overnight = per_minute(windows.utc_day_start_ns, windows.premarket_start_ns)
    premarket = per_minute(windows.premarket_start_ns, windows.rth_open_ns)
    open_30 = per_minute(windows.rth_open_ns, windows.rth_open_ns + 30 * minute)
    midday = per_minute(windows.rth_open_ns + 150 * minute, windows.rth_open_ns + 210 * minute)
    close_30 = per_minute(windows.rth_close_ns - 30 * minute, windows.rth_close_ns)
    assert overnight < premarket < midday
    assert open_30 > 1.5 * midday and close_30 > 1.3 * midday


def test_daily_range_is_about_one_percent(stores):
    windows = session_windows(SAMPLE_DAY)
    df = stores[0].to_ndarray()
    front = df[df["instrument_id"] == dominant_contract(SAMPLE_DAY)[0].instrument_id]
    rth = front[
        (front["ts_event"] >= windows.rth_open_ns) & (front["ts_event"] < windows.rth_close_ns)
    ]
    px = rth["price"] / PRICE_SCALE
    assert 0.004 < (px.max() - px.min()) / px.mean() < 0.025


def test_generation_is_deterministic_for_seed_and_date(tmp_path, sample_root):
    again = generate_day(SAMPLE_DAY, tmp_path / "a", profile="demo", seed=7)
    other = generate_day(SAMPLE_DAY, tmp_path / "b", profile="demo", seed=8)
    layout = DataLayout(sample_root)
    for name, original in (
        ("trades", layout.dbn_path("trades", SAMPLE_DAY)),
        ("mbp-10", layout.dbn_path("mbp-10", SAMPLE_DAY)),
        ("options", layout.options_path(SAMPLE_DAY)),
    ):
        assert again.paths[name].read_bytes() == original.read_bytes(), name
        assert other.paths[name].read_bytes() != original.read_bytes(), name


def test_options_flat_file_has_the_vendor_columns_and_the_noise_filters_must_drop(sample_root):
    path = DataLayout(sample_root).options_path(SAMPLE_DAY)
    with gzip.open(path, "rt") as fh:
        header = fh.readline().strip()
    assert header.split(",") == POLYGON_COLUMNS
    df = pl.read_csv(path)
    tickers = df["ticker"]
    zero_dte = tickers.str.starts_with(f"O:SPY{SAMPLE_DAY:%y%m%d}")
    assert zero_dte.mean() > 0.6
    assert tickers.str.contains(r"^O:SPY[GVD]").sum() > 0, "look-alike roots sharing the prefix"
    assert (tickers.str.contains(r"^O:SPY\d{6}") & ~zero_dte).sum() > 0, "other expiries"
    assert (df["correction"] != 0).sum() > 0
    assert (df["price"] > 0).all()
    assert df["sip_timestamp"].is_sorted()


def test_options_are_priced_with_a_smile_around_spot(sample_root):
    df = pl.read_csv(DataLayout(sample_root).options_path(SAMPLE_DAY))
    df = df.filter(pl.col("ticker").str.starts_with(f"O:SPY{SAMPLE_DAY:%y%m%d}"))
    strikes = df["ticker"].str.slice(-8).cast(pl.Int64) / 1000
    calls = df["ticker"].str.slice(-9, 1) == "C"
    # Calls get cheaper as the strike rises, puts dearer: the median price by strike is monotone.
    by_strike = (
        df.with_columns(strike=strikes, call=calls)
        .group_by("call", "strike")
        .agg(pl.col("price").median())
        .sort("strike")
    )
    call_px = by_strike.filter("call")["price"].to_numpy()
    put_px = by_strike.filter(~pl.col("call"))["price"].to_numpy()
    assert np.mean(np.diff(call_px) <= 0) > 0.8
    assert np.mean(np.diff(put_px) >= 0) > 0.8


def test_roll_day_hands_the_volume_to_the_next_expiry(tmp_path):
    roll_day = dt.date(2025, 12, 11)  # eight days before the December expiry
    generated = generate_day(roll_day, tmp_path, profile="demo", seed=3)
    df = db.DBNStore.from_file(generated.paths["trades"]).to_df()
    volume = df.groupby("symbol")["size"].sum()
    assert volume["ESH6"] > volume["ESZ5"] > 0.2 * volume["ESH6"]
