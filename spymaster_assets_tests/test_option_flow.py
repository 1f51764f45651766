"""Black-Scholes, implied volatility, the tick rule and the dealer gamma sign convention."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.black_scholes import (
    bs_delta_gamma,
    bs_price,
    bs_price_vega,
    implied_vol,
)
from spymaster_assets.market.trading_calendar import NEW_YORK, session_windows
from spymaster_assets.physics.option_flow import FlowParams, option_flow

PARAMS = FlowParams(10.0, 0.045, 0.01, 5.0, 0.20, 60.0, -1)


def test_prices_and_greeks_match_known_values():
    # Hull's textbook case: S = K = 100, T = 1, r = 5 %, sigma = 20 %.
    assert bs_price(100.0, 100.0, 1.0, 0.05, 0.2, True) == pytest.approx(10.4506, abs=1e-4)
    assert bs_price(100.0, 100.0, 1.0, 0.05, 0.2, False) == pytest.approx(5.5735, abs=1e-4)
    delta, gamma = bs_delta_gamma(100.0, 100.0, 1.0, 0.05, 0.2, True)
    assert delta == pytest.approx(0.6368, abs=1e-4)
    assert gamma == pytest.approx(0.018762, abs=1e-6)
    put_delta, put_gamma = bs_delta_gamma(100.0, 100.0, 1.0, 0.05, 0.2, False)
    assert put_delta == pytest.approx(delta - 1.0) and put_gamma == pytest.approx(gamma)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(50, 1000),
    st.floats(0.7, 1.3),
    st.floats(1e-4, 2.0),
    st.floats(0.0, 0.1),
    st.floats(0.02, 3.0),
)
def test_put_call_parity_and_implied_vol_round_trip(spot, moneyness, t, rate, vol):
    strike = spot * moneyness
    call = bs_price(spot, strike, t, rate, vol, True)
    put = bs_price(spot, strike, t, rate, vol, False)
    assert call - put == pytest.approx(spot - strike * math.exp(-rate * t), abs=1e-8 * spot)
    for price, is_call in ((call, True), (put, False)):
        lower = (
            max(spot - strike * math.exp(-rate * t), 0.0)
            if is_call
            else max(strike * math.exp(-rate * t) - spot, 0.0)
        )
        if price - lower < 1e-6 * spot:
            continue  # no time value left to invert
        solved = implied_vol(price, spot, strike, t, rate, is_call, 0.01, 5.0)
        assert bs_price(spot, strike, t, rate, solved, is_call) == pytest.approx(
            price, rel=1e-6, abs=1e-9
        )


def test_prices_outside_no_arbitrage_bounds_do_not_solve():
    assert math.isnan(implied_vol(0.5, 100.0, 90.0, 0.1, 0.0, True, 0.01, 5.0))  # below intrinsic
    assert math.isnan(implied_vol(101.0, 100.0, 90.0, 0.1, 0.0, True, 0.01, 5.0))  # above spot


def test_the_last_minutes_before_expiry_stay_finite():
    t = 60.0 / (365 * 86400)  # the 60-second floor
    for strike in (99.0, 100.0, 100.001, 101.0):
        for is_call in (True, False):
            price = bs_price(100.0, strike, t, 0.045, 0.2, is_call)
            delta, gamma = bs_delta_gamma(100.0, strike, t, 0.045, 0.2, is_call)
            assert all(math.isfinite(x) for x in (price, delta, gamma))


def ny(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK).timestamp()) * 10**9


def flow_for(
    day: dt.date,
    prints: list[tuple[int, str, float, int]],
    spot: float = 100.0,
    params: FlowParams = PARAMS,
):
    """prints: (ts, ticker suffix like 'C00100000', price, size) of 0DTE SPY options."""
    options = pl.DataFrame(
        {
            "ts_ns": [p[0] for p in prints],
            "ticker": [f"O:SPY{day:%y%m%d}{p[1]}" for p in prints],
            "right": [p[1][0] for p in prints],
            "strike": [int(p[1][1:]) / 1000 for p in prints],
            "price": [p[2] for p in prints],
            "size": [p[3] for p in prints],
        }
    )
    es = pl.DataFrame({"ts_event": [ny(day, 9, 30)], "price": [spot * params.es_spy_ratio]})
    frame, _ = option_flow(options, es, session_windows(day).rth_close_ns, params)
    return frame


@pytest.mark.parametrize(
    "day, hour, expected_s",
    [
        (dt.date(2025, 1, 15), 15, 3600.0),  # EST: expiry 16:00 New York = 21:00 UTC
        (dt.date(2025, 7, 15), 15, 3600.0),  # EDT: expiry 16:00 New York = 20:00 UTC
        (dt.date(2025, 11, 28), 12, 3600.0),  # early close: expiry 13:00 New York
    ],
)
def test_expiry_is_the_new_york_close_in_winter_summer_and_early_close(day, hour, expected_s):
    frame = flow_for(day, [(ny(day, hour), "C00100000", 1.0, 1)])
    assert frame["time_to_expiry_years"][0] * 365 * 86400 == pytest.approx(expected_s)


def test_time_to_expiry_is_floored_at_sixty_seconds():
    day = dt.date(2025, 1, 15)
    frame = flow_for(day, [(ny(day, 15, 59) + 50 * 10**9, "C00100000", 0.05, 1)])
    assert frame["time_to_expiry_years"][0] * 365 * 86400 == pytest.approx(60.0)
    assert math.isfinite(frame["gamma"][0])


def test_tick_rule_per_contract_and_the_dealer_gamma_sign():
    day = dt.date(2025, 1, 15)
    t = ny(day, 11)
    prints = [
        (t, "C00100000", 1.00, 10),  # first print: unsigned
        (t + 1, "P00100000", 1.20, 10),  # another contract: its own first print
        (t + 2, "C00100000", 1.05, 10),  # up-tick: customer buys
        (t + 3, "C00100000", 1.05, 10),  # zero tick: still a buy
        (t + 4, "C00100000", 1.01, 10),  # down-tick: customer sells
        (t + 5, "P00100000", 1.25, 10),  # up-tick on the put
    ]
    frame = flow_for(day, prints)
    assert frame["customer_side"].to_list() == [0, 0, 1, 1, -1, 1]
    # Dealers take the other side: customers buying leave dealers short gamma (negative).
    sides = frame["customer_side"].to_numpy()
    dealer = frame["dealer_gamma"].to_numpy()
    assert (
        np.all(dealer[sides == 1] < 0)
        and np.all(dealer[sides == -1] > 0)
        and np.all(dealer[sides == 0] == 0)
    )
    assert dealer[2] == pytest.approx(-1 * 10 * frame["gamma"][2] * 100)
    flipped = flow_for(day, prints, params=FlowParams(10.0, 0.045, 0.01, 5.0, 0.20, 60.0, +1))
    assert np.allclose(flipped["dealer_gamma"].to_numpy(), -dealer)
    calls = frame.filter(pl.col("right") == "C")
    assert calls["cum_dealer_gamma"].to_list() == pytest.approx(
        np.cumsum(calls["dealer_gamma"].to_numpy()).tolist()
    )


def test_unsolvable_prints_fall_back_to_the_contracts_last_good_iv_then_the_default():
    day = dt.date(2025, 1, 15)
    t = ny(day, 11)
    prints = [
        (t, "C00095000", 1.00, 1),  # below intrinsic, no IV yet for this contract: default
        (t + 1, "C00100000", 0.80, 1),  # solves
        (t + 2, "C00100000", 99.0, 1),  # above the spot: not solvable, last good IV of the contract
    ]
    frame = flow_for(day, prints)
    assert frame["iv_source"].to_list() == ["default", "solved", "last_good"]
    assert frame["iv"][0] == pytest.approx(0.20)
    assert frame["iv"][2] == pytest.approx(frame["iv"][1])


def test_spot_is_the_last_es_trade_at_or_before_the_option_trade():
    day = dt.date(2025, 1, 15)
    t = ny(day, 11)
    options = pl.DataFrame(
        {
            "ts_ns": [t - 1, t, t + 5],
            "ticker": [f"O:SPY{day:%y%m%d}C00100000"] * 3,
            "right": ["C"] * 3,
            "strike": [100.0] * 3,
            "price": [1.0] * 3,
            "size": [1] * 3,
        }
    )
    es = pl.DataFrame({"ts_event": [t, t + 4], "price": [1000.0, 1010.0]})
    frame, unvalued = option_flow(options, es, session_windows(day).rth_close_ns, PARAMS)
    assert unvalued == 1, "before the first ES trade there is no spot"
    assert frame["spot"].to_list() == [100.0, 101.0]


def reference_flow(prints, spot, t_years, p: FlowParams):
    """Plain Python: IV with fallbacks, greeks, tick rule per contract, dealer gamma."""
    last_price, last_sign, last_iv, out = {}, {}, {}, []
    for ticker, is_call, strike, price, size in prints:
        iv = implied_vol(
            price, spot, strike, t_years, p.risk_free_rate, is_call, p.iv_min, p.iv_max
        )
        if math.isnan(iv):
            iv, source = (
                (last_iv[ticker], "last_good") if ticker in last_iv else (p.default_iv, "default")
            )
        else:
            last_iv[ticker], source = iv, "solved"
        _, gamma = bs_delta_gamma(spot, strike, t_years, p.risk_free_rate, iv, is_call)
        if ticker not in last_price:
            side = 0
        elif price > last_price[ticker]:
            side = 1
        elif price < last_price[ticker]:
            side = -1
        else:
            side = last_sign.get(ticker, 0)
        if side:
            last_sign[ticker] = side
        last_price[ticker] = price
        out.append((source, iv, side, p.dealer_side_sign * side * size * gamma * 100))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_option_flow_matches_a_plain_python_reference(seed):
    rng = np.random.default_rng(seed)
    day = dt.date(2025, 1, 15)
    t = ny(day, 12)
    n = int(rng.integers(1, 60))
    suffixes = [f"{r}{k * 1000:08d}" for r in "CP" for k in (98, 100, 102)]
    chosen = rng.choice(suffixes, n)
    prices = np.round(
        rng.choice([0.05, 0.5, 1.0, 1.5, 2.5, 3.0, 150.0], n) + rng.integers(0, 3, n) * 0.01, 2
    )
    sizes = rng.integers(1, 20, n)
    frame = flow_for(
        day,
        [
            (t + i, s, float(p), int(q))
            for i, (s, p, q) in enumerate(zip(chosen, prices, sizes, strict=True))
        ],
    )
    t_years = (session_windows(day).rth_close_ns - t) / 1e9 / (365 * 86400)
    expected = reference_flow(
        [
            (s, s[0] == "C", int(s[1:]) / 1000, float(p), int(q))
            for s, p, q in zip(chosen, prices, sizes, strict=True)
        ],
        100.0,
        t_years,
        PARAMS,
    )
    assert frame["iv_source"].to_list() == [e[0] for e in expected]
    assert frame["iv"].to_list() == pytest.approx([e[1] for e in expected], rel=1e-6)
    assert frame["customer_side"].to_list() == [e[2] for e in expected]
    assert frame["dealer_gamma"].to_list() == pytest.approx(
        [e[3] for e in expected], rel=1e-6, abs=1e-9
    )


def bisection_reference(price, spot, strike, t, rate, is_call, lo, hi):
    """The plain bisection the Newton solver replaced: slow, certain."""
    disc = strike * math.exp(-rate * t)
    lower = max(spot - disc, 0.0) if is_call else max(disc - spot, 0.0)
    if not (lower < price < (spot if is_call else disc)):
        return math.nan
    if not bs_price(spot, strike, t, rate, lo, is_call) <= price:
        return math.nan
    if not price <= bs_price(spot, strike, t, rate, hi, is_call):
        return math.nan
    while hi - lo >= 1e-12:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if bs_price(spot, strike, t, rate, mid, is_call) < price else (lo, mid)
    return 0.5 * (lo + hi)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(50, 1000),
    st.floats(0.9, 1.1),
    st.floats(60 / (365 * 86400), 1 / 365),  # the last minute to one day: 0DTE
    st.floats(0.0, 0.1),
    st.floats(0.005, 6.0),
    st.booleans(),
)
def test_newton_implied_vol_agrees_with_bisection_on_0dte_options(
    spot, moneyness, t, rate, vol, is_call
):
    strike = spot * moneyness
    price = bs_price(spot, strike, t, rate, vol, is_call)
    solved = implied_vol(price, spot, strike, t, rate, is_call, 0.01, 5.0)
    reference = bisection_reference(price, spot, strike, t, rate, is_call, 0.01, 5.0)
    assert math.isnan(solved) == math.isnan(reference)
    if math.isnan(solved):
        return
    assert 0.01 <= solved <= 5.0
    error = abs(bs_price(spot, strike, t, rate, solved, is_call) - price)
    assert error <= abs(bs_price(spot, strike, t, rate, reference, is_call) - price) + 1e-9 * spot
    _, vega = bs_price_vega(spot, strike, t, rate, solved, is_call)
    if vega > 1e-4 * spot:  # where the price pins the volatility down, the same volatility
        assert solved == pytest.approx(reference, abs=1e-7)
