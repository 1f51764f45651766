"""Signal-chain kernels against plain-Python references on random inputs, and causality."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import databento as db
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, session_windows
from spymaster_assets.signals.approach import approach_context
from spymaster_assets.signals.bars import minute_bars, session_bars
from spymaster_assets.signals.labels import outcome_labels
from spymaster_assets.signals.levels import LevelParams, compute_levels
from spymaster_assets.signals.table_rules import causality_failures
from spymaster_assets.vocabulary import grid_outcome, grid_truncated, label_grid_of

DAY = dt.date(2025, 11, 20)
W = session_windows(DAY)
PARAMS = LevelParams(
    or_minutes=15,
    strike_range=5.0,
    sma_period=200,
    sma_bar_minutes=2,
    strike_min_volume=100,
    wall_min_gamma=5_000.0,
)
EMPTY_CLOSES = pl.DataFrame(schema={"end_ns": pl.Int64, "close": pl.Float64})


def random_trades(seed: int, n: int, start_ns: int, span_ns: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ts = np.sort(start_ns + rng.integers(0, span_ns, n))
    ticks = 4000 * 10 + np.cumsum(rng.integers(-3, 4, n))  # ES ticks around 1000.00
    return pl.DataFrame({"ts_event": ts, "price": ticks * 0.25, "size": rng.integers(1, 20, n)})


# ---------------------------------------------------------------- labels


def reference_label(trades, info, end, level, sign, thr):
    outcome, decided, rels, last = "CHOP", None, [], None
    for ts, price in trades:
        if info < ts <= end:
            rel = sign * (round(price * 1000) - round(level * 1000))
            rels.append(rel)
            last = price
            if outcome == "CHOP" and decided is None:
                if rel >= thr:
                    outcome, decided = "BREAK", ts
                elif rel <= -thr:
                    outcome, decided = "BOUNCE", ts
    return outcome, decided, last, (max(rels) if rels else None), (min(rels) if rels else None)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31),
    st.integers(1, 400),
    st.integers(1, 12),
    st.sampled_from([0.1, 0.5, 2.0]),
    st.lists(st.integers(1, 300), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(1, 20), min_size=1, max_size=4, unique=True),
)
def test_labels_match_a_plain_python_reference(
    seed, n, n_signals, threshold, grid_cents, grid_minutes
):
    rng = np.random.default_rng(seed)
    span = 60 * NS_PER_MINUTE
    start = W.rth_close_ns - span  # the window sometimes runs into the close
    trades = random_trades(seed, n, start, span + 5 * NS_PER_MINUTE)
    spy = (trades["price"] / 10).to_numpy()
    starts = start + rng.integers(0, span // NS_PER_MINUTE, n_signals) * NS_PER_MINUTE
    touches = pl.DataFrame(
        {
            "ts_ns": starts,
            "info_ts_ns": starts + NS_PER_MINUTE,
            "level_price": np.round(rng.choice(spy, n_signals), 2)
            + rng.choice([0.0, 0.01], n_signals),
            "direction": rng.choice(["UP", "DOWN"], n_signals),
        }
    ).unique(["ts_ns", "level_price"])
    thresholds = [c / 100 for c in grid_cents]
    got = outcome_labels(touches, trades, W, 5, threshold, 10.0, thresholds, grid_minutes)
    pairs = list(zip(trades["ts_event"].to_list(), spy.tolist(), strict=True))
    for row, label in zip(touches.iter_rows(named=True), got.iter_rows(named=True), strict=True):
        info = row["info_ts_ns"]
        end = min(info + 5 * NS_PER_MINUTE, W.rth_close_ns)
        sign = 1 if row["direction"] == "UP" else -1
        outcome, decided, last, hi, lo = reference_label(
            pairs, info, end, row["level_price"], sign, round(threshold * 1000)
        )
        assert label["outcome"] == outcome
        assert label["time_to_outcome_s"] == (
            None if decided is None else pytest.approx((decided - info) / 1e9)
        )
        assert label["future_price_5min"] == (None if last is None else pytest.approx(last))
        assert label["excursion_max"] == (None if hi is None else pytest.approx(hi / 1000))
        assert label["excursion_min"] == (None if lo is None else pytest.approx(lo / 1000))
        assert label["label_truncated"] == (info + 5 * NS_PER_MINUTE > W.rth_close_ns)
        # the label grid: the same rule, one window and one threshold at a time
        for t in thresholds:
            for minutes in grid_minutes:
                horizon = info + minutes * NS_PER_MINUTE
                expected = reference_label(
                    pairs,
                    info,
                    min(horizon, W.rth_close_ns),
                    row["level_price"],
                    sign,
                    round(t * 1000),
                )[0]
                assert label[grid_outcome(t, minutes)] == expected, (t, minutes)
                assert label[grid_truncated(t, minutes)] == (horizon > W.rth_close_ns)


def test_the_label_grid_holds_the_main_target_and_reads_its_own_columns():
    """The ($2.00, 5 min) pair is `outcome`, column for column, and the default grid is the
    SPEC's: $0.50 / $1.00 / $2.00 x 2 / 5 / 15 minutes."""
    trades = random_trades(7, 3000, W.rth_open_ns, 120 * NS_PER_MINUTE)
    spy = (trades["price"] / 10).to_numpy()
    rng = np.random.default_rng(7)
    starts = W.rth_open_ns + rng.integers(0, 100, 40) * NS_PER_MINUTE
    touches = pl.DataFrame(
        {
            "ts_ns": starts,
            "info_ts_ns": starts + NS_PER_MINUTE,
            "level_price": np.round(rng.choice(spy, 40), 2),
            "direction": rng.choice(["UP", "DOWN"], 40),
        }
    ).unique(["ts_ns", "level_price"])
    got = outcome_labels(touches, trades, W, 5, 0.5, 10.0)
    assert label_grid_of(got.columns) == ([0.5, 1.0, 2.0], [2, 5, 15])
    assert got["outcome_t050_h05"].to_list() == got["outcome"].to_list()
    assert got["outcome_t050_h05"].n_unique() == 3  # the random walk reaches 5 ticks both ways
    assert got.columns[-9:] == [grid_truncated(t, h) for t in (0.5, 1.0, 2.0) for h in (2, 5, 15)]


# ---------------------------------------------------------------- approach


def reference_approach(bars, ts, sign, lookback):
    window = [(t, c) for t, c in bars if ts - lookback <= t < ts]
    closes = [round(c * 1000) for _, c in window]
    if not window:
        return None, None, None
    velocity = None
    if len(window) >= 2:
        minutes = (window[-1][0] - window[0][0]) / 60e9
        velocity = sign * (closes[-1] - closes[0]) / 1000 / minutes
    path = sum(abs(b - a) for a, b in pairwise(closes)) / 1000
    toward = 0
    for a, b in reversed(list(pairwise(closes))):
        if sign * (b - a) > 0:
            toward += 1
        else:
            break
    return velocity, toward, path


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 60), st.integers(1, 10))
def test_approach_matches_a_plain_python_reference(seed, n_bars, n_signals):
    rng = np.random.default_rng(seed)
    minutes = (
        np.sort(rng.choice(np.arange(90), n_bars, replace=False)) if n_bars else np.array([], int)
    )
    bars = pl.DataFrame(
        {
            "ts_ns": (W.rth_open_ns - 30 * NS_PER_MINUTE + minutes * NS_PER_MINUTE).astype(
                np.int64
            ),
            "close": (100 + np.round(rng.normal(0, 0.3, n_bars) / 0.025) * 0.025).astype(
                np.float64
            ),
        }
    )
    starts = W.rth_open_ns + rng.integers(0, 60, n_signals) * NS_PER_MINUTE
    touches = pl.DataFrame(
        {
            "ts_ns": starts,
            "level_price": 100.0 + np.arange(n_signals) * 0.01,
            "level_kind": np.full(n_signals, 11, dtype=np.int8),
            "direction": rng.choice(["UP", "DOWN"], n_signals),
        }
    )
    got = approach_context(touches, bars, W, 10, 15)
    pairs = list(zip(bars["ts_ns"].to_list(), bars["close"].to_list(), strict=True))
    for row, out in zip(touches.iter_rows(named=True), got.iter_rows(named=True), strict=True):
        sign = 1 if row["direction"] == "UP" else -1
        velocity, toward, path = reference_approach(pairs, row["ts_ns"], sign, 10 * NS_PER_MINUTE)
        assert out["approach_velocity"] == (None if velocity is None else pytest.approx(velocity))
        assert out["approach_bars"] == toward
        assert out["approach_distance"] == (None if path is None else pytest.approx(path))
        assert out["bars_since_open"] == (row["ts_ns"] - W.rth_open_ns) // NS_PER_MINUTE


def test_prior_touches_count_same_fixed_level_or_same_moving_kind():
    ts = [W.rth_open_ns + k * NS_PER_MINUTE for k in (0, 1, 2, 3, 4)]
    touches = pl.DataFrame(
        {
            "ts_ns": ts,
            "level_price": [100.0, 101.0, 100.0, 100.37, 100.52],
            "level_kind": np.array([11, 11, 11, 8, 8], dtype=np.int8),  # ROUND x3, VWAP x2
            "direction": ["UP"] * 5,
        }
    )
    bars = pl.DataFrame({"ts_ns": ts, "close": [100.0] * 5})
    got = approach_context(touches, bars, W, 10, 15)
    assert got["prior_touches"].to_list() == [0, 0, 1, 0, 1]


# ---------------------------------------------------------------- levels


def random_day_bars(seed: int) -> pl.DataFrame:
    trades = random_trades(seed, 3000, W.premarket_start_ns, W.rth_close_ns - W.premarket_start_ns)
    return session_bars(trades, W, 10.0)


def random_flow(seed: int, spot: float) -> pl.DataFrame:
    """0DTE option trades with dealer gamma through the session (for STRIKE and walls)."""
    rng = np.random.default_rng(seed + 1)
    n = 3000
    return pl.DataFrame(
        {
            "ts_ns": np.sort(W.rth_open_ns + rng.integers(0, W.rth_close_ns - W.rth_open_ns, n)),
            "right": rng.choice(["C", "P"], n),
            "strike": (round(spot) + rng.integers(-6, 7, n)).astype(np.float64),
            "size": rng.integers(1, 30, n),
            "dealer_gamma": rng.normal(-300, 3000, n),
        }
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 389))
def test_levels_are_causal_at_every_cut_time(seed, cut_minute):
    bars = random_day_bars(seed)
    flow = random_flow(seed, float(bars["close"].median()))
    rng = np.random.default_rng(seed)
    prior = pl.DataFrame(
        {
            "end_ns": W.rth_open_ns - NS_PER_MINUTE * np.arange(300, 0, -1) * 2,
            "close": 100 + rng.normal(0, 1, 300),
        }
    )
    full = compute_levels(bars, prior, W, PARAMS, flow)
    assert {"STRIKE", "CALL_WALL", "PUT_WALL"} <= set(full["level_kind_name"])
    cut = W.rth_open_ns + cut_minute * NS_PER_MINUTE
    assert causality_failures(full, bars, prior, W, PARAMS, [cut], flow) == []


def test_the_causality_check_catches_a_leaky_level():
    bars = random_day_bars(1)
    full = compute_levels(bars, EMPTY_CLOSES, W, PARAMS)
    # A leak: the session high of each bar computed including that bar's own high.
    highs = bars.filter(pl.col("session") == "RTH").select("ts_ns", leak=pl.col("high").cum_max())
    leaky = (
        full.join(highs, on="ts_ns", how="left")
        .with_columns(
            level_price=pl.when(pl.col("level_kind_name") == "SESSION_HIGH")
            .then(pl.col("leak").round(2))
            .otherwise("level_price")
        )
        .drop("leak")
    )
    cuts = [W.rth_open_ns + m * NS_PER_MINUTE for m in (5, 100, 300)]
    assert len(causality_failures(leaky, bars, EMPTY_CLOSES, W, PARAMS, cuts)) == 3


def test_levels_for_a_cut_day_are_a_prefix_of_the_full_day():
    bars = random_day_bars(2)
    full = compute_levels(bars, EMPTY_CLOSES, W, PARAMS)
    assert set(full["level_kind_name"]) >= {"PM_HIGH", "OR_LOW", "VWAP", "SESSION_HIGH", "ROUND"}
    assert (
        full["ts_ns"].min() == W.rth_open_ns
        and full["ts_ns"].max() == W.rth_close_ns - NS_PER_MINUTE
    )


# ---------------------------------------------------------------- bars


def test_bars_reproduce_databentos_own_ohlcv_1m(external_dir):
    trades = db.DBNStore.from_file(
        external_dir / "nautilus_trader/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
    ).to_ndarray()
    ohlcv = db.DBNStore.from_file(
        external_dir / "nautilus_trader/futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst"
    ).to_ndarray()
    frame = pl.DataFrame(
        {
            "ts_event": trades["ts_event"].astype(np.int64),
            "price": trades["price"] / 1e9,
            "size": trades["size"].astype(np.int64),
        }
    )
    bars = minute_bars(frame, es_spy_ratio=1.0).collect()
    theirs = ohlcv[ohlcv["instrument_id"] == trades["instrument_id"][0]]
    by_start = {int(r["ts_event"]): r for r in theirs}
    assert bars.height == 4
    for bar in bars.iter_rows(named=True):
        ref = by_start[bar["ts_ns"]]
        assert (bar["open"], bar["high"], bar["low"], bar["close"]) == tuple(
            ref[k] / 1e9 for k in ("open", "high", "low", "close")
        )
        assert bar["volume"] == ref["volume"]


def exact_vwap_cents(trades: pl.DataFrame, minutes: list[int]) -> list[int | None]:
    """For each minute: Σ price x size / Σ size of the RTH trades before it, in exact fractions
    of a dollar, rounded half up to the cent once."""
    from fractions import Fraction

    rth = trades.filter(pl.col("ts_event") >= W.rth_open_ns).sort("ts_event")
    out, notional, volume, i = [], Fraction(0), 0, 0
    rows = rth.select("ts_event", "price", "size").rows()
    for t in minutes:
        while i < len(rows) and rows[i][0] < t:
            notional += Fraction(round(rows[i][1] * 4), 40) * rows[i][2]  # ES quarter ticks / 10
            volume += rows[i][2]
            i += 1
        out.append(int(notional / volume * 100 + Fraction(1, 2)) if volume else None)
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31))
def test_vwap_is_rounded_to_the_cent_once_from_the_exact_ratio(seed):
    trades = random_trades(seed, 400, W.rth_open_ns, 60 * NS_PER_MINUTE)
    full = compute_levels(session_bars(trades, W, 10.0), EMPTY_CLOSES, W, PARAMS)
    vwap = full.filter(pl.col("level_kind_name") == "VWAP").sort("ts_ns")
    assert vwap.height > 300  # from the minute after the first trade to the close
    expected = exact_vwap_cents(trades, vwap["ts_ns"].to_list())
    assert [round(p * 100) for p in vwap["level_price"]] == expected


def test_a_vwap_whose_milli_ends_on_5_only_after_rounding_is_not_pushed_up_a_cent():
    # The case: (627.850 x 17 + 627.875 x 25) / 42 = 627.864880...: 627.86 rounded
    # once; rounded to the milli first (627.865), then to the cent, it became 627.87.
    ts = [W.rth_open_ns + 1_000_000, W.rth_open_ns + 2_000_000]
    trades = pl.DataFrame({"ts_event": ts, "price": [6278.50, 6278.75], "size": [17, 25]})
    full = compute_levels(session_bars(trades, W, 10.0), EMPTY_CLOSES, W, PARAMS)
    vwap = full.filter(pl.col("level_kind_name") == "VWAP")["level_price"]
    assert vwap[0] == 627.86 and exact_vwap_cents(trades, [W.rth_open_ns + NS_PER_MINUTE]) == [
        62786
    ]
