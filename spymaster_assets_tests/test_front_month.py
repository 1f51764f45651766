"""Front-month choice: largest RTH outright volume; spreads never; fallback without mappings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.dbn_format import PRICE_SCALE
from spymaster_assets.market.front_month import (
    METHOD_FALLBACK,
    METHOD_MAPPINGS,
    NoFrontMonthError,
    choose_front_month,
)
from spymaster_assets.market.trading_calendar import session_windows

DAY = dt.date(2025, 11, 20)
W = session_windows(DAY)
IN_RTH = W.rth_open_ns + 3_600 * 10**9
BEFORE_RTH = W.rth_open_ns - 60 * 10**9
SYMBOLS = {1: "ESZ5", 2: "ESH6", 3: "ESZ5-ESH6"}


def choose(rows, symbols=SYMBOLS):
    ids = np.array([r[0] for r in rows], dtype=np.uint32)
    ts = np.array([r[1] for r in rows], dtype=np.uint64)
    px = np.array([round(r[2] * PRICE_SCALE) for r in rows], dtype=np.int64)
    sz = np.array([r[3] for r in rows], dtype=np.uint32)
    return choose_front_month(ids, px, sz, ts, W.rth_open_ns, W.rth_close_ns, symbols)


def test_largest_rth_outright_wins_over_the_back_month():
    front = choose([(1, IN_RTH, 6800.0, 900), (2, IN_RTH, 6850.0, 100)])
    assert (front.raw_symbol, front.instrument_id, front.rth_volume) == ("ESZ5", 1, 900)
    assert front.volume_share == pytest.approx(0.9)
    assert front.method == METHOD_MAPPINGS


def test_roll_day_picks_the_next_expiry_when_it_trades_more():
    front = choose([(1, IN_RTH, 6800.0, 300), (2, IN_RTH, 6850.0, 700)])
    assert front.raw_symbol == "ESH6"


def test_spreads_never_win_even_with_the_most_volume():
    front = choose([(1, IN_RTH, 6800.0, 100), (3, IN_RTH, -50.0, 10_000)])
    assert front.raw_symbol == "ESZ5"
    assert front.volume_share == 1.0  # share among outrights only


def test_only_regular_hours_volume_counts():
    front = choose(
        [(1, IN_RTH, 6800.0, 100), (2, BEFORE_RTH, 6850.0, 10_000), (2, IN_RTH, 6850.0, 50)]
    )
    assert front.raw_symbol == "ESZ5"


def test_fallback_without_mappings_uses_grid_and_median_price_and_says_so():
    front = choose(
        [(1, IN_RTH, 6800.25, 500), (2, IN_RTH, 6850.0, 100), (3, IN_RTH, -50.05, 5_000)],
        symbols={},
    )
    assert front.instrument_id == 1
    assert front.method == METHOD_FALLBACK


def test_no_rth_trades_is_an_error():
    with pytest.raises(NoFrontMonthError, match="regular trading hours"):
        choose([(1, BEFORE_RTH, 6800.0, 5)])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([1, 2, 3]), st.booleans(), st.integers(1, 500)),
        min_size=1,
        max_size=60,
    )
)
def test_matches_a_plain_python_reference(trades):
    rows = [
        (iid, IN_RTH if rth else BEFORE_RTH, 6800.0 if iid != 3 else -50.0, sz)
        for iid, rth, sz in trades
    ]
    volume: dict[int, int] = {}
    for iid, ts, _, sz in rows:
        if W.rth_open_ns <= ts < W.rth_close_ns and "-" not in SYMBOLS[iid]:
            volume[iid] = volume.get(iid, 0) + sz
    if not volume:
        with pytest.raises(NoFrontMonthError):
            choose(rows)
        return
    best = max(volume, key=lambda i: (volume[i], -i))
    got = choose(rows)
    assert got.instrument_id == best
    assert got.volume_share == pytest.approx(volume[best] / sum(volume.values()))
