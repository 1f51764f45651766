"""Physics kernels against plain-Python references on random books and tapes, plus scenarios."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.physics.barrier import BarrierParams, barrier_physics
from spymaster_assets.physics.fuel import FuelParams, fuel_physics
from spymaster_assets.physics.tape import TapeParams, tape_physics

S = 10**9
T0 = 1_763_650_000 * S  # an arbitrary RTH instant
PARAMS = BarrierParams(60 * S, 1800 * S, 8, 0.5, 0.3, 1.5, 0.2, 1e6)
TAPE = TapeParams(60 * S, 5.0, 100_000_000, 10_000_000.0, 50.0)  # SPEC's defaults


def book_frame(rows: list[tuple[int, dict[float, int], dict[float, int]]]) -> pl.DataFrame:
    """rows: (ts, bids {price: size}, asks {price: size}); up to ten levels a side."""
    data: dict[str, list] = {"ts_event": []}
    for side in ("bid", "ask"):
        for k in range(10):
            data[f"{side}_px_{k:02d}"] = []
            data[f"{side}_sz_{k:02d}"] = []
    for ts, bids, asks in rows:
        data["ts_event"].append(ts)
        for side, levels in (
            ("bid", sorted(bids.items(), reverse=True)),
            ("ask", sorted(asks.items())),
        ):
            for k in range(10):
                price, size = levels[k] if k < len(levels) else (None, 0)
                data[f"{side}_px_{k:02d}"].append(price)
                data[f"{side}_sz_{k:02d}"].append(size)
    return pl.DataFrame(data, schema_overrides={c: pl.Float64 for c in data if "_px_" in c})


def trade_frame(rows: list[tuple[int, float, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows or None,
        schema={"ts_event": pl.Int64, "price": pl.Float64, "size": pl.Int64, "side": pl.String},
        orient="row",
    )


def touch(ts: int = T0, level: float = 100.0, direction: str = "UP") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts_ns": [ts],
            "info_ts_ns": [ts + 60 * S],
            "level_price": [level],
            "direction": [direction],
        }
    )


# ------------------------------------------------------------- barrier reference


def ref_barrier(books, trades, ts, level_ticks, up, p: BarrierParams):
    side = 2 if up else 1  # index into (ts, bids, asks)
    aggressor = "B" if up else "A"
    lo, hi = level_ticks - p.zone_ticks, level_ticks + p.zone_ticks

    def ticks(levels):
        return {round(px / 0.25): sz for px, sz in levels.items()}

    window = [b for b in books if ts <= b[0] < ts + p.window_ns]
    added = canceled = filled = 0
    for prev, cur in zip(window, window[1:], strict=False):
        before, after = ticks(prev[side]), ticks(cur[side])
        for price in set(before) | set(after):
            if not lo <= price <= hi:
                continue
            d = after.get(price, 0) - before.get(price, 0)
            if d > 0:
                added += d
            elif d < 0:
                vol = sum(
                    q
                    for t, px, q, s in trades
                    if prev[0] < t <= cur[0] and round(px / 0.25) == price and s == aggressor
                )
                f = min(-d, vol)
                filled += f
                canceled += -d - f
    depth = None
    if window:
        depth = sum(sz for px, sz in ticks(window[-1][side]).items() if lo <= px <= hi)
    lookback = [b for b in books if ts - p.lookback_ns <= b[0] < ts]
    base = [sum(b[side].values()) for b in lookback]
    baseline = float(np.mean(base)) if base else None
    floor = float(np.quantile(base, p.weak_percentile)) if base else None
    zone = [sum(sz for px, sz in ticks(b[side]).items() if lo <= px <= hi) for b in lookback]
    zone_baseline = float(np.mean(zone)) if zone else None
    f_thresh = p.f_thresh_frac * zone_baseline if zone_baseline else None
    removed = canceled + filled
    ratio = min(added / removed, p.ratio_cap) if removed else (p.ratio_cap if added else 0.0)
    delta = added - canceled - filled
    if len(window) < 2 or f_thresh is None:
        state = "NEUTRAL"
    elif delta < -f_thresh and canceled > filled and ratio < p.r_vac:
        state = "VACUUM"
    elif delta < -f_thresh and filled >= canceled:
        state = "CONSUMED"
    elif delta > f_thresh and ratio > p.r_wall:
        state = "WALL"
    elif filled >= f_thresh and ratio >= 1:
        state = "ABSORPTION"
    elif floor is not None and depth is not None and depth < floor:
        state = "WEAK"
    else:
        state = "NEUTRAL"
    return state, added, canceled, filled, depth, baseline, ratio, zone_baseline


def random_book_day(seed: int):
    rng = np.random.default_rng(seed)
    books = []
    ts = T0 - 40 * S
    for _ in range(int(rng.integers(1, 40))):
        ts += int(rng.integers(1, 8 * S))
        mid = 4000 + int(rng.integers(-6, 7))
        bids = {
            (mid - k) * 0.25: int(rng.integers(1, 150)) for k in range(1, 11) if rng.random() > 0.1
        }
        asks = {
            (mid + k) * 0.25: int(rng.integers(1, 150)) for k in range(0, 10) if rng.random() > 0.1
        }
        books.append((ts, bids, asks))
    trades = []
    for _ in range(int(rng.integers(0, 80))):
        t = T0 - 10 * S + int(rng.integers(0, 100 * S))
        trades.append(
            (
                t,
                (4000 + int(rng.integers(-8, 9))) * 0.25,
                int(rng.integers(1, 60)),
                rng.choice(["A", "B", "N"]),
            )
        )
    trades.sort()
    return books, trades, rng


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31))
def test_barrier_matches_a_plain_python_reference(seed):
    books, trades, rng = random_book_day(seed)
    up = bool(rng.random() < 0.5)
    level = 100.0 + float(rng.integers(-3, 4)) * 0.025
    params = BarrierParams(60 * S, 20 * S, 8, float(rng.uniform(0.05, 2.0)), 0.3, 1.5, 0.2, 1e6)
    got = barrier_physics(
        touch(level=level, direction="UP" if up else "DOWN"),
        book_frame(books),
        trade_frame(trades),
        params,
        10.0,
        0.25,
    ).row(0, named=True)
    state, added, canceled, filled, depth, baseline, ratio, zone_baseline = ref_barrier(
        books, trades, T0, level * 40, up, params
    )
    assert got["barrier_state"] == state
    assert (got["barrier_added"], got["barrier_canceled"], got["barrier_filled"]) == (
        added,
        canceled,
        filled,
    )
    assert got["depth_in_zone"] == depth
    assert got["zone_baseline"] == (None if zone_baseline is None else pytest.approx(zone_baseline))
    assert got["barrier_replenishment_ratio"] == pytest.approx(ratio)
    expected_wall = (
        None if (baseline is None or depth is None or baseline == 0) else depth / baseline
    )
    assert got["wall_ratio"] == (None if expected_wall is None else pytest.approx(expected_wall))


def state_of(books, trades=(), direction="UP") -> dict:
    return barrier_physics(
        touch(direction=direction), book_frame(books), trade_frame(list(trades)), PARAMS, 10.0, 0.25
    ).row(0, named=True)


DEEP_BIDS = {99.0 + 0.25 * k: 100 for k in range(-9, 1)}  # a bid book far below the zone
SHALLOW_LOOKBACK = [(T0 - 60 * S, DEEP_BIDS, {1000.25 + 0.25 * k: 5 for k in range(10)})]


def asks(size_at_1000_25: int, others: int = 100) -> dict[float, int]:
    book = {1000.25 + 0.25 * k: others for k in range(10)}
    book[1000.25] = size_at_1000_25
    return book


def test_vacuum_liquidity_pulled_without_fills():
    s = state_of(
        SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(300)), (T0 + 2 * S, DEEP_BIDS, asks(50))]
    )
    assert (
        s["barrier_state"] == "VACUUM" and s["barrier_canceled"] == 250 and s["barrier_filled"] == 0
    )


def test_consumed_liquidity_filled_by_aggressive_buyers():
    trades = [(T0 + S + 500_000_000, 1000.25, 250, "B")]
    s = state_of(
        SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(300)), (T0 + 2 * S, DEEP_BIDS, asks(50))],
        trades,
    )
    assert (
        s["barrier_state"] == "CONSUMED"
        and s["barrier_filled"] == 250
        and s["barrier_canceled"] == 0
    )


def test_sells_do_not_fill_the_ask():
    trades = [(T0 + S + 500_000_000, 1000.25, 250, "A")]  # wrong side: not a fill of the ask
    s = state_of(
        SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(300)), (T0 + 2 * S, DEEP_BIDS, asks(50))],
        trades,
    )
    assert s["barrier_state"] == "VACUUM" and s["barrier_filled"] == 0


def test_wall_liquidity_replenished():
    s = state_of(
        SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(50)), (T0 + 2 * S, DEEP_BIDS, asks(300))]
    )
    assert s["barrier_state"] == "WALL" and s["barrier_added"] == 250
    assert s["barrier_replenishment_ratio"] == 1e6, "nothing removed: capped, finite"


def test_absorption_filled_and_replenished():
    trades = [(T0 + S + 500_000_000, 1000.25, 150, "B")]
    books = SHALLOW_LOOKBACK + [
        (T0 + S, DEEP_BIDS, asks(300)),
        (T0 + 2 * S, DEEP_BIDS, asks(150)),
        (T0 + 3 * S, DEEP_BIDS, asks(310)),
    ]
    s = state_of(books, trades)
    assert s["barrier_state"] == "ABSORPTION"
    assert (s["barrier_filled"], s["barrier_added"]) == (150, 160)


def test_weak_thin_zone_against_a_deep_lookback():
    deep = [(T0 - 60 * S + k * S, DEEP_BIDS, asks(500, 500)) for k in range(5)]
    s = state_of(deep + [(T0 + S, DEEP_BIDS, asks(5, 5)), (T0 + 2 * S, DEEP_BIDS, asks(6, 5))])
    assert s["barrier_state"] == "WEAK"
    assert s["wall_ratio"] < 0.1


def test_neutral_quiet_window_and_too_few_books():
    quiet = state_of(
        SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(100)), (T0 + 2 * S, DEEP_BIDS, asks(110))]
    )
    assert quiet["barrier_state"] == "NEUTRAL"
    one_book = state_of(SHALLOW_LOOKBACK + [(T0 + S, DEEP_BIDS, asks(300))])
    assert one_book["barrier_state"] == "NEUTRAL"


def test_down_signals_defend_the_bid():
    bids_before = {100.0 - 0.25 * k: 100 for k in range(10)}
    bids_after = dict(bids_before)
    bids_after[99.75] = 400  # out of zone for level 100 SPY = 1000 ES: ignored
    bids_after[999.75] = 300  # in the zone at 1000 - 1 tick
    bids_before[999.75] = 0
    far_asks = {1100.0 + k: 5 for k in range(10)}
    window = [(T0 + S, bids_before, far_asks), (T0 + 2 * S, bids_after, far_asks)]
    bid_lookback = [(T0 - 60 * S, {1000.0: 50, 999.75: 50, 990.0: 500}, far_asks)]
    s = state_of(bid_lookback + window, direction="DOWN")
    assert s["zone_baseline"] == 100.0  # the bid inside the zone, not the ask, not 990.00
    assert s["barrier_added"] == 300 and s["barrier_state"] == "WALL"
    # a level whose zone held nothing over the lookback has no F_thresh: NEUTRAL
    s = state_of(SHALLOW_LOOKBACK + window, direction="DOWN")
    assert s["zone_baseline"] == 0.0 and s["barrier_state"] == "NEUTRAL"


@pytest.mark.parametrize("usual_depth, state", [(100, "VACUUM"), (2000, "WEAK")])
def test_the_same_flow_is_a_state_on_a_thin_level_and_noise_on_a_deep_one(usual_depth, state):
    """F_thresh scales with the depth the zone normally holds (SPEC §6): 250 contracts pulled
    from a level that usually holds 100 is a vacuum; from one that holds 2,000 it is not (what
    is left is thin against that lookback: WEAK)."""
    lookback = [(T0 - 60 * S, DEEP_BIDS, asks(usual_depth, 0))]
    s = state_of(lookback + [(T0 + S, DEEP_BIDS, asks(300)), (T0 + 2 * S, DEEP_BIDS, asks(50))])
    assert s["zone_baseline"] == usual_depth
    assert s["barrier_canceled"] == 250 and s["barrier_state"] == state


# ------------------------------------------------------------- tape


def ref_tape(trades, ts, level_es, p: TapeParams):
    window = [t for t in trades if ts <= t[0] < ts + p.window_ns]
    band = [t for t in window if abs(t[1] - level_es) <= p.band_es + 1e-9]
    buy = sum(q for _, _, q, s in band if s == "B")
    sell = sum(q for _, _, q, s in band if s == "A")
    sweep = False
    run: list = []
    for t in band:
        if t[3] == "N":
            run = []
            continue
        if run and t[3] == run[-1][3] and t[0] - run[-1][0] <= p.max_gap_ns:
            run.append(t)
        else:
            run = [t]
        prices = {x[1] for x in run}
        notional = sum(x[1] * x[2] * p.multiplier for x in run)
        if len(prices) >= 2 and notional >= p.min_notional:
            sweep = True
    imbalance = (buy - sell) / (buy + sell) if buy + sell else 0.0
    return buy, sell, imbalance, len(window) / (p.window_ns / 1e9), sweep


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.integers(20, 200))
def test_tape_matches_a_plain_python_reference(seed, gap_ms):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 120))
    ts = np.sort(T0 - 5 * S + rng.integers(0, 70 * S, n))
    trades = [
        (
            int(t),
            (4000 + int(rng.integers(-30, 31))) * 0.25,
            int(rng.integers(1, 8)),
            str(rng.choice(["A", "B", "N"], p=[0.45, 0.45, 0.1])),
        )
        for t in ts
    ]
    params = TapeParams(60 * S, 5.0, gap_ms * 1_000_000, float(rng.choice([1e5, 5e5, 2e6])), 50.0)
    got = tape_physics(touch(), trade_frame(trades), params, 10.0).row(0, named=True)
    buy, sell, imbalance, velocity, sweep = ref_tape(trades, T0, 1000.0, params)
    assert (got["tape_buy_vol"], got["tape_sell_vol"]) == (buy, sell)
    assert got["tape_imbalance"] == pytest.approx(imbalance)
    assert got["tape_velocity"] == pytest.approx(velocity)
    assert got["sweep_detected"] == sweep


def sweep_of(trades) -> bool:
    return tape_physics(touch(), trade_frame(trades), TAPE, 10.0)["sweep_detected"][0]


def test_a_sweep_and_the_near_misses():
    ms = 1_000_000
    # 67 contracts at each of 1000.00, 1000.25, 1000.50: 67 x 3000.75 x $50 = $10,052,512
    sweep = [
        (T0 + S, 1000.0, 67, "B"),
        (T0 + S + 40 * ms, 1000.25, 67, "B"),
        (T0 + S + 80 * ms, 1000.5, 67, "B"),
    ]
    assert sweep_of(sweep)
    assert not sweep_of([(t, 1000.0, q, s) for t, _, q, s in sweep]), "one price only"
    assert not sweep_of(
        [(T0 + S + k * 150 * ms, p, q, s) for k, (_, p, q, s) in enumerate(sweep)]
    ), "gaps > 100 ms"
    assert not sweep_of([(t, p, 66, s) for t, p, _, s in sweep]), "$9,902,475: below $10M"
    assert not sweep_of([(t, p, q, "AB"[k % 2]) for k, (t, p, q, _) in enumerate(sweep)]), (
        "alternating sides"
    )
    assert not sweep_of([(t, p + 10.0, q, s) for t, p, q, s in sweep]), "outside the band"


# ------------------------------------------------------------- fuel


def fuel_of(flow_rows, level=100.0) -> dict:
    flow = pl.DataFrame(
        flow_rows,
        schema={"ts_ns": pl.Int64, "strike": pl.Float64, "dealer_gamma": pl.Float64},
        orient="row",
    )
    return fuel_physics(touch(level=level), flow, FuelParams(2.0, 0.10)).row(0, named=True)


def test_fuel_effects_follow_the_level_s_share_of_the_day_s_dealer_gamma():
    info = T0 + 60 * S
    # the level's strikes hold -15,000 of 25,000 in all: a share of -0.6
    amplify = fuel_of([(T0, 101.0, -15_000.0), (T0, 110.0, 10_000.0)])
    assert amplify["gamma_share"] == pytest.approx(-0.6) and amplify["fuel_effect"] == "AMPLIFY"
    dampen = fuel_of([(T0, 98.0, 15_000.0)])
    assert dampen["gamma_share"] == 1.0 and dampen["fuel_effect"] == "DAMPEN"
    # a big exposure is NEUTRAL when the day's positioning sits elsewhere: 5,000 of 105,000
    neutral = fuel_of([(T0, 103.0, -50_000.0), (info + 1, 100.0, -50_000.0), (T0, 100.0, 5_000.0),
                       (T0, 90.0, -50_000.0)])  # fmt: skip
    assert neutral["gamma_exposure"] == 5_000.0
    assert neutral["gamma_share"] == pytest.approx(5_000 / 105_000)
    assert neutral["fuel_effect"] == "NEUTRAL"
    # a print at the information time and ±$2 counts; a later one (info + 1 ns) does not
    edge = fuel_of([(info, 102.0, -10.0), (info + 1, 50.0, 1e9), (T0, 80.0, 80.0)])
    assert edge["gamma_share"] == pytest.approx(-10 / 90) and edge["fuel_effect"] == "AMPLIFY"
    # no 0DTE trade before the information time: no share, NEUTRAL
    none = fuel_of([(info + 1, 100.0, -1e6)])
    assert none["gamma_share"] is None and none["fuel_effect"] == "NEUTRAL"
    # the same share whatever the volume: every gamma x 1,000 changes nothing but the exposure
    big = fuel_of([(T0, 101.0, -15e6), (T0, 110.0, 10e6)])
    assert big["gamma_share"] == pytest.approx(-0.6) and big["fuel_effect"] == "AMPLIFY"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_fuel_matches_a_plain_python_reference(seed):
    rng = np.random.default_rng(seed)
    rows = sorted(
        (
            T0 + int(rng.integers(-3600, 120)) * S,
            float(rng.integers(95, 106)),
            float(rng.normal(0, 8000)),
        )
        for _ in range(int(rng.integers(0, 200)))
    )
    level = float(rng.choice([99.5, 100.0, 100.37]))
    got = fuel_of(rows, level)
    known = [(k, g) for t, k, g in rows if t <= T0 + 60 * S]
    expected = sum(g for k, g in known if abs(k - level) <= 2.0 + 1e-9)
    assert got["gamma_exposure"] == pytest.approx(expected, abs=1e-6)
    by_strike: dict[float, float] = {}
    for k, g in known:
        by_strike[k] = by_strike.get(k, 0.0) + g
    total = sum(abs(v) for v in by_strike.values())
    if total == 0:
        assert got["gamma_share"] is None and got["fuel_effect"] == "NEUTRAL"
        return
    share = expected / total
    assert got["gamma_share"] == pytest.approx(share, abs=1e-9)
    assert -1.0 <= got["gamma_share"] <= 1.0
    if abs(abs(share) - 0.10) > 1e-9:  # away from the threshold itself
        effect = "AMPLIFY" if share < -0.10 else "DAMPEN" if share > 0.10 else "NEUTRAL"
        assert got["fuel_effect"] == effect
