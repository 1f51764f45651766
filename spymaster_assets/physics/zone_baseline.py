"""zone_baseline (SPEC §6): the mean defending-side depth inside each signal's zone over the
books of the WEAK_LOOKBACK before its ts, the depth the level normally holds.

One pass over the day's books in ts_event order keeps, for every price that lies in some
signal's zone, a running sum per side of the size each book so far listed there. The zone's
total over a lookback is the difference of two snapshots of those sums, taken when the stream
reaches the lookback's start and its end (ts itself: the lookback is [ts - lookback, ts)). So
every book is read once, twenty additions each, whatever the number of signals, and nothing but
one running sum per zone price is held.

Books come as bronze's gathered level columns (market/book_columns.py): `level_px` and
`level_sz` of shape (2 * N_LEVELS, n) in the order bid_00, ask_00, bid_01, ... An empty level's
price is 0.0 there, which no zone contains, so no null mask is needed.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.vocabulary import N_LEVELS, level_field

BID, ASK = 0, 1  # rows of the running sums; a gathered column's side is its index % 2


@njit(cache=True, nogil=True)
def _accumulate(ts, level_px, level_sz, tick, base, running, seen, q_ts, q_side,
                q_lo, q_hi, next_query, snap_sum, snap_books):  # fmt: skip
    """Add one chunk of books (ts_event ascending) to the running sums, snapshotting every
    query whose time the stream reaches first (a query at time q sees the books with
    ts_event < q). Between two snapshots the books are added column by column: the gathered
    columns are contiguous, a book's twenty levels are not."""
    q = next_query[0]
    width = running.shape[1]
    n = ts.shape[0]
    inv_tick = 1.0 / tick
    i = 0
    while i < n:
        while q < q_ts.shape[0] and q_ts[q] <= ts[i]:
            total = 0
            for p in range(q_lo[q], q_hi[q] + 1):
                total += running[q_side[q], p]
            snap_sum[q] = total
            snap_books[q] = seen[0]
            q += 1
        end = n  # the books before the next snapshot
        if q < q_ts.shape[0]:
            end = i + np.searchsorted(ts[i:], q_ts[q], side="left")
        for col in range(level_px.shape[0]):
            side = col % 2
            for k in range(i, end):
                # an empty level's price is 0.0: far below any zone, so no null test needed
                p = np.int64(round(level_px[col, k] * inv_tick)) - base
                if 0 <= p < width:
                    running[side, p] += level_sz[col, k]
        seen[0] += end - i
        i = end
    next_query[0] = q


class ZoneBaselines:
    """The zone_baseline of every signal, fed chunk after chunk of books in ts_event order."""

    def __init__(
        self,
        sig_ts: np.ndarray,
        level_ticks: np.ndarray,
        is_up: np.ndarray,
        zone_ticks: int,
        lookback_ns: int,
        tick: float,
    ):
        n = len(sig_ts)
        self._tick = tick
        # integer zone prices: lo <= p <= hi around a level that may fall between ticks
        lo = np.ceil(np.asarray(level_ticks, np.float64) - zone_ticks).astype(np.int64)
        hi = np.floor(np.asarray(level_ticks, np.float64) + zone_ticks).astype(np.int64)
        self._base = int(lo.min()) if n else 0
        if n and self._base <= 0:  # the kernel reads an empty level's 0.0 as out of every zone
            raise ValueError(f"a zone reaches down to {self._base * tick} (price <= 0)")
        width = int(hi.max()) - self._base + 1 if n else 1
        self._running = np.zeros((2, max(width, 1)), np.int64)
        self._seen = np.zeros(1, np.int64)
        # queries 0..n-1 open the lookbacks, n..2n-1 close them; snapshots in time order
        times = np.concatenate([sig_ts - lookback_ns, sig_ts]).astype(np.int64)
        self._order = np.argsort(times, kind="stable")
        side = np.where(is_up, ASK, BID).astype(np.int64)
        self._q_ts = np.ascontiguousarray(times[self._order])
        self._q_side = np.ascontiguousarray(np.concatenate([side, side])[self._order])
        self._q_lo = np.ascontiguousarray(np.concatenate([lo, lo])[self._order] - self._base)
        self._q_hi = np.ascontiguousarray(np.concatenate([hi, hi])[self._order] - self._base)
        self._next = np.zeros(1, np.int64)
        self._sum = np.zeros(2 * n, np.int64)
        self._books = np.zeros(2 * n, np.int64)
        self._n = n
        self._last_ts = np.iinfo(np.int64).min

    def observe(self, ts, level_px, level_sz) -> None:
        """One chunk of books, in ts_event order and after every chunk before it."""
        if len(ts) == 0 or self._n == 0:
            return
        if ts[0] < self._last_ts:
            raise ValueError("zone baselines need the books in ts_event order")
        self._last_ts = int(ts[-1])
        _accumulate(ts, level_px, level_sz, self._tick, self._base, self._running,
                    self._seen, self._q_ts, self._q_side, self._q_lo, self._q_hi, self._next,
                    self._sum, self._books)  # fmt: skip

    def observe_frame(self, books: pl.DataFrame) -> None:
        """Books as bronze MBP-10 columns (ts_event, bid_px_00, ask_px_00, ... sizes)."""
        self.observe(books["ts_event"].to_numpy(), *gathered_levels(books))

    def values(self) -> np.ndarray:
        """zone_baseline per signal (NaN when the lookback holds no book), once the stream has
        passed every signal's ts (the books after the last one are not needed)."""
        _accumulate(np.array([np.iinfo(np.int64).max]), np.zeros((2 * N_LEVELS, 1)),
                    np.zeros((2 * N_LEVELS, 1), np.int64),
                    self._tick, self._base, self._running, self._seen, self._q_ts, self._q_side,
                    self._q_lo, self._q_hi, self._next, self._sum, self._books)  # fmt: skip
        total = np.empty(2 * self._n, np.int64)
        books = np.empty(2 * self._n, np.int64)
        total[self._order] = self._sum
        books[self._order] = self._books
        n = self._n
        count = books[n:] - books[:n]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (total[n:] - total[:n]) / np.maximum(count, 1), np.nan)


def gathered_levels(books: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(level_px, level_sz), each (2 * N_LEVELS, n), from bronze MBP-10 columns (an empty
    level's price as 0.0, as bronze gathers it)."""
    n = books.height
    px = np.zeros((2 * N_LEVELS, n))
    sz = np.zeros((2 * N_LEVELS, n), np.int64)
    for k in range(N_LEVELS):
        for j, side in enumerate(("bid", "ask")):
            prices = books[level_field(f"{side}_px", k)]
            px[2 * k + j] = prices.cast(pl.Float64).fill_null(0.0).to_numpy()
            sz[2 * k + j] = books[level_field(f"{side}_sz", k)].to_numpy()
    return px, sz
