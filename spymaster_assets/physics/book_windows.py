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

from spymaster_assets.market.dbn_format import N_LEVELS, level_field
from spymaster_assets.physics.barrier import (
    BookArrays,
    BookBatch,
    Depths,
    depth_expr,
    fill_book_arrays,
)

LEVEL_COLUMNS = [
    level_field(f"{side}_{kind}", k)
    for k in range(N_LEVELS)
    for side in ("bid", "ask")
    for kind in ("px", "sz")
]
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
