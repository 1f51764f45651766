"""The generator's Numba kernels: invariants on random inputs, and compiled == interpreted."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
from spymaster_assets.sample.price_path import latent_path


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


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_latent_path_compiled_matches_interpreted_python(seed, reaction_prob, break_share):
    rng = np.random.default_rng(seed)
    n = 3_000
    args = (
        6800.0,
        np.full(n, 0.3),
        rng.standard_normal(n),
        rng.random(3 * n),
        6800.0,
        1 / 7200,
        200,
        2800,
        10.0,
        0.5,
        reaction_prob,
        break_share,
        24.0,
        150,
    )
    assert np.allclose(latent_path(*args), latent_path.py_func(*args))


def test_reactions_move_price_two_dollars_either_way():
    rng = np.random.default_rng(1)
    n = 20_000
    path = latent_path(
        6800.0,
        np.full(n, 0.35),
        rng.standard_normal(n),
        rng.random(3 * n),
        6800.0,
        1 / 7200,
        0,
        n,
        10.0,
        0.5,
        1.0,
        0.5,
        24.0,
        150,
    )
    moves = path[150:] - path[:-150]
    assert moves.max() > 20.0 and moves.min() < -20.0  # $2 SPY = 20 ES points within minutes
