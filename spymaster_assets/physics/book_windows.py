"""Windowed reads of the bronze MBP-10 book for barrier physics.

A full day holds millions of books, but barrier physics looks at the books inside each touch
window [ts, ts + W_b) and, for the WEAK baseline, at one number per book (the defending side's
10-level depth) over the lookback before ts. So: one projected scan computes the depths of the
lookback span (three columns leave the parquet reader), and the level columns are read only for
the rows inside the merged touch windows, a batch of windows at a time, into one reused buffer
of int32 ticks that barrier physics consumes before the next batch is read. Memory stays near
one batch, however many books the day's windows hold.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.physics.barrier import (
    BOOK_FIELDS,
    NO_PRICE,
    BarrierAccumulator,
    BarrierParams,
    BookArrays,
    BookBatch,
    Depths,
    depth_expr,
    fill_book_arrays,
)
from spymaster_assets.vocabulary import N_LEVELS, level_field

LEVEL_COLUMNS = [
    level_field(f"{side}_{kind}", k)
    for k in range(N_LEVELS)
    for side in ("bid", "ask")
    for kind in ("px", "sz")
]
# The window-book arrays of the last finished capture, kept for the next day of the run: a
# busy day holds about a million books at once, and fresh arrays of that size cost as much in
# page faults as the capture itself.
_spare_window_books: list[BookArrays] = []
BATCH_ROWS = 400_000  # window books converted per scan: bounds the float64 frame in memory


def merged_windows(starts: np.ndarray, length_ns: int) -> np.ndarray:
    """[start, start + length) intervals merged where they overlap or touch: (k, 2) int64."""
    if len(starts) == 0:
        return np.zeros((0, 2), np.int64)
    s = np.sort(np.asarray(starts, np.int64))
    ends = s + length_ns
    # a new interval starts where this start lies beyond every earlier end
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(s), bool)
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], len(s)] - 1
    return np.stack([s[first], reach[last]], axis=1)


def inside(ts: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Which timestamps fall in one of the sorted, disjoint [start, end) windows."""
    k = np.searchsorted(windows[:, 0], ts, side="right") - 1
    ok = k >= 0
    ok[ok] = ts[ok] < windows[k[ok], 1]
    return ok


def _batches(
    windows: np.ndarray, book_ts: np.ndarray, batch_rows: int
) -> list[tuple[np.ndarray, int]]:
    """Consecutive groups of windows holding about batch_rows books each, with their books."""
    rows = np.searchsorted(book_ts, windows[:, 1]) - np.searchsorted(book_ts, windows[:, 0])
    groups, current, held = [], [], 0
    for w, n in zip(windows, rows, strict=True):
        if current and held + n > batch_rows:
            groups.append((np.array(current), held))
            current, held = [], 0
        current.append(w)
        held += int(n)
    if current:
        groups.append((np.array(current), held))
    return groups


class WindowBookReader:
    """The books barrier physics needs for signals at `signal_ts`, from a bronze MBP-10 scan
    (sorted by ts_event): the lookback depths at once, the window books a batch at a time."""

    def __init__(
        self,
        books: pl.LazyFrame,
        signal_ts: np.ndarray,
        window_ns: int,
        lookback_ns: int,
        tick: float,
        batch_rows: int = BATCH_ROWS,
    ):
        self._books = books
        self._tick = tick
        self._batch_rows = batch_rows
        self.windows = merged_windows(signal_ts, window_ns)
        self.scans = 0  # scans of the level columns so far
        if len(self.windows) == 0:
            empty = np.zeros(0, np.int64)
            self.depths = Depths(empty, empty, empty)
            self._groups: list[tuple[np.ndarray, int]] = []
            return
        lo = int(self.windows[0, 0]) - lookback_ns
        hi = int(self.windows[-1, 1])
        span = (
            books.filter(pl.col("ts_event").is_between(lo, hi, closed="left"))
            .select("ts_event", depth_expr("bid"), depth_expr("ask"))
            .collect(engine="streaming")
        )
        book_ts = span["ts_event"].to_numpy()
        self.depths = Depths(book_ts, span["bid_depth"].to_numpy(), span["ask_depth"].to_numpy())
        self._groups = _batches(self.windows, book_ts, batch_rows)

    def lookback_books(self) -> Iterator[pl.DataFrame]:
        """The books of the lookback span in ts_event order, every price and size column, a
        slice of about batch_rows books at a time (for the zone baselines)."""
        ts = self.depths.ts
        columns = ["ts_event", *LEVEL_COLUMNS]
        for first in range(0, len(ts), self._batch_rows):
            last = min(first + self._batch_rows, len(ts)) - 1
            frame = (
                self._books.filter(pl.col("ts_event").is_between(int(ts[first]), int(ts[last])))
                .select(columns)
                .collect(engine="streaming")
            )
            # books sharing a timestamp across the cut belong to the earlier slice
            frame = frame.filter(
                (pl.col("ts_event") > int(ts[first - 1])) if first else pl.lit(True)
            )
            yield frame

    @property
    def window_books(self) -> int:
        """Books inside the merged windows (every one is converted once)."""
        return sum(rows for _, rows in self._groups)

    def batches(self) -> Iterator[BookBatch]:
        """Consecutive batches of windows with their books, converted into one reused buffer:
        each batch is valid until the next one is produced."""
        buffer = BookArrays.allocate(max((rows for _, rows in self._groups), default=0))
        for group, expected in self._groups:
            start, end = int(group[0, 0]), int(group[-1, 1])
            frame = (
                self._books.filter(pl.col("ts_event").is_between(start, end, closed="left"))
                .select("ts_event", *LEVEL_COLUMNS)
                .collect(engine="streaming")
            )
            self.scans += 1
            frame = frame.filter(pl.Series(inside(frame["ts_event"].to_numpy(), group)))
            if frame.height != expected:
                raise RuntimeError(
                    f"the book changed while it was read: {frame.height} books in "
                    f"[{start}, {end}), expected {expected}"
                )
            fill_book_arrays(frame, self._tick, buffer, 0)
            del frame
            yield BookBatch(start, end, buffer.head(expected))


@njit(cache=True, nogil=True)
def _capture(ts, level_px, level_null, level_sz, tick, starts, ends, first,
             out_ts, bid_px, bid_sz, ask_px, ask_sz, held):  # fmt: skip
    """The books of one chunk (bronze's gathered columns: `level_*` rows bid_00, ask_00,
    bid_01, ...) that fall in the windows [starts, ends) from window `first` on, appended as
    ticks after the `held` books already kept. Returns the new count of kept books (-1 when
    the arrays are full: the caller makes room and calls again)."""
    w = first
    for i in range(ts.shape[0]):
        t = ts[i]
        while w < starts.shape[0] and ends[w] <= t:
            w += 1
        if w >= starts.shape[0] or t < starts[w]:
            continue
        if held >= out_ts.shape[0]:
            return -1
        out_ts[held] = t
        for k in range(N_LEVELS):
            for j in range(2):
                col = 2 * k + j
                px = NO_PRICE if level_null[col, i] else np.int32(round(level_px[col, i] / tick))
                if j == 0:
                    bid_px[held, k] = px
                    bid_sz[held, k] = level_sz[col, i]
                else:
                    ask_px[held, k] = px
                    ask_sz[held, k] = level_sz[col, i]
        held += 1
    return held


class WindowCapture:
    """Barrier physics computed from the bronze MBP-10 stream while it is written, instead of
    reading the finished file back: each chunk of kept books (in ts_event order) adds its
    books' side depths (the lookback baselines) and keeps the books of the merged touch
    windows; each merged window, once the stream has passed its end, goes through the same
    BarrierAccumulator as the file path, and its books are dropped, as are the depths no
    window left needs. Memory: one lookback of depths and the books of one merged window.

    `valid` is False when the books did not come in ts_event order (bronze re-sorts such a file
    after writing it): barrier physics must then read the finished file."""

    def __init__(
        self,
        touches: pl.DataFrame,
        trades: pl.DataFrame,
        params: BarrierParams,
        es_spy_ratio: float,
        tick: float,
        capacity: int | None = None,  # books kept at first (grows as needed); None: the
        # previous capture's arrays, or 65,536 books
    ):
        self.touches = touches
        self._tick = tick
        self._lookback = params.lookback_ns
        self.windows = merged_windows(touches["ts_ns"].to_numpy(), params.window_ns)
        self._starts = np.ascontiguousarray(self.windows[:, 0])
        self._ends = np.ascontiguousarray(self.windows[:, 1])
        self._acc = BarrierAccumulator(touches, trades, params, es_spy_ratio, tick)
        self._depths = np.zeros((3, 1 << 18), np.int64)  # ts, bid, ask of the books kept
        self._kept = 0
        if capacity is None and _spare_window_books:
            self._window_books = _spare_window_books.pop()
        else:
            self._window_books = BookArrays.allocate(max(1, capacity or 1 << 16))
        # Kept books are rows [_first, _held) of _window_books: a finished window only moves
        # _first on; the rows are moved to the front when room is needed (not after every
        # window: a merged window of a busy hour holds hundreds of thousands of books).
        self._first = 0
        self._held = 0
        self._next = 0  # the first merged window not finished yet
        self._last_ts = np.iinfo(np.int64).min
        self.window_books = 0
        self.lookback_books = 0  # books of the span the file path reads for the baselines
        self.valid = True

    def observe(self, ts, level_px, level_null, level_sz, side_depth) -> None:
        """One chunk of kept books: bronze's gathered columns (see market/book_columns.py)."""
        n = len(ts)
        if not self.valid or n == 0 or len(self.windows) == 0:
            return
        if ts[0] < self._last_ts or np.any(ts[1:] < ts[:-1]):
            self.valid = False  # out of order: the file will be re-sorted and read instead
            return
        self._last_ts = int(ts[-1])
        self._acc.zone.observe(ts, level_px, level_sz)
        span_lo = int(self._starts[0]) - self._lookback
        self.lookback_books += int(
            np.searchsorted(ts, self._ends[-1]) - np.searchsorted(ts, span_lo)
        )
        self._keep_depths(ts, side_depth)
        while True:
            w = self._window_books
            held = _capture(ts, level_px, level_null, level_sz, self._tick, self._starts,
                            self._ends, self._next, w.ts, w.bid_px, w.bid_sz, w.ask_px, w.ask_sz,
                            self._held)  # fmt: skip
            if held >= 0:
                break
            self._make_room()  # full: the chunk is captured again from _held
        self._held = held
        self._finish_windows(self._last_ts)

    def _make_room(self) -> None:
        """Move the kept books to the front when that frees at least half the arrays, else
        double them (the kept books moved to the front of the new ones). Moving a busy hour's
        hundreds of thousands of books to free a few rows, chunk after chunk, would cost more
        than the capture itself."""
        w, first, held = self._window_books, self._first, self._held
        if first > 0 and first >= len(w.ts) // 2:
            for f in BOOK_FIELDS:
                part = getattr(w, f)
                part[: held - first] = part[first:held]  # overlapping rows: numpy copies safely
        else:
            grown = BookArrays.allocate(2 * len(w.ts))
            for f in BOOK_FIELDS:
                getattr(grown, f)[: held - first] = getattr(w, f)[first:held]
            self._window_books = grown
        self._first, self._held = 0, held - first

    def _keep_depths(self, ts, side_depth) -> None:
        """Append the chunk's depths, first dropping those older than any unfinished window's
        lookback."""
        if self._next >= len(self.windows):
            return
        oldest = int(self._starts[self._next]) - self._lookback
        drop = int(np.searchsorted(self._depths[0, : self._kept], oldest))
        if drop:
            self._depths[:, : self._kept - drop] = self._depths[:, drop : self._kept]
            self._kept -= drop
        n = len(ts)
        if self._kept + n > self._depths.shape[1]:
            grown = np.zeros((3, max(2 * self._depths.shape[1], self._kept + n)), np.int64)
            grown[:, : self._kept] = self._depths[:, : self._kept]
            self._depths = grown
        self._depths[0, self._kept : self._kept + n] = ts
        self._depths[1:, self._kept : self._kept + n] = side_depth
        self._kept += n

    def _finish_windows(self, passed: int) -> None:
        """Run the merged windows whose end the stream has passed (every one at the end)."""
        d = self._depths[:, : self._kept]
        depths = Depths(d[0], d[1], d[2])
        w = self._window_books
        while self._next < len(self.windows) and self._ends[self._next] <= passed:
            start, end = int(self._starts[self._next]), int(self._ends[self._next])
            first = self._first
            k = int(np.searchsorted(w.ts[first : self._held], end, side="left"))
            self._acc.add(BookBatch(start, end, w.rows(first, first + k)), depths)
            self.window_books += k
            self._first += k  # the finished window's books are dropped
            self._next += 1
        if self._first == self._held:  # nothing kept: start again at the front, for free
            self._first = self._held = 0

    def frame(self) -> pl.DataFrame:
        """The barrier columns, once the whole stream has been observed."""
        if not self.valid:
            raise RuntimeError("the books came out of ts_event order: read the bronze file")
        self._finish_windows(np.iinfo(np.int64).max)
        _spare_window_books[:] = [self._window_books]  # every window is finished: no book kept
        return self._acc.frame()
