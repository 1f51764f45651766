"""A ten-level limit order book driven toward a latent price, emitting MBP-10 and trades.

Prices are integer ticks. Every event changes the book in one of four ways: a price improvement
inside a wide spread, an aggressive trade at the best price (which depletes that level), an add
or a cancel at some depth. A trade is a two-record event: the `T` record (book before the fill,
no F_LAST) and the book update that the fill causes (F_LAST). When the latent price runs more
than a tick away, the quote in its path is either pulled (`pull_prob`) or swept by a trade. One in `batch_add_prob` adds is
also a two-record event (an add on each side). Complete books (F_LAST) are never crossed,
because improvements only go strictly inside the spread and fills only remove liquidity.

Liquidity episodes (`regime`, per event) break the steady flow on one side for a while, as
real books do around levels: PULL (that side's adds and cancels are mostly cancels: liquidity
withdrawn), REPLENISH (mostly adds: a wall builds) and CONSUME (that side's adds and cancels
give way to aggressive orders that trade against it, the rest move to the other side). A
pulled or consumed side is not replenished: its new quotes and the levels that appear at its
far end hold one contract.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

N_LEVELS = 10
ACTION_ADD = ord("A")
ACTION_CANCEL = ord("C")
ACTION_TRADE = ord("T")
SIDE_ASK = ord("A")
SIDE_BID = ord("B")
SIDE_NONE = ord("N")
FLAG_LAST = 128
EMPTY_LEVEL = np.iinfo(np.int64).min  # no price at this level
# Liquidity episodes: regime code 0 is steady flow, else 1 + 2 * kind + side (0 bid, 1 ask).
PULL, REPLENISH, CONSUME = 0, 1, 2
PULL_ADD_SHARE = 0.02  # of a pulled side's adds and cancels, the adds
REPLENISH_ADD_SHARE = 0.95
CONSUME_TRADE_SCALE = 10.0  # aggressive orders of a consumption, in mean trade sizes
CONSUME_TRADE_SHARE = 0.35  # of a consumed side's adds and cancels, those that become orders


def regime_code(kind, side):
    """1 + 2 * kind + side: of ints, or elementwise of numpy arrays."""
    return 1 + 2 * kind + side


def allocate_outputs(n_events: int) -> dict[str, np.ndarray]:
    """Output buffers for `simulate_book` over `n_events` events (2 records, 1 trade each)."""
    n = 2 * n_events
    return {
        "rec_event": np.empty(n, np.int64),
        "rec_action": np.empty(n, np.uint8),
        "rec_side": np.empty(n, np.uint8),
        "rec_price": np.empty(n, np.int64),
        "rec_size": np.empty(n, np.int64),
        "rec_depth": np.empty(n, np.uint8),
        "rec_flags": np.empty(n, np.uint8),
        "books": np.empty((n, 4, N_LEVELS), np.int64),
        "tr_event": np.empty(n_events, np.int64),
        "tr_price": np.empty(n_events, np.int64),
        "tr_size": np.empty(n_events, np.int64),
        "tr_side": np.empty(n_events, np.uint8),
    }


@njit(cache=True)
def _level_size(u: float, mean: float, depth: int) -> int:
    return 1 + int(-math.log(1.0 - u) * mean * (1.0 + 0.15 * depth))


@njit(cache=True)
def init_book(target: float, mean_size: float, n_active: int, uniforms: np.ndarray) -> np.ndarray:
    """State array [4, N_LEVELS]: bid px, bid size, ask px, ask size (ticks / contracts)."""
    state = np.zeros((4, N_LEVELS), dtype=np.int64)
    best_bid = int(math.floor(target))
    for k in range(N_LEVELS):
        if k < n_active:
            state[0, k] = best_bid - k
            state[1, k] = _level_size(uniforms[2 * k], mean_size, k)
            state[2, k] = best_bid + 1 + k
            state[3, k] = _level_size(uniforms[2 * k + 1], mean_size, k)
        else:
            state[0, k] = EMPTY_LEVEL
            state[2, k] = EMPTY_LEVEL
    return state


@njit(cache=True)
def _snapshot(state: np.ndarray, books: np.ndarray, r: int) -> None:
    for k in range(N_LEVELS):
        books[r, 0, k] = state[0, k]
        books[r, 1, k] = state[1, k]
        books[r, 2, k] = state[2, k]
        books[r, 3, k] = state[3, k]


@njit(cache=True)
def _remove_level(state: np.ndarray, side: int, k: int, n_active: int, new_size: int) -> None:
    """Drop level k of a side (0 bid, 1 ask); a new level appears at the far end."""
    px = 2 * side
    sz = px + 1
    for j in range(k, n_active - 1):
        state[px, j] = state[px, j + 1]
        state[sz, j] = state[sz, j + 1]
    step = -1 if side == 0 else 1
    state[px, n_active - 1] = state[px, n_active - 2] + step
    state[sz, n_active - 1] = new_size


@njit(cache=True)
def _insert_best(state: np.ndarray, side: int, price: int, size: int, n_active: int) -> None:
    px = 2 * side
    sz = px + 1
    for j in range(n_active - 1, 0, -1):
        state[px, j] = state[px, j - 1]
        state[sz, j] = state[sz, j - 1]
    state[px, 0] = price
    state[sz, 0] = size


@njit(cache=True)
def simulate_book(
    state: np.ndarray,
    target: np.ndarray,
    uniforms: np.ndarray,
    n_active: int,
    p_trade: float,
    p_add: float,
    batch_add_prob: float,
    mean_trade: float,
    mean_size: float,
    side_none_prob: float,
    pull_prob: float,
    regime: np.ndarray,
    rec_event: np.ndarray,
    rec_action: np.ndarray,
    rec_side: np.ndarray,
    rec_price: np.ndarray,
    rec_size: np.ndarray,
    rec_depth: np.ndarray,
    rec_flags: np.ndarray,
    books: np.ndarray,
    tr_event: np.ndarray,
    tr_price: np.ndarray,
    tr_size: np.ndarray,
    tr_side: np.ndarray,
) -> tuple[int, int]:
    """Advance `state` through every event; fill record and trade outputs; return their counts.

    `uniforms` is [n_events, 6]; `regime` [n_events] (0: steady flow). Output arrays need room
    for 2 records and 1 trade per event.
    """
    r = 0
    n_tr = 0
    for i in range(len(target)):
        u = uniforms[i]
        regime_kind = (regime[i] - 1) // 2 if regime[i] > 0 else -1
        regime_side = (regime[i] - 1) % 2 if regime[i] > 0 else -1
        # the episode's kind when this event's side (drawn by u[1]) is the side in the episode
        episode_kind = regime_kind if (1 if u[1] >= 0.5 else 0) == regime_side else -1
        consume = False
        if episode_kind == CONSUME and u[0] >= p_trade:
            # u[0] is uniform on [p_trade, 1) here: rescaled, it draws order or other side
            consume = (u[0] - p_trade) / (1.0 - p_trade) < CONSUME_TRADE_SHARE
        # the side in a PULL or CONSUME episode gets no new liquidity worth the name
        drained = regime_side if regime_kind in (PULL, CONSUME) else -1
        gap = target[i] - 0.5 * (state[0, 0] + state[2, 0])
        spread = state[2, 0] - state[0, 0]
        if spread > 1:
            side = 0 if gap >= 0.0 else 1
            price = state[0, 0] + 1 if side == 0 else state[2, 0] - 1
            size = _level_size(u[1], 0.5 * mean_size, 0)
            if side == drained:
                size = 1  # quoted, but only just
            _insert_best(state, side, price, size, n_active)
            rec_event[r] = i
            rec_action[r] = ACTION_ADD
            rec_side[r] = SIDE_BID if side == 0 else SIDE_ASK
            rec_price[r] = price
            rec_size[r] = size
            rec_depth[r] = 0
            rec_flags[r] = FLAG_LAST
            _snapshot(state, books, r)
            r += 1
        elif abs(gap) > 1.0 and u[4] < pull_prob:
            # Price runs away from the book: the quote in its path is pulled (a cancel), as
            # market makers do, rather than swept. The next events re-quote inside the spread.
            book_side = 1 if gap > 0.0 else 0
            price = state[2 * book_side, 0]
            refill = 1 if book_side == drained else _level_size(u[3], mean_size, n_active - 1)
            _remove_level(state, book_side, 0, n_active, refill)
            rec_event[r] = i
            rec_action[r] = ACTION_CANCEL
            rec_side[r] = SIDE_ASK if book_side == 1 else SIDE_BID
            rec_price[r] = price
            rec_size[r] = 0
            rec_depth[r] = 0
            rec_flags[r] = FLAG_LAST
            _snapshot(state, books, r)
            r += 1
        elif abs(gap) > 1.0 or u[0] < p_trade or consume:
            if abs(gap) > 1.0:
                buy = gap > 0.0
            elif consume:
                buy = u[1] >= 0.5  # the side in the episode is the one traded against
            else:
                buy = u[1] < 0.5 + 0.35 * math.tanh(gap)
            book_side = 1 if buy else 0  # a buyer lifts the ask, a seller hits the bid
            level_size = state[2 * book_side + 1, 0]
            if abs(gap) > 1.0:
                qty = level_size
            elif consume:
                scale = CONSUME_TRADE_SCALE * mean_trade
                qty = min(level_size, 1 + int(-math.log(1.0 - u[2]) * scale))
            else:
                qty = min(level_size, 1 + int(-math.log(1.0 - u[2]) * mean_trade))
            price = state[2 * book_side, 0]
            aggressor = SIDE_BID if buy else SIDE_ASK
            if u[5] < side_none_prob:
                aggressor = SIDE_NONE
            rec_event[r] = i
            rec_action[r] = ACTION_TRADE
            rec_side[r] = aggressor
            rec_price[r] = price
            rec_size[r] = qty
            rec_depth[r] = 0
            rec_flags[r] = 0
            _snapshot(state, books, r)
            r += 1
            tr_event[n_tr] = i
            tr_price[n_tr] = price
            tr_size[n_tr] = qty
            tr_side[n_tr] = aggressor
            n_tr += 1
            remaining = level_size - qty
            if remaining == 0:
                refill = 1 if book_side == drained else _level_size(u[3], mean_size, n_active - 1)
                _remove_level(state, book_side, 0, n_active, refill)
            else:
                state[2 * book_side + 1, 0] = remaining
            rec_event[r] = i
            rec_action[r] = ACTION_CANCEL
            rec_side[r] = SIDE_ASK if book_side == 1 else SIDE_BID
            rec_price[r] = price
            rec_size[r] = remaining
            rec_depth[r] = 0
            rec_flags[r] = FLAG_LAST
            _snapshot(state, books, r)
            r += 1
        else:
            is_add = u[0] < p_trade + p_add
            if episode_kind in (PULL, REPLENISH):
                # u[0] is uniform on [p_trade, 1) here: rescaled, it draws add or cancel
                share = PULL_ADD_SHARE if episode_kind == PULL else REPLENISH_ADD_SHARE
                is_add = (u[0] - p_trade) / (1.0 - p_trade) < share
            book_side = 0 if u[1] < 0.5 else 1
            if episode_kind == CONSUME:
                book_side = 1 - book_side  # not an order: the event moves to the other side
            depth = min(n_active - 1, int(-math.log(1.0 - u[2]) * 2.5))
            amount = 1 + int(-math.log(1.0 - u[3]) * 0.4 * mean_size)
            if is_add and u[4] < batch_add_prob:
                # First half of a two-record event: an add on the other side, not F_LAST.
                other = 1 - book_side
                state[2 * other + 1, depth] += amount
                rec_event[r] = i
                rec_action[r] = ACTION_ADD
                rec_side[r] = SIDE_ASK if other == 1 else SIDE_BID
                rec_price[r] = state[2 * other, depth]
                rec_size[r] = state[2 * other + 1, depth]
                rec_depth[r] = depth
                rec_flags[r] = 0
                _snapshot(state, books, r)
                r += 1
            price = state[2 * book_side, depth]
            if is_add:
                state[2 * book_side + 1, depth] += amount
                remaining = state[2 * book_side + 1, depth]
            else:
                remaining = state[2 * book_side + 1, depth] - amount
                if regime_kind == PULL and book_side == drained:
                    # pulled down to a token contract, not removed: a removed level would be
                    # re-quoted (an add) by the next event, and the pull would look like churn
                    remaining = max(remaining, 1)
                    state[2 * book_side + 1, depth] = remaining
                elif remaining <= 0:
                    remaining = 0
                    refill = (
                        1 if book_side == drained else _level_size(u[5], mean_size, n_active - 1)
                    )
                    _remove_level(state, book_side, depth, n_active, refill)
                else:
                    state[2 * book_side + 1, depth] = remaining
            rec_event[r] = i
            rec_action[r] = ACTION_ADD if is_add else ACTION_CANCEL
            rec_side[r] = SIDE_ASK if book_side == 1 else SIDE_BID
            rec_price[r] = price
            rec_size[r] = remaining
            rec_depth[r] = depth
            rec_flags[r] = FLAG_LAST
            _snapshot(state, books, r)
            r += 1
    return r, n_tr
