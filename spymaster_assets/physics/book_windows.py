"""Windowed reads of the bronze MBP-10 book for barrier physics.

A full day holds millions of books, but barrier physics looks at the books inside each touch
window [ts, ts + W_b) and, for the WEAK baseline, at one number per book (the defending side's
10-level depth) over the lookback before ts. So: one projected scan computes the depths of the
lookback span (three columns leave the parquet reader), and the level columns are read only for
the rows inside the merged touch windows, a batch of windows at a time, straight into
preallocated integer arrays. Memory stays near the size of the window books as int32 ticks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from spymaster_assets.market.dbn_format import N_LEVELS, level_field
from spymaster_assets.physics.barrier import BookArrays, Depths, depth_expr, fill_book_arrays

LEVEL_COLUMNS = [
    level_field(f"{side}_{kind}", k)
    for k in range(N_LEVELS)
    for side in ("bid", "ask")
    for kind in ("px", "sz")
]
BATCH_ROWS = 400_000  # window books converted per scan: bounds the float64 frame in memory


@dataclass
class WindowBooks:
    books: BookArrays  # every book inside a touch window, in ts order
    depths: Depths  # every book of the lookback span: its defending-side depths
    windows: int  # merged touch windows
    scans: int  # scans of the parquet file for the level columns


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


def _batches(windows: np.ndarray, book_ts: np.ndarray, batch_rows: int) -> list[np.ndarray]:
    """Consecutive groups of windows holding about batch_rows books each."""
    rows = np.searchsorted(book_ts, windows[:, 1]) - np.searchsorted(book_ts, windows[:, 0])
    groups, current, held = [], [], 0
    for w, n in zip(windows, rows, strict=True):
        if current and held + n > batch_rows:
            groups.append(np.array(current))
            current, held = [], 0
        current.append(w)
        held += n
    if current:
        groups.append(np.array(current))
    return groups


def read_window_books(
    books: pl.LazyFrame,
    signal_ts: np.ndarray,
    window_ns: int,
    lookback_ns: int,
    tick: float,
    batch_rows: int = BATCH_ROWS,
) -> WindowBooks:
    """The books barrier physics needs for signals at `signal_ts` from a bronze MBP-10 scan
    (sorted by ts_event)."""
    windows = merged_windows(signal_ts, window_ns)
    if len(windows) == 0:
        empty = np.zeros(0, np.int64)
        return WindowBooks(BookArrays.allocate(0), Depths(empty, empty, empty), 0, 0)
    lo = int(windows[0, 0]) - lookback_ns
    hi = int(windows[-1, 1])
    span = (
        books.filter(pl.col("ts_event").is_between(lo, hi, closed="left"))
        .select("ts_event", depth_expr("bid"), depth_expr("ask"))
        .collect()
    )
    book_ts = span["ts_event"].to_numpy()
    depths = Depths(book_ts, span["bid_depth"].to_numpy(), span["ask_depth"].to_numpy())
    wanted = inside(book_ts, windows)
    out = BookArrays.allocate(int(wanted.sum()))
    filled = 0
    groups = _batches(windows, book_ts, batch_rows)
    for group in groups:
        frame = (
            books.filter(
                pl.col("ts_event").is_between(int(group[0, 0]), int(group[-1, 1]), closed="left")
            )
            .select("ts_event", *LEVEL_COLUMNS)
            .collect()
        )
        frame = frame.filter(pl.Series(inside(frame["ts_event"].to_numpy(), group)))
        fill_book_arrays(frame, tick, out, filled)
        filled += frame.height
    if filled != len(out.ts):
        raise RuntimeError(
            f"the book changed while it was read: {filled} window books, expected {len(out.ts)}"
        )
    return WindowBooks(out, depths, len(windows), len(groups))
