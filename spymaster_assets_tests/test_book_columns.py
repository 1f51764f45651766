"""The compiled MBP-10 gather against a plain numpy reference, on random records."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.bronze_es import mbp10_chunk
from spymaster_assets.market.dbn_format import MBP10_DTYPE, PRICE_SCALE, UNDEF_PRICE
from spymaster_assets.vocabulary import BOOK_KINDS, N_LEVELS, level_field

TICK = PRICE_SCALE // 4


def random_records(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=MBP10_DTYPE)
    rec["length"] = MBP10_DTYPE.itemsize // 4
    rec["ts_event"] = rng.integers(0, 2**62, n, dtype=np.uint64)
    rec["ts_recv"] = rng.integers(0, 2**62, n, dtype=np.uint64)
    rec["sequence"] = rng.integers(0, 2**32, n, dtype=np.uint32)
    rec["size"] = rng.integers(0, 2**32, n, dtype=np.uint32)
    rec["flags"] = rng.integers(0, 256, n, dtype=np.uint8)
    rec["depth"] = rng.integers(0, 12, n, dtype=np.uint8)
    rec["action"] = rng.choice(np.array(list(b"ACMTFRNX"), dtype=np.uint8), n).view("S1")
    rec["side"] = rng.choice(np.array(list(b"ABNZ"), dtype=np.uint8), n).view("S1")

    def prices() -> np.ndarray:
        ticks = rng.integers(4 * 5000, 4 * 7000, n) * TICK
        ticks = np.where(rng.random(n) < 0.05, ticks + 1, ticks)  # off the grid
        return np.where(rng.random(n) < 0.1, UNDEF_PRICE, ticks)

    rec["price"] = prices()
    for k in range(N_LEVELS):
        for kind in BOOK_KINDS:
            name = level_field(kind, k)
            rec[name] = prices() if kind.endswith("_px") else rng.integers(0, 2**32, n)
        for side in ("bid", "ask"):  # most empty levels have no size, as in Databento's books
            empty = rec[level_field(f"{side}_px", k)] == UNDEF_PRICE
            rec[level_field(f"{side}_sz", k)][empty & (rng.random(n) < 0.7)] = 0
    return rec


def reference(rec: np.ndarray) -> tuple[pl.DataFrame, int, int, int]:
    """Field by field with numpy: the columns, off-grid prices, crossed and locked books."""

    def points(raw):
        return pl.Series(raw / PRICE_SCALE).set(pl.Series(raw == UNDEF_PRICE), None)

    cols = {
        "ts_event": rec["ts_event"].view(np.int64),
        "ts_recv": rec["ts_recv"].view(np.int64),
        "sequence": rec["sequence"].astype(np.int64),
        "action": rec["action"].astype("U1"),
        "side": rec["side"].astype("U1"),
        "depth": rec["depth"],
        "price": points(rec["price"]),
        "size": rec["size"],
        "flags": rec["flags"],
    }
    off_grid = 0
    for k in range(N_LEVELS):
        for kind in BOOK_KINDS:
            raw = rec[level_field(kind, k)]
            if kind.endswith("_px"):
                off_grid += int(((raw != UNDEF_PRICE) & (raw % TICK != 0)).sum())
                cols[level_field(kind, k)] = points(raw)
            else:
                cols[level_field(kind, k)] = raw
    bid, ask = rec["bid_px_00"], rec["ask_px_00"]
    both = (bid != UNDEF_PRICE) & (ask != UNDEF_PRICE)
    return (
        pl.DataFrame(cols),
        off_grid,
        int((both & (bid > ask)).sum()),
        int((both & (bid == ask)).sum()),
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 300), keep=st.floats(0.0, 1.0))
def test_book_columns_equal_the_field_by_field_reference(seed, n, keep):
    rec = random_records(seed, n)
    rows = np.flatnonzero(np.random.default_rng(seed + 1).random(n) < keep)
    chunk = mbp10_chunk(rec, rows)
    expected, off_grid, crossed, locked = reference(rec[rows])
    assert pl.from_arrow(chunk.table).equals(expected)
    assert (chunk.crossed, chunk.locked) == (crossed, locked)
    errors = dict(e.split(": ") for e in chunk.errors)
    assert errors.get("price_off_grid", "0 rows") == f"{off_grid} rows"
    sub = rec[rows]
    bad_action = int((~np.isin(sub["action"], [c.encode() for c in "ACMTFRN"])).sum())
    assert errors.get("unknown_action", "0 rows") == f"{bad_action} rows"
    assert errors.get("depth_out_of_range", "0 rows") == f"{int((sub['depth'] >= 10).sum())} rows"
    sized_empty = np.zeros(len(sub), bool)
    for k in range(N_LEVELS):
        for side in ("bid", "ask"):
            empty = sub[level_field(f"{side}_px", k)] == UNDEF_PRICE
            sized_empty |= empty & (sub[level_field(f"{side}_sz", k)] != 0)
    sized_empty = int(sized_empty.sum())
    assert errors.get("size_on_empty_level", "0 rows") == f"{sized_empty} rows"
    # each side's 10-level size total, for barrier physics' baselines
    for j, side in enumerate(("bid", "ask")):
        total = sum(sub[level_field(f"{side}_sz", k)].astype(np.int64) for k in range(N_LEVELS))
        assert np.array_equal(chunk.columns.side_depth[j], total), side
