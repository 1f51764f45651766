"""Each rule of the signal chain pinned on a hand-made day, through the real assets."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from spymaster_assets.paths import DataLayout
from spymaster_assets.schemas.gold import SIGNALS
from spymaster_assets.vocabulary import LEVEL_CODE

from .hand_day import HandDay

DAY = dt.date(2025, 11, 20)  # Thursday, 09:30 ET = 14:30 UTC
EARLY_CLOSE = dt.date(2025, 11, 28)
LEVELS_ONLY = [
    "bronze/es_trades",
    "bronze/spy_option_trades",
    "silver/ohlcv_1m",
    "silver/option_flow",
    "silver/levels",
]


def only(frame: pl.DataFrame, **where) -> dict:
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


@pytest.fixture
def day(tmp_path) -> HandDay:
    return HandDay(tmp_path, DAY)


def test_touch_from_below_is_up_and_breaks_on_the_first_trade_through(day):
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)  # touches 100.00 from below, closes 0.05 under
    day.trade("09:33:00", 102.00)  # first trade $2 through the level, 60 s after info time
    day.write().run()
    s = only(day.signals(), level_price=100.0)
    assert s["level_kind_name"] == "ROUND" and s["level_kinds"] == ["ROUND"]
    assert s["direction"] == "UP"
    assert s["distance"] == pytest.approx(0.05) and s["spot"] == pytest.approx(99.95)
    assert s["ts_ns"] == day.at("09:31") and s["info_ts_ns"] == day.at("09:32")
    assert s["outcome"] == "BREAK"
    assert s["time_to_outcome_s"] == pytest.approx(60.0)
    assert s["excursion_max"] == pytest.approx(2.0) and s["future_price_5min"] == pytest.approx(
        102.0
    )
    assert s["label_truncated"] is False
    assert s["bars_since_open"] == 1 and s["is_first_15m"] is True


@pytest.mark.parametrize("previous_close, direction", [(99.90, "UP"), (100.10, "DOWN")])
def test_an_open_exactly_at_the_level_takes_the_side_of_the_previous_close(
    day, previous_close, direction
):
    day.bar("09:30", previous_close, previous_close, previous_close, previous_close)
    day.bar("09:31", 100.00, 100.05, 99.95, 100.00)
    day.write().run()
    s = only(day.signals(), level_price=100.0, ts_ns=day.at("09:31"))
    assert s["direction"] == direction


@pytest.mark.parametrize(
    "first, second, outcome", [(102.00, 98.00, "BREAK"), (98.00, 102.00, "BOUNCE")]
)
def test_first_passage_on_trades_decides_inside_one_minute(day, first, second, outcome):
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)
    # Both sides are crossed within the same one-minute bar; only the trades know which came first.
    day.trade("09:33:10", first).trade("09:33:20", second)
    day.write().run()
    s = only(day.signals(), level_price=100.0)
    assert s["outcome"] == outcome
    assert s["time_to_outcome_s"] == pytest.approx(70.0)
    assert s["excursion_max"] == pytest.approx(2.0) and s["excursion_min"] == pytest.approx(-2.0)


def test_chop_when_neither_side_reaches_the_threshold(day):
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)
    day.trade("09:33:00", 101.975).trade("09:34:00", 98.025).trade("09:37:00", 100.50)
    day.trade("09:37:30", 110.00)  # after the 5-minute window: ignored
    day.write().run()
    s = only(day.signals(), level_price=100.0)
    assert s["outcome"] == "CHOP"
    assert s["time_to_outcome_s"] is None
    assert s["future_price_5min"] == pytest.approx(100.50)
    assert s["excursion_max"] == pytest.approx(1.975) and s["excursion_min"] == pytest.approx(
        -1.975
    )


def test_the_label_grid_follows_the_run_configuration(day):
    """A grid set in the run's config gives its own columns in silver and gold, each pair
    decided by its own threshold and window, and the stored file validates against its grid."""
    from spymaster_assets.settings import SpymasterConfig
    from spymaster_assets.signals.validation import validate_signals

    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)
    # info time 09:32: $0.30 through at 09:33:00, $0.60 away at 09:36:30
    day.trade("09:33:00", 100.30).trade("09:36:30", 99.40)
    settings = SpymasterConfig(label_thresholds=[0.25, 0.50], label_horizons_min=[3, 10])
    day.write().run(settings=settings)
    s = only(day.signals(), level_price=100.0)
    grid = {k: v for k, v in s.items() if k.startswith(("outcome_t", "truncated_t"))}
    assert grid == {
        "outcome_t025_h03": "BREAK",
        "outcome_t025_h10": "BREAK",
        "outcome_t050_h03": "CHOP",
        "outcome_t050_h10": "BOUNCE",
        "truncated_t025_h03": False,
        "truncated_t025_h10": False,
        "truncated_t050_h03": False,
        "truncated_t050_h10": False,
    }
    assert day.table("silver", "outcome_labels").columns[-8:] == list(grid)
    report = validate_signals(
        day.signals(), monitor_band=0.25, outcome_threshold=2.0, lookforward_minutes=5
    )
    assert report.ok, report.errors
    broken = day.signals().with_columns(outcome_t050_h03=pl.lit("BOUNCE"))
    report = validate_signals(
        broken, monitor_band=0.25, outcome_threshold=2.0, lookforward_minutes=5
    )
    assert any("outcome_t050_h10 keeps a passage of outcome_t050_h03" in e for e in report.errors)


def test_no_trades_after_the_information_time_gives_nulls_not_zeros(day):
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)
    day.write().run()
    s = only(day.signals(), level_price=100.0)
    assert s["outcome"] == "CHOP"
    for column in ("time_to_outcome_s", "future_price_5min", "excursion_max", "excursion_min"):
        assert s[column] is None, column


@pytest.mark.parametrize(
    "trading_day, touch, after_close",
    [(DAY, "15:57", "16:00:30"), (EARLY_CLOSE, "12:57", "13:00:30")],
)
def test_the_label_window_is_cut_at_the_close(tmp_path, trading_day, touch, after_close):
    day = HandDay(tmp_path, trading_day)
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    hour, minute = map(int, touch.split(":"))
    before = f"{hour:02d}:{minute - 1:02d}"
    day.bar(before, 99.50, 99.50, 99.50, 99.50)
    day.bar(touch, 99.80, 100.05, 99.80, 99.95)
    day.trade(after_close, 102.50)  # after the close (still in the bronze margin): must not count
    day.write().run()
    s = only(day.signals(), level_price=100.0, ts_ns=day.at(touch))
    assert s["label_truncated"] is True
    assert s["outcome"] == "CHOP" and s["excursion_max"] is None


def test_session_high_can_be_broken_upward(day):
    day.bar("09:30", 100.00, 100.20, 100.00, 100.10)  # session high 100.20 from 09:31 on
    day.bar("09:31", 100.05, 100.225, 100.05, 100.15)  # touches 100.20 from below
    day.trade("09:32:30", 101.00).trade("09:33:00", 102.25)
    day.write().run()
    s = only(day.signals(), level_price=100.20, ts_ns=day.at("09:31"))
    assert s["level_kind_name"] == "SESSION_HIGH"
    assert s["direction"] == "UP"
    assert s["outcome"] == "BREAK"


def test_pm_and_or_levels_exist_only_once_complete(day):
    day.bar("08:00", 100.00, 100.40, 99.90, 100.10)
    day.bar("09:29", 100.10, 100.30, 99.70, 100.20)
    for minute in range(30, 45):
        day.bar(f"09:{minute}", 100.20, 100.60 if minute == 40 else 100.30, 100.00, 100.20)
    day.bar("09:45", 100.20, 100.55, 100.20, 100.50)  # touches OR_HIGH 100.60 once it exists
    day.bar("09:41", 100.20, 100.55, 100.20, 100.50)  # same price before the OR is complete
    day.write().run()
    levels = day.table("silver", "levels")
    pm_high = levels.filter(pl.col("level_kind_name") == "PM_HIGH")
    assert pm_high["ts_ns"].min() == day.at("09:30") and set(pm_high["level_price"]) == {100.40}
    assert set(levels.filter(pl.col("level_kind_name") == "PM_LOW")["level_price"]) == {99.70}
    or_high = levels.filter(pl.col("level_kind_name") == "OR_HIGH")
    assert or_high["ts_ns"].min() == day.at("09:45") and set(or_high["level_price"]) == {100.60}
    signals = day.signals().filter(pl.col("level_price") == 100.60).sort("ts_ns")
    # 09:41 touches the same price as the session high only; from 09:45 the OR high joins it.
    assert signals["ts_ns"].to_list() == [day.at("09:41"), day.at("09:45")]
    assert signals["level_kinds"].to_list() == [["SESSION_HIGH"], ["OR_HIGH", "SESSION_HIGH"]]
    assert signals["level_kind_name"].to_list() == ["SESSION_HIGH", "OR_HIGH"]


def test_vwap_is_the_volume_weighted_price_of_rth_trades_before_the_bar(day):
    rng = np.random.default_rng(5)
    day.trade("09:00:00", 150.0, 500)  # pre-market: not in the VWAP
    trades = []
    for minute in range(30, 60):
        for second in (5, 25, 45):
            price = round(100 + rng.normal(0, 0.5), 3)
            price = round(price / 0.025) * 0.025
            size = int(rng.integers(1, 50))
            trades.append((day.at(f"09:{minute}:{second}"), price, size))
            day.trade(f"09:{minute}:{second}", price, size)
    day.write().run(LEVELS_ONLY)
    vwap = day.table("silver", "levels").filter(pl.col("level_kind_name") == "VWAP")
    for minute in (31, 40, 59):
        t = day.at(f"09:{minute}")
        before = [(p, q) for ts, p, q in trades if ts < t]
        expected = sum(p * q for p, q in before) / sum(q for _, q in before)
        got = vwap.filter(pl.col("ts_ns") == t)["level_price"].item()
        assert got == pytest.approx(round(expected, 2), abs=0.0051)
    assert vwap["ts_ns"].min() == day.at("09:31"), "no VWAP before the first RTH trade"


def test_sma_200_reaches_back_into_the_previous_trading_day(tmp_path):
    friday, monday = dt.date(2025, 11, 21), dt.date(2025, 11, 24)
    closes = {}
    for trading_day, base in ((friday, 100.0), (monday, 101.0)):
        day = HandDay(tmp_path, trading_day)
        for i in range(390):
            minute = dt.datetime(2000, 1, 1, 9, 30) + dt.timedelta(minutes=i)
            price = base + (i % 40) * 0.025
            day.bar(minute.strftime("%H:%M"), price, price, price, price)
            if i % 2 == 1:
                closes[day.at(minute.strftime("%H:%M")) + 60 * 10**9] = price
        day.write()
    HandDay(tmp_path, friday).run(["bronze/es_trades", "silver/ohlcv_1m"])
    mon = HandDay(tmp_path, monday)
    mon.run(LEVELS_ONLY)
    sma = mon.table("silver", "levels").filter(pl.col("level_kind_name") == "SMA_200")
    ends = sorted(closes)
    # Friday gave 195 two-minute closes; the 200th completes at 09:40 on Monday.
    assert sma["ts_ns"].min() == mon.at("09:40")
    for clock in ("09:40", "09:47", "12:00", "15:59"):
        t = mon.at(clock)
        done = [closes[e] for e in ends if e <= t]
        expected = round(sum(done[-200:]) / 200, 2)
        assert sma.filter(pl.col("ts_ns") == t)["level_price"].item() == pytest.approx(
            expected, abs=0.0051
        )
    # Friday alone has only 195 two-minute closes: no SMA_200 at all that day.
    fri_levels = HandDay(tmp_path, friday)
    fri_levels.run(["bronze/spy_option_trades", "silver/option_flow", "silver/levels"])
    assert (
        fri_levels.table("silver", "levels")
        .filter(pl.col("level_kind") == LEVEL_CODE["SMA_200"])
        .height
        == 0
    )


def test_sma_history_comes_from_the_raw_files_when_the_earlier_bars_are_not_built_yet(tmp_path):
    """Runs of different days do not wait for each other: Monday computed before Friday's bars
    exist rebuilds them from Friday's raw trades file, and gives the same levels, byte for byte,
    as Monday computed after them (then read from the lake)."""
    friday, monday = dt.date(2025, 11, 21), dt.date(2025, 11, 24)
    fri, mon = HandDay(tmp_path, friday), HandDay(tmp_path, monday)
    # Friday's 195 two-minute closes and Monday's first ones: SMA_200 defined from 09:40 Monday
    for day, minutes in ((fri, 390), (mon, 30)):
        for minute in range(minutes):
            clock = f"{9 + (30 + minute) // 60:02d}:{(30 + minute) % 60:02d}"
            close = 100 + 0.025 * (minute % 40)  # on the ES tick grid
            day.bar(clock, close, close + 0.1, close - 0.1, close)
        day.write()
    levels = ["bronze/es_trades", "bronze/spy_option_trades", "silver/ohlcv_1m",
              "silver/option_flow", "silver/levels"]  # fmt: skip
    first = mon.run(levels)
    assert sources(first, "silver/levels")[str(friday)] == "raw trades"
    before = DataLayout(tmp_path).lake_path("silver", "levels", str(monday)).read_bytes()
    assert not DataLayout(tmp_path).lake_path("silver", "ohlcv_1m", str(friday)).exists()

    fri.run(["bronze/es_trades", "silver/ohlcv_1m"])
    again = mon.run(["silver/levels"])
    assert sources(again, "silver/levels")[str(friday)] == "lake"
    assert DataLayout(tmp_path).lake_path("silver", "levels", str(monday)).read_bytes() == before
    assert "SMA_200" in set(mon.table("silver", "levels")["level_kind_name"]), "history used"


def test_a_run_rebuilds_an_earlier_day_from_the_raw_trades_once(tmp_path, monkeypatch):
    """A run over Monday and Tuesday whose history day Friday is not built (another run is still
    on it) rebuilds Friday's bars from the raw trades once and keeps them for Tuesday; a raw
    file replaced in the meantime is read again."""
    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from spymaster_assets.definitions import defs
    from spymaster_assets.defs.chain.runner import FORCE_TAG
    from spymaster_assets.defs.resources import make_resources
    from spymaster_assets.market import bronze_es

    friday, monday, tuesday = dt.date(2025, 11, 21), dt.date(2025, 11, 24), dt.date(2025, 11, 25)
    for day in (friday, monday, tuesday):
        hand = HandDay(tmp_path, day)
        for minute in range(60):
            close = 100 + 0.25 * (minute % 8)
            hand.bar(f"{10 + minute // 60:02d}:{minute % 60:02d}", close, close, close, close)
        hand.write()
    read: list[dt.date] = []
    real = bronze_es.bronze_trades

    replace_friday_on: list[dt.date] = []

    def counting(path, trading_day, *args, **kwargs):
        read.append(trading_day)
        if trading_day in replace_friday_on:  # the vendor replaces Friday's file meanwhile
            replace_friday_on.remove(trading_day)
            HandDay(tmp_path, friday).bar("10:00", 101, 101, 101, 101).write()
        return real(path, trading_day, *args, **kwargs)

    monkeypatch.setattr(bronze_es, "bronze_trades", counting)

    def run(first: dt.date, last: dt.date) -> dict[str, dict[str, str]]:
        result = dg.materialize(
            list(defs.assets),
            selection=[
                "bronze/es_trades",
                "bronze/spy_option_trades",
                "silver/ohlcv_1m",
                "silver/option_flow",
                "silver/levels",
            ],  # fmt: skip
            resources=make_resources(tmp_path),
            tags={
                FORCE_TAG: "true",
                ASSET_PARTITION_RANGE_START_TAG: str(first),
                ASSET_PARTITION_RANGE_END_TAG: str(last),
            },  # fmt: skip
        )
        assert result.success
        return {
            e.partition: e.event_specific_data.materialization.metadata["sma_history"].value
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey(["silver", "levels"])
        }

    history = run(monday, tuesday)
    assert history[str(monday)][str(friday)] == "raw trades"
    assert history[str(tuesday)][str(friday)] == "raw trades"
    assert history[str(tuesday)][str(monday)] == "this run"
    # Monday's and Tuesday's own trades, and Friday's once (not again for Tuesday)
    assert sorted(read) == [friday, monday, tuesday]

    read.clear()
    replace_friday_on.append(tuesday)  # after Monday's levels, before Tuesday's
    run(monday, tuesday)
    assert read == [monday, friday, tuesday, friday]


def sources(result, asset: str) -> dict[str, str]:
    (mat,) = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == asset
    ]
    return mat.metadata["sma_history"].value


def test_levels_of_a_day_whose_inputs_are_missing_say_what_to_materialize(tmp_path):
    monday, tuesday = dt.date(2025, 11, 24), dt.date(2025, 11, 25)
    HandDay(tmp_path, monday).bar("09:30", 100, 100, 100, 100).write()
    (message,) = HandDay(tmp_path, tuesday).failures(["silver/levels"])
    assert "2025-11-25 silver/levels:" in message
    assert "silver/ohlcv_1m has no data for 2025-11-25" in message
    assert "materialize it first" in message


def test_a_day_without_signals_gives_empty_schema_correct_outputs(day):
    day.bar("09:30", 100.50, 100.50, 100.50, 100.50)  # one bar: nothing defined before it
    day.write().run()
    gold = day.signals()
    assert gold.height == 0
    assert dict(gold.schema) == {name: col.dtype.type for name, col in SIGNALS.columns.items()}
    SIGNALS.validate(gold)
    for name in ("touches", "approach_context", "outcome_labels"):
        assert day.table("silver", name).height == 0


def test_event_ids_are_stable_across_reruns(day):
    day.bar("09:30", 99.50, 99.50, 99.50, 99.50)
    day.bar("09:31", 99.80, 100.05, 99.80, 99.95)
    day.write().run()
    first = day.signals()["event_id"].to_list()
    day.run()
    assert day.signals()["event_id"].to_list() == first
    assert len(set(first)) == len(first)
