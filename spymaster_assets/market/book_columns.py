"""MBP-10 records to columns in one compiled pass.

A decoded chunk is a buffer of fixed 368-byte records. Gathering the kept rows field by field
reads the buffer 69 times with a stride; this kernel reads each kept record once and writes
every column, converting prices to ES points with a null mask, and counts on the way what the
bronze checks need (off-grid prices, sizes on empty levels, crossed and locked books, unknown
codes).

Record layout (little-endian 64-bit words, the same in DBN v1-v3; `dbn_format.MBP10_DTYPE`):
w0 header, w1 ts_event, w2 price, w3 size | action << 32 | side << 40 | flags << 48 |
depth << 56, w4 ts_recv, w5 ts_in_delta | sequence << 32, then per level k at 6 + 4k:
bid_px, ask_px, bid_sz | ask_sz << 32, bid_ct | ask_ct << 32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from spymaster_assets.market.dbn_format import MBP10_DTYPE, PRICE_SCALE, UNDEF_PRICE
from spymaster_assets.vocabulary import N_LEVELS

WORDS = MBP10_DTYPE.itemsize // 8
ES_GRID = PRICE_SCALE // 4  # ES trades on a 0.25-point grid, in fixed-point units
VALID_ACTIONS = b"ACMTFRN"
VALID_SIDES = b"ABN"
# Issue counters, in this order.
ISSUES = ("ts_event_not_positive", "ts_recv_not_positive", "unknown_action", "unknown_side",
          "depth_out_of_range", "price_off_grid", "size_on_empty_level", "crossed",
          "locked")  # fmt: skip


@dataclass
class BookColumns:
    ts_event: np.ndarray
    ts_recv: np.ndarray
    sequence: np.ndarray
    price: np.ndarray
    price_null: np.ndarray
    size: np.ndarray
    action: np.ndarray  # uint8 character codes
    side: np.ndarray
    flags: np.ndarray
    depth: np.ndarray
    level_px: np.ndarray  # (2 * N_LEVELS, n): bid_px_00, ask_px_00, bid_px_01, ...
    level_null: np.ndarray
    level_sz: np.ndarray  # (2 * N_LEVELS, n): bid_sz_00, ask_sz_00, ...
    level_ct: np.ndarray
    side_depth: np.ndarray  # (2, n) int64: each side's 10-level size total (bid, ask)
    issues: dict[str, int]


@njit(cache=True, nogil=True)
def _gather(words, rows, actions, sides, ts_event, ts_recv, sequence, price, price_null, size,
            action, side, flags, depth, level_px, level_null, level_sz, level_ct, side_depth,
            issues):  # fmt: skip
    scale = 1.0 * PRICE_SCALE
    low32 = np.int64(0xFFFFFFFF)
    for i in range(rows.shape[0]):
        r = rows[i]
        te = words[r, 1]
        tr = words[r, 4]
        ts_event[i] = te
        ts_recv[i] = tr
        if te <= 0:
            issues[0] += 1
        if tr <= 0:
            issues[1] += 1
        p = words[r, 2]
        price_null[i] = p == UNDEF_PRICE
        price[i] = 0.0 if p == UNDEF_PRICE else p / scale
        w3 = words[r, 3]
        size[i] = w3 & low32
        a = (w3 >> 32) & 0xFF
        s = (w3 >> 40) & 0xFF
        action[i] = a
        side[i] = s
        flags[i] = (w3 >> 48) & 0xFF
        d = (w3 >> 56) & 0xFF
        depth[i] = d
        known = False
        for c in actions:
            known = known or a == c
        if not known:
            issues[2] += 1
        known = False
        for c in sides:
            known = known or s == c
        if not known:
            issues[3] += 1
        if d >= 10:
            issues[4] += 1
        sequence[i] = (words[r, 5] >> 32) & low32
        sized_empty = False
        bid_total = 0
        ask_total = 0
        for k in range(10):
            base = 6 + 4 * k
            for j in range(2):  # bid, ask
                px = words[r, base + j]
                col = 2 * k + j
                if px == UNDEF_PRICE:
                    level_null[col, i] = True
                    level_px[col, i] = 0.0
                else:
                    level_null[col, i] = False
                    level_px[col, i] = px / scale
                    if px % 250_000_000 != 0:
                        issues[5] += 1
            sz = words[r, base + 2]
            ct = words[r, base + 3]
            bid_sz = sz & low32
            ask_sz = (sz >> 32) & low32
            # Databento's empty levels carry size 0: book depth is then a plain sum of sizes
            if (words[r, base] == UNDEF_PRICE and bid_sz != 0) or (
                words[r, base + 1] == UNDEF_PRICE and ask_sz != 0
            ):
                sized_empty = True
            level_sz[2 * k, i] = bid_sz
            level_sz[2 * k + 1, i] = ask_sz
            level_ct[2 * k, i] = ct & low32
            level_ct[2 * k + 1, i] = (ct >> 32) & low32
            bid_total += bid_sz
            ask_total += ask_sz
        side_depth[0, i] = bid_total
        side_depth[1, i] = ask_total
        if sized_empty:
            issues[6] += 1
        bid = words[r, 6]
        ask = words[r, 7]
        if bid != UNDEF_PRICE and ask != UNDEF_PRICE:
            if bid > ask:
                issues[7] += 1
            elif bid == ask:
                issues[8] += 1


def allocate(n: int) -> BookColumns:
    """Columns for up to n books: a buffer to gather chunk after chunk into."""
    return BookColumns(
        ts_event=np.empty(n, np.int64),
        ts_recv=np.empty(n, np.int64),
        sequence=np.empty(n, np.int64),
        price=np.empty(n, np.float64),
        price_null=np.empty(n, np.bool_),
        size=np.empty(n, np.uint32),
        action=np.empty(n, np.uint8),
        side=np.empty(n, np.uint8),
        flags=np.empty(n, np.uint8),
        depth=np.empty(n, np.uint8),
        level_px=np.empty((2 * N_LEVELS, n), np.float64),
        level_null=np.empty((2 * N_LEVELS, n), np.bool_),
        level_sz=np.empty((2 * N_LEVELS, n), np.uint32),
        level_ct=np.empty((2 * N_LEVELS, n), np.uint32),
        side_depth=np.empty((2, n), np.int64),
        issues={},
    )


def _head(columns: BookColumns, n: int) -> BookColumns:
    """The first n books of a buffer (views)."""
    return BookColumns(
        **{
            f: getattr(columns, f)[..., :n]
            for f in BookColumns.__dataclass_fields__
            if f != "issues"
        },
        issues={},
    )


_ACTIONS = np.frombuffer(VALID_ACTIONS, np.uint8).astype(np.int64)
_SIDES = np.frombuffer(VALID_SIDES, np.uint8).astype(np.int64)


def book_columns(
    records: np.ndarray, rows: np.ndarray, out: BookColumns | None = None
) -> BookColumns:
    """Columns of `records[rows]` (records: an MBP-10 structured array, rows: int64 indices),
    written into `out` when given (a buffer of at least len(rows) books: fresh memory for every
    chunk would cost as much in page faults as the gathering itself)."""
    assert records.dtype == MBP10_DTYPE and records.flags.c_contiguous
    words = records.view(np.int64).reshape(len(records), WORDS)
    n = len(rows)
    if out is None or len(out.ts_event) < n:
        out = allocate(n)
    out = _head(out, n)
    counts = np.zeros(len(ISSUES), np.int64)
    _gather(
        words,
        rows.astype(np.int64),
        _ACTIONS,
        _SIDES,
        out.ts_event,
        out.ts_recv,
        out.sequence,
        out.price,
        out.price_null,
        out.size,
        out.action,
        out.side,
        out.flags,
        out.depth,
        out.level_px,
        out.level_null,
        out.level_sz,
        out.level_ct,
        out.side_depth,
        counts,
    )
    out.issues = dict(zip(ISSUES, (int(c) for c in counts), strict=True))
    return out
