"""Windowed book reads give barrier physics exactly what the whole book gives it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.physics.barrier import (
    BarrierParams,
    _mean_and_quantile,
    barrier_physics,
    book_arrays,
    depths_of,
)
from spymaster_assets.physics.book_windows import (
    WindowBookReader,
    WindowCapture,
    inside,
    merged_windows,
)
from spymaster_assets_tests.test_physics_kernels import book_frame, trade_frame

S = 10**9
T0 = 1_763_650_000 * S


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 500), max_size=30), st.integers(1, 60))
def test_merged_windows_cover_exactly_the_union_of_windows(starts, length):
    windows = merged_windows(np.array(starts, np.int64), length)
    assert (windows[1:, 0] > windows[:-1, 1]).all()  # disjoint, sorted, not touching
    probe = np.arange(-5, 600)
    expected = np.array([any(s <= t < s + length for s in starts) for t in probe])
    assert (inside(probe, windows) == expected).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=400),
    st.floats(0.0, 1.0),
)
def test_counting_quantile_is_numpys_linear_quantile(values, q):
    arr = np.array(values, np.int64)
    mean, quantile = _mean_and_quantile(arr, q)
    assert quantile == np.quantile(arr.astype(np.float64), q)
    assert mean == np.float64(arr.sum()) / len(arr)


def test_counting_quantile_falls_back_on_a_wide_range():
    arr = np.array([0, 10**9, 7, 3], np.int64)
    assert _mean_and_quantile(arr, 0.2)[1] == np.quantile(arr.astype(np.float64), 0.2)


def random_session(seed: int):
    """A few hundred books and trades over ten minutes, and signals at random instants."""
    rng = np.random.default_rng(seed)
    books, ts = [], T0
    for _ in range(int(rng.integers(50, 300))):
        ts += int(rng.integers(1, 4 * S))
        mid = 4000 + int(rng.integers(-6, 7))
        bids = {(mid - k) * 0.25: int(rng.integers(1, 150)) for k in range(1, 11)}
        asks = {
            (mid + k) * 0.25: int(rng.integers(1, 150)) for k in range(0, 10) if rng.random() > 0.1
        }
        books.append((ts, bids, asks))
    trades = sorted(
        (
            T0 + int(rng.integers(0, ts - T0)),
            (4000 + int(rng.integers(-8, 9))) * 0.25,
            int(rng.integers(1, 60)),
            str(rng.choice(["A", "B", "N"])),
        )
        for _ in range(int(rng.integers(0, 200)))
    )
    n = int(rng.integers(1, 12))
    touches = pl.DataFrame(
        {
            "ts_ns": np.sort(T0 + rng.integers(0, ts - T0, n)),
            "level_price": 100.0 + rng.integers(-3, 4, n) * 0.025,
            "direction": rng.choice(["UP", "DOWN"], n),
        }
    )
    return book_frame(books), trade_frame(trades), touches, rng


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 50))
def test_window_books_give_the_same_barrier_physics_as_the_whole_book(seed, batch_rows):
    books, trades, touches, rng = random_session(seed)
    params = BarrierParams(
        int(rng.integers(5, 90)) * S,
        int(rng.integers(5, 200)) * S,
        8,
        float(rng.uniform(0.05, 2.0)),
        0.3,
        1.5,
        0.2,
        1e6,
    )
    whole = barrier_physics(touches, books, trades, params, 10.0, 0.25)
    reader = WindowBookReader(
        books.lazy(),
        touches["ts_ns"].to_numpy(),
        params.window_ns,
        params.lookback_ns,
        0.25,
        batch_rows=batch_rows,
    )
    # what each batch held while it was current (the buffer is reused by the next one)
    seen = []

    def recording(batches):
        for batch in batches:
            seen.append(
                (batch.start_ns, batch.end_ns, *(a.copy() for a in vars(batch.books).values()))
            )
            yield batch

    windowed = barrier_physics(
        touches,
        recording(reader.batches()),
        trades,
        params,
        10.0,
        0.25,
        depths=reader.depths,
        lookback_books=reader.lookback_books(),
    )
    assert windowed.equals(whole)
    # the zone baselines' slices of the lookback span: every book once, in order
    sliced = pl.concat(list(reader.lookback_books()))
    assert sliced["ts_event"].to_list() == reader.depths.ts.tolist()
    # only books inside a window were converted, and every one of them, in order
    windows = merged_windows(touches["ts_ns"].to_numpy(), params.window_ns)
    in_windows = books.filter(pl.Series(inside(books["ts_event"].to_numpy(), windows)))
    full = book_arrays(in_windows, 0.25)
    assert reader.window_books == len(full.ts)
    assert np.array_equal(np.concatenate([b[2] for b in seen]), full.ts)
    assert np.array_equal(np.concatenate([b[5] for b in seen]), full.ask_px)
    assert np.array_equal(np.concatenate([b[4] for b in seen]), full.bid_sz)
    # batches are disjoint spans in time order, each book inside its own batch's span
    for before, after in zip(seen[:-1], seen[1:], strict=True):
        assert before[1] < after[0]
    for start, end, ts, *_ in seen:
        assert ((ts >= start) & (ts < end)).all()
    assert len(windows) == len(reader.windows)
    assert 1 <= reader.scans == len(seen) <= len(windows)
    # depths are read for the lookback span only
    lookback_start = touches["ts_ns"].min() - params.lookback_ns
    assert reader.depths.ts.min(initial=2**62) >= lookback_start
    span = depths_of(books.filter(pl.col("ts_event") >= lookback_start))
    assert (reader.depths.bid[: len(span.bid)] == span.bid[: len(reader.depths.bid)]).all()


def test_no_signals_read_no_books():
    books, _, _, _ = random_session(3)
    reader = WindowBookReader(books.lazy(), np.zeros(0, np.int64), 60 * S, 1800 * S, 0.25)
    assert list(reader.batches()) == [] and reader.window_books == 0 and reader.scans == 0
    assert len(reader.windows) == 0 and len(reader.depths.ts) == 0


def test_a_touch_outside_every_batch_is_an_error_not_a_silent_zero():
    books, trades, touches, _ = random_session(5)
    params = BarrierParams(30 * S, 60 * S, 8, 0.5, 0.3, 1.5, 0.2, 1e6)
    reader = WindowBookReader(books.lazy(), touches["ts_ns"].to_numpy()[:0], 30 * S, 60 * S, 0.25)
    with pytest.raises(ValueError, match="fall in no batch"):
        barrier_physics(
            touches, reader.batches(), trades, params, 10.0, 0.25, depths=reader.depths,
            lookback_books=reader.lookback_books(),
        )  # fmt: skip


def gathered(books: pl.DataFrame):
    """A book frame in bronze's gathered layout: ts, (20, n) prices (0.0 where empty) with a
    null mask, (20, n) sizes (rows bid_00, ask_00, bid_01, ...), (2, n) side depths."""
    names = [f"{side}_{{}}_{k:02d}" for k in range(10) for side in ("bid", "ask")]
    px = np.stack([books[n.format("px")].fill_null(0.0).to_numpy() for n in names])
    null = np.stack([books[n.format("px")].is_null().to_numpy() for n in names])
    sz = np.stack([books[n.format("sz")].to_numpy().astype(np.uint32) for n in names])
    depth = np.stack([sz[0::2].astype(np.int64).sum(axis=0), sz[1::2].astype(np.int64).sum(axis=0)])
    return books["ts_event"].to_numpy(), px, null, sz, depth


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 400), st.sampled_from([1, 7, 1 << 16]))
def test_barrier_from_the_stream_equals_barrier_from_the_file(seed, chunk, capacity):
    """bronze/es_mbp10 feeds barrier physics chunk by chunk while it writes the book: windows
    that straddle chunks, windows with no book, chunks with no window, the same frame; with
    room for few books the kept books are moved to the front and the arrays grow."""
    books, trades, touches, rng = random_session(seed)
    params = BarrierParams(
        int(rng.integers(5, 90)) * S, int(rng.integers(5, 200)) * S, 8,
        float(rng.uniform(0.05, 2.0)), 0.3, 1.5, 0.2, 1e6,
    )  # fmt: skip
    whole = barrier_physics(touches, books, trades, params, 10.0, 0.25)
    capture = WindowCapture(touches, trades, params, 10.0, 0.25, capacity)
    ts, px, null, sz, depth = gathered(books)
    for lo in range(0, len(ts), chunk):
        part = slice(lo, lo + chunk)
        capture.observe(ts[part], px[:, part], null[:, part], sz[:, part], depth[:, part])
    assert capture.valid
    assert capture.frame().equals(whole)
    windows = merged_windows(touches["ts_ns"].to_numpy(), params.window_ns)
    assert capture.window_books == int(inside(ts, windows).sum())
    if len(windows):  # the books of the span the file path reads for the baselines
        span = (ts >= windows[0, 0] - params.lookback_ns) & (ts < windows[-1, 1])
        assert capture.lookback_books == int(span.sum())


def test_books_out_of_time_order_send_barrier_physics_to_the_file():
    books, trades, touches, rng = random_session(7)
    params = BarrierParams(30 * S, 60 * S, 8, 0.5, 0.3, 1.5, 0.2, 1e6)
    capture = WindowCapture(touches, trades, params, 10.0, 0.25)
    ts, px, null, sz, depth = gathered(books)
    half = len(ts) // 2
    capture.observe(ts[half:], px[:, half:], null[:, half:], sz[:, half:], depth[:, half:])
    capture.observe(ts[:half], px[:, :half], null[:, :half], sz[:, :half], depth[:, :half])
    assert not capture.valid
    with pytest.raises(RuntimeError, match="read the bronze file"):
        capture.frame()
