"""The generator's Numba kernels: invariants on random inputs, and compiled == interpreted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.trading_calendar import trading_days
from spymaster_assets.sample.book_sim import (
    ACTION_TRADE,
    CONSUME,
    EMPTY_LEVEL,
    FLAG_LAST,
    N_LEVELS,
    PULL,
    REPLENISH,
    SIDE_ASK,
    SIDE_BID,
    allocate_outputs,
    init_book,
    regime_code,
    simulate_book,
)
from spymaster_assets.sample.generator import MarketShape, sample_path, touch_rules
from spymaster_assets.sample.price_path import (
    NOT_A_TOUCH,
    TOUCH_CONSUME,
    TOUCH_PULL,
    TOUCH_QUIET,
    TOUCH_REPLENISH,
    latent_path,
)


def run(fn, seed: int, n: int, n_active: int, p_trade: float, drift: float):
    rng = np.random.default_rng(seed)
    target = 4 * 6800.0 + np.cumsum(rng.normal(drift, 0.6, n))
    state = init_book(target[0], 20.0, n_active, rng.random(2 * N_LEVELS))
    out = allocate_outputs(n)
    # liquidity episodes of every kind and side, in runs, between stretches of steady flow
    regime = np.repeat(rng.integers(0, 7, n // 20 + 1), 20)[:n].astype(np.int8)
    n_rec, n_tr = fn(
        state, target, rng.random((n, 6)), n_active, p_trade, 0.5, 0.1, 2.0, 20.0, 0.01, 0.5,
        regime, **out,
    )  # fmt: skip
    return (
        target,
        state,
        {k: v[: n_rec if k.startswith(("rec", "books")) else n_tr] for k, v in out.items()},
    )


params = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(1, 400),
    st.integers(2, N_LEVELS),
    st.floats(0.0, 0.5),
    st.floats(-0.3, 0.3),
)


@settings(max_examples=40, deadline=None)
@given(params)
def test_complete_books_never_cross_and_trades_hit_the_touch(p):
    seed, n, n_active, p_trade, drift = p
    target, _, out = run(simulate_book, seed, n, n_active, p_trade, drift)
    books, flags = out["books"], out["rec_flags"]
    last = (flags & FLAG_LAST) != 0
    assert np.all(books[last, 0, 0] < books[last, 2, 0])
    active = books[:, 0, :n_active]
    assert np.all(np.diff(active, axis=1) < 0) and np.all(
        np.diff(books[:, 2, :n_active], axis=1) > 0
    )
    assert np.all(books[:, 1, :n_active] >= 1) and np.all(books[:, 3, :n_active] >= 1)
    assert np.all(books[:, 0, n_active:] == EMPTY_LEVEL)
    t = out["rec_action"] == ACTION_TRADE
    buy, sell = t & (out["rec_side"] == SIDE_BID), t & (out["rec_side"] == SIDE_ASK)
    assert np.all(out["rec_price"][buy] == books[buy, 2, 0])
    assert np.all(out["rec_price"][sell] == books[sell, 0, 0])
    assert t.sum() == len(out["tr_price"])
    # every event ends with exactly one complete record
    ev = out["rec_event"]
    assert np.array_equal(ev[last], np.arange(len(target)))


@settings(max_examples=15, deadline=None)
@given(params)
def test_compiled_book_matches_interpreted_python(p):
    seed, n, n_active, p_trade, drift = p
    _, state_c, compiled = run(simulate_book, seed, n, n_active, p_trade, drift)
    _, state_p, python = run(simulate_book.py_func, seed, n, n_active, p_trade, drift)
    assert np.array_equal(state_c, state_p)
    for key in compiled:
        assert np.array_equal(compiled[key], python[key]), key


def test_liquidity_episodes_pull_replenish_and_consume_the_side_they_name():
    """Over many events of one episode, the side named loses liquidity to cancels (PULL), gains
    it (REPLENISH) or is traded against (CONSUME), compared with steady flow."""
    n = 20_000
    rng = np.random.default_rng(3)
    target = np.full(n, 4 * 6800.0 + 0.5)

    def flows(code: int) -> dict[str, int]:
        state = init_book(target[0], 20.0, N_LEVELS, rng.random(2 * N_LEVELS))
        out = allocate_outputs(n)
        n_rec, _ = simulate_book(
            state, target, rng.random((n, 6)), N_LEVELS, 0.1, 0.5, 0.0, 2.0, 20.0, 0.0, 0.5,
            np.full(n, code, np.int8), **out,
        )  # fmt: skip
        books = out["books"][n_rec // 2 : n_rec]  # once the episode has settled in
        trades = out["rec_action"][:n_rec] == ACTION_TRADE
        return {
            "ask_depth": float(books[:, 3, :].sum(axis=1).mean()),
            "buys": int((trades & (out["rec_side"][:n_rec] == SIDE_BID)).sum()),
        }

    steady = flows(0)
    pulled = flows(regime_code(PULL, 1))
    replenished = flows(regime_code(REPLENISH, 1))
    consumed = flows(regime_code(CONSUME, 1))
    assert pulled["ask_depth"] < 0.5 * steady["ask_depth"]
    assert replenished["ask_depth"] > 2 * steady["ask_depth"]
    assert consumed["buys"] > 3 * steady["buys"]
    assert flows(regime_code(PULL, 0))["ask_depth"] > 0.5 * steady["ask_depth"]  # the bid's


def path_args(rng, n, rule_cdf, react_prob, break_share, spontaneous=0.0):
    return (
        6800.0, np.full(n, 0.35), rng.standard_normal(n), rng.random(4 * n), 6800.0, 1 / 7200,
        200, n, 10.0, 0.5, np.asarray(rule_cdf, float), np.asarray(react_prob, float),
        np.asarray(break_share, float), 24.0, 30, spontaneous, np.empty(n, np.int8),
    )  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_latent_path_compiled_matches_interpreted_python(seed, reaction_prob, break_share):
    rng = np.random.default_rng(seed)
    draws = np.sort(rng.random(3))
    args = path_args(rng, 3_000, [*draws, 1.0], rng.random(4) * reaction_prob,
                     rng.random(4) * break_share, rng.random() * 0.01)  # fmt: skip
    rules = args[-1].copy()
    assert np.allclose(latent_path(*args), latent_path.py_func(*args[:-1], rules))
    assert np.array_equal(args[-1], rules)


def test_reactions_move_price_two_dollars_either_way():
    args = path_args(np.random.default_rng(1), 20_000, [0.5, 0.7, 0.8, 1.0], [1.0] * 4, [0.5] * 4)
    path = latent_path(*args)
    moves = path[150:] - path[:-150]
    assert moves.max() > 20.0 and moves.min() < -20.0  # $2 SPY = 20 ES points within minutes


def touches(world: str, n: int = 2_000_000) -> list[tuple[int, int]]:
    """(rule, reaction) of every touch of a long path: reaction +1 through, -1 back, 0 none."""
    shape = MarketShape(world=world)
    args = path_args(np.random.default_rng(5), n, *touch_rules(shape, 0.5))
    path, rules = latent_path(*args), args[-1]
    starts = np.flatnonzero((rules[1:] != NOT_A_TOUCH) & (rules[:-1] == NOT_A_TOUCH)) + 1
    out = []
    for t in starts[(starts > 60) & (starts < n - 500)]:
        end = t + np.argmax(rules[t:] == NOT_A_TOUCH)  # the touch bars are over
        level = round(path[t] / 10) * 10
        approach = 1 if path[end - 1] < level else -1  # the side price is on by then
        move = (path[end + 40] - level) * approach  # where the reaction took price
        out.append((int(rules[t]), 1 if move > 15 else -1 if move < -15 else 0))
    return out


@pytest.mark.parametrize("world", ["planted", "null"])
def test_the_touch_rule_decides_the_reaction_only_in_the_planted_world(world):
    seen = touches(world)
    assert len(seen) > 400

    def after(rules):
        moves = [m for r, m in seen if r in rules]
        reacted = [m for m in moves if m != 0]
        return len(reacted) / len(moves), np.mean([m > 0 for m in reacted]) if reacted else None

    pulled, replenished = after({TOUCH_PULL, TOUCH_CONSUME}), after({TOUCH_REPLENISH})
    quiet = after({TOUCH_QUIET})
    if world == "planted":
        assert pulled[0] > 0.7 and pulled[1] > 0.85, pulled  # mostly break
        assert replenished[0] > 0.7 and replenished[1] < 0.15, replenished  # mostly bounce
        assert quiet[0] < 0.15, quiet
    else:  # reactions come at random moments: a touch is followed by one no more than anything
        assert max(pulled[0], replenished[0], quiet[0]) < 0.1, (pulled, replenished, quiet)


def reactions_per_day(world: str) -> float:
    """Reactions a day over two months of generated paths (moves of 1.8 SPY dollars in 30 s)."""
    days = trading_days(dt.date(2025, 9, 1), dt.date(2025, 10, 31))
    count = 0
    for day in days:
        path, _ = sample_path(day, shape=MarketShape(world=world))
        fast = np.abs(path[30:] - path[:-30]) > 18.0
        count += np.sum(fast[1:] & ~fast[:-1])
    return count / len(days)


def test_both_worlds_react_about_as_often():
    planted, null = reactions_per_day("planted"), reactions_per_day("null")
    assert planted > 5 and null == pytest.approx(planted, rel=0.15), (planted, null)
