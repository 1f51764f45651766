"""Barrier physics (SPEC §6): what the defending side of the ES book did in the touch window.

The defending side is the ask for UP (resistance) and the bid for DOWN (support); the zone is
every price within ±BARRIER_ZONE_ES_TICKS of the level in ES. Walking consecutive complete books
of the window [ts, ts + W_b): at each zone price on the defending side, a size increase is
added liquidity; a decrease is filled up to the aggressive volume that traded at that price
against that side between the two books, the rest canceled.

The state compares those flows with F_thresh = F_THRESH_FRAC x zone_baseline, the depth the
zone normally holds (physics/zone_baseline.py), so a state means the same on a quiet day and on
a real ES day with thousands of contracts per level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.physics.zone_baseline import ZoneBaselines
from spymaster_assets.vocabulary import BARRIER_STATES, N_LEVELS, level_field

STATES = BARRIER_STATES
VACUUM, CONSUMED, WALL, ABSORPTION, WEAK, NEUTRAL = range(6)
NO_PRICE = -1  # an empty book level (prices are positive ticks)
BUY, SELL = 1, -1  # aggressor codes: a buy lifts the ask, a sell hits the bid


@dataclass(frozen=True)
class BarrierParams:
    window_ns: int
    lookback_ns: int
    zone_ticks: int
    f_thresh_frac: float  # F_thresh = f_thresh_frac x zone_baseline
    r_vac: float
    r_wall: float
    weak_percentile: float
    ratio_cap: float


@njit(cache=True)
def _size_at(px: np.ndarray, sz: np.ndarray, row: int, price: int) -> int:
    for k in range(px.shape[1]):
        if px[row, k] == price:
            return sz[row, k]
    return 0


@njit(cache=True)
def _listed(px: np.ndarray, row: int, price: int) -> bool:
    for k in range(px.shape[1]):
        if px[row, k] == price:
            return True
    return False


@njit(cache=True)
def _zone_depth(px: np.ndarray, sz: np.ndarray, row: int, lo: float, hi: float) -> int:
    total = 0
    for k in range(px.shape[1]):
        p = px[row, k]
        if p != NO_PRICE and lo <= p <= hi:
            total += sz[row, k]
    return total


@njit(cache=True)
def _traded(tr_ts, tr_px, tr_sz, tr_side, t0, t1, price, aggressor) -> int:
    """Aggressive volume at `price` by `aggressor` with t0 < ts <= t1."""
    lo = np.searchsorted(tr_ts, t0, side="right")
    hi = np.searchsorted(tr_ts, t1, side="right")
    vol = 0
    for j in range(lo, hi):
        if tr_px[j] == price and tr_side[j] == aggressor:
            vol += tr_sz[j]
    return vol


@njit(cache=True)
def _mean_and_quantile(values: np.ndarray, q: float) -> tuple[float, float]:
    """Mean and numpy's linear-interpolation quantile of non-negative integers.

    A lookback holds hundreds of thousands of books and days have hundreds of signals, so
    sorting each lookback dominates; integer depths have a small range, so count instead."""
    n = values.shape[0]
    lo = values.min()
    span = values.max() - lo + 1
    total = 0.0
    for v in values:
        total += v
    mean = total / n
    if span > 4 * n + 4096:
        return mean, np.quantile(values.astype(np.float64), q)
    counts = np.zeros(span, np.int64)
    for v in values:
        counts[v - lo] += 1
    pos = q * (n - 1)
    k = int(np.floor(pos))
    t = pos - k
    below = lo  # the values of rank k and k + 1 (the same when k is the last rank)
    above = lo
    found_below = False
    seen = 0
    for j in range(span):
        seen += counts[j]
        if not found_below and seen > k:
            below = j + lo
            found_below = True
        if found_below and (seen > k + 1 or k + 1 >= n):
            above = j + lo
            break
    a = float(below)
    b = float(above)
    # numpy's _lerp: the same rounding as np.quantile(method="linear")
    if t >= 0.5:
        return mean, b - (b - a) * (1.0 - t)
    return mean, a + (b - a) * t


@njit(cache=True, nogil=True)
def barrier_kernel(
    book_ts,
    bid_px,
    bid_sz,
    ask_px,
    ask_sz,
    tr_ts,
    tr_px,
    tr_sz,
    tr_side,
    dep_ts,
    bid_depth,
    ask_depth,
    sig_ts,
    level_ticks,
    is_up,
    window_ns,
    lookback_ns,
    zone_ticks,
    weak_pct,
    ratio_cap,
    added,
    canceled,
    filled,
    depth,
    baseline,
    weak_floor,
    ratio,
    n_books,
):
    """Flows, depths and ratios per signal (the state comes later, from barrier_states, once
    the zone baselines are known). Prices are integer ES ticks (level_ticks may fall between
    ticks)."""
    for i in range(len(sig_ts)):
        if is_up[i]:
            px, sz, aggressor, side_depth = ask_px, ask_sz, BUY, ask_depth
        else:
            px, sz, aggressor, side_depth = bid_px, bid_sz, SELL, bid_depth
        zlo = level_ticks[i] - zone_ticks
        zhi = level_ticks[i] + zone_ticks
        a = 0
        c = 0
        f = 0
        w0 = np.searchsorted(book_ts, sig_ts[i], side="left")
        w1 = np.searchsorted(book_ts, sig_ts[i] + window_ns, side="left")
        for r in range(w0 + 1, w1):
            # every zone price present in either book
            for side_row in (r - 1, r):
                for k in range(px.shape[1]):
                    p = px[side_row, k]
                    if p == NO_PRICE or p < zlo or p > zhi:
                        continue
                    if side_row == r and _listed(px, r - 1, p):
                        continue  # already handled from the previous book
                    before = _size_at(px, sz, r - 1, p)
                    after = _size_at(px, sz, r, p)
                    if after > before:
                        a += after - before
                    elif after < before:
                        dec = before - after
                        vol = _traded(
                            tr_ts, tr_px, tr_sz, tr_side, book_ts[r - 1], book_ts[r], p, aggressor
                        )
                        fill = min(dec, vol)
                        f += fill
                        c += dec - fill
        added[i] = a
        canceled[i] = c
        filled[i] = f
        depth[i] = _zone_depth(px, sz, w1 - 1, zlo, zhi) if w1 > w0 else -1
        # causal baseline: defending-side 10-level depth over the lookback before ts
        b0 = np.searchsorted(dep_ts, sig_ts[i] - lookback_ns, side="left")
        b1 = np.searchsorted(dep_ts, sig_ts[i], side="left")
        if b1 > b0:
            baseline[i], weak_floor[i] = _mean_and_quantile(side_depth[b0:b1], weak_pct)
        else:
            baseline[i] = np.nan
            weak_floor[i] = np.nan
        removed = c + f
        if removed > 0:
            ratio[i] = min(a / removed, ratio_cap)
        else:
            ratio[i] = ratio_cap if a > 0 else 0.0
        n_books[i] = max(w1 - w0, 0)


@njit(cache=True)
def barrier_states(added, canceled, filled, depth, weak_floor, ratio, n_books, zone_baseline,
                   f_thresh_frac, r_vac, r_wall, state):  # fmt: skip
    """SPEC §6's first rule that holds, with F_thresh = f_thresh_frac x zone_baseline; NEUTRAL
    when the window holds fewer than 2 books or the zone baseline is null or 0."""
    for i in range(len(state)):
        a, c, f = added[i], canceled[i], filled[i]
        delta = a - c - f
        f_thresh = f_thresh_frac * zone_baseline[i]
        if n_books[i] < 2 or np.isnan(zone_baseline[i]) or zone_baseline[i] == 0:
            state[i] = NEUTRAL
        elif delta < -f_thresh and c > f and ratio[i] < r_vac:
            state[i] = VACUUM
        elif delta < -f_thresh and f >= c:
            state[i] = CONSUMED
        elif delta > f_thresh and ratio[i] > r_wall:
            state[i] = WALL
        elif f >= f_thresh and ratio[i] >= 1.0:
            state[i] = ABSORPTION
        elif not np.isnan(weak_floor[i]) and depth[i] >= 0 and depth[i] < weak_floor[i]:
            state[i] = WEAK
        else:
            state[i] = NEUTRAL


@dataclass
class BookArrays:
    """Complete books as integer arrays: prices in ES ticks (NO_PRICE when empty), sizes."""

    ts: np.ndarray  # int64, ascending
    bid_px: np.ndarray  # (n, N_LEVELS) int32
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray

    @classmethod
    def allocate(cls, n: int) -> BookArrays:
        return cls(np.zeros(n, np.int64), *(np.zeros((n, N_LEVELS), np.int32) for _ in range(4)))

    def head(self, n: int) -> BookArrays:
        """The first n books (views, no copy)."""
        return self.rows(0, n)

    def rows(self, start: int, end: int) -> BookArrays:
        """Books start..end-1 (views, no copy)."""
        return BookArrays(*(getattr(self, f)[start:end] for f in BOOK_FIELDS))


@dataclass
class BookBatch:
    """The books of the touch windows that start in [start_ns, end_ns): every touch with its ts
    in that span finds its whole window here."""

    start_ns: int
    end_ns: int
    books: BookArrays


BOOK_FIELDS = ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz")


@dataclass
class Depths:
    """Each book's 10-level depth per side (the sizes of listed levels), for the baseline."""

    ts: np.ndarray  # int64, ascending
    bid: np.ndarray  # int64
    ask: np.ndarray


@njit(cache=True)
def _to_ticks(prices, sizes, tick, px_out, sz_out, offset):
    """(N_LEVELS, n) price and size columns into rows offset.. of the (rows, N_LEVELS) arrays."""
    for r in range(prices.shape[1]):
        for k in range(prices.shape[0]):
            p = prices[k, r]
            px_out[offset + r, k] = NO_PRICE if np.isnan(p) else np.int32(round(p / tick))
            sz_out[offset + r, k] = sizes[k, r]


def fill_book_arrays(books: pl.DataFrame, tick: float, out: BookArrays, offset: int) -> None:
    """Write the books of `books` (bronze MBP-10 columns) into `out` from row `offset` on."""
    n = books.height
    out.ts[offset : offset + n] = books["ts_event"].to_numpy()
    for side, px_out, sz_out in (("bid", out.bid_px, out.bid_sz), ("ask", out.ask_px, out.ask_sz)):
        prices = np.empty((N_LEVELS, n))
        sizes = np.empty((N_LEVELS, n), np.int64)
        for k in range(N_LEVELS):
            prices[k] = books[level_field(f"{side}_px", k)].cast(pl.Float64).to_numpy()
            sizes[k] = books[level_field(f"{side}_sz", k)].to_numpy()
        _to_ticks(prices, sizes, tick, px_out, sz_out, offset)


def book_arrays(books: pl.DataFrame, tick: float) -> BookArrays:
    out = BookArrays.allocate(books.height)
    fill_book_arrays(books, tick, out, 0)
    return out


def depth_expr(side: str) -> pl.Expr:
    """A book's 10-level depth on one side. Bronze guarantees empty levels carry size 0, so the
    sum of sizes is the size of the listed levels, without reading the price columns."""
    return pl.sum_horizontal(
        pl.col(level_field(f"{side}_sz", k)).cast(pl.Int64) for k in range(N_LEVELS)
    ).alias(f"{side}_depth")


def depths_of(books: pl.DataFrame) -> Depths:
    frame = books.select("ts_event", depth_expr("bid"), depth_expr("ask"))
    return Depths(
        frame["ts_event"].to_numpy().astype(np.int64),
        frame["bid_depth"].to_numpy().astype(np.int64),
        frame["ask_depth"].to_numpy().astype(np.int64),
    )


def trade_arrays(trades: pl.DataFrame, tick: float) -> tuple[np.ndarray, ...]:
    side = trades["side"].to_numpy()
    return (
        trades["ts_event"].to_numpy(),
        np.round(trades["price"].to_numpy() / tick).astype(np.int64),
        trades["size"].to_numpy().astype(np.int64),
        np.where(side == "B", BUY, np.where(side == "A", SELL, 0)).astype(np.int64),
    )


class BarrierAccumulator:
    """Barrier columns of the touches, built batch by batch of window books: each batch holds
    every book of the windows of the touches whose ts falls in [batch.start_ns, batch.end_ns);
    `depths` holds at least every book of those touches' lookbacks. Batches come from the
    bronze file (book_windows.WindowBookReader) or from the bronze stream as it is written
    (book_windows.WindowCapture): the same kernel on the same books either way."""

    def __init__(
        self,
        touches: pl.DataFrame,
        trades: pl.DataFrame,
        params: BarrierParams,
        es_spy_ratio: float,
        tick: float,
    ):
        self.touches = touches
        self.params = params
        n = touches.height
        self.out = {
            "added": np.zeros(n, np.int64),
            "canceled": np.zeros(n, np.int64),
            "filled": np.zeros(n, np.int64),
            "depth": np.zeros(n, np.int64),
            "baseline": np.zeros(n),
            "weak_floor": np.zeros(n),
            "ratio": np.zeros(n),
            "n_books": np.zeros(n, np.int64),
        }
        self.sig_ts = touches["ts_ns"].to_numpy()
        self.level_ticks = touches["level_price"].to_numpy() * es_spy_ratio / tick
        self.is_up = (touches["direction"] == "UP").to_numpy()
        self.trade_cols = trade_arrays(trades, tick)
        self.done = np.zeros(n, bool)
        # fed by whoever reads the books (every book of the lookbacks, in ts_event order)
        self.zone = ZoneBaselines(
            self.sig_ts, self.level_ticks, self.is_up, params.zone_ticks, params.lookback_ns, tick
        )

    def add(self, batch: BookBatch, depths: Depths) -> None:
        params = self.params
        rows = np.flatnonzero((self.sig_ts >= batch.start_ns) & (self.sig_ts < batch.end_ns))
        if len(rows) == 0:
            return
        self.done[rows] = True
        part = {k: v[rows] for k, v in self.out.items()}
        barrier_kernel(
            *(getattr(batch.books, f) for f in BOOK_FIELDS),
            *self.trade_cols,
            depths.ts,
            depths.bid,
            depths.ask,
            self.sig_ts[rows],
            self.level_ticks[rows],
            self.is_up[rows],
            params.window_ns,
            params.lookback_ns,
            params.zone_ticks,
            params.weak_percentile,
            params.ratio_cap,
            *part.values(),
        )
        for k, v in part.items():
            self.out[k][rows] = v

    def frame(self) -> pl.DataFrame:
        out, n = self.out, self.touches.height
        if not self.done.all():
            raise ValueError(f"{int((~self.done).sum())} touches fall in no batch of window books")
        depth = pl.Series(out["depth"]).replace(-1, None)
        baseline = pl.Series(out["baseline"]).fill_nan(None)
        zone_baseline = self.zone.values()
        state = np.zeros(n, np.int64)
        p = self.params
        barrier_states(out["added"], out["canceled"], out["filled"], out["depth"],
                       out["weak_floor"], out["ratio"], out["n_books"], zone_baseline,
                       p.f_thresh_frac, p.r_vac, p.r_wall, state)  # fmt: skip
        return self.touches.select("ts_ns", "level_price").with_columns(
            barrier_state=pl.Series(np.array(STATES)[state] if n else np.array([], dtype=str)),
            barrier_delta_liq=pl.Series(out["added"] - out["canceled"] - out["filled"]).cast(
                pl.Float64
            ),
            barrier_replenishment_ratio=pl.Series(out["ratio"]),
            barrier_added=pl.Series(out["added"]).cast(pl.Float64),
            barrier_canceled=pl.Series(out["canceled"]).cast(pl.Float64),
            barrier_filled=pl.Series(out["filled"]).cast(pl.Float64),
            depth_in_zone=depth.cast(pl.Float64),
            wall_ratio=pl.when(baseline > 0)
            .then(depth.cast(pl.Float64) / baseline)
            .otherwise(None),
            zone_baseline=pl.Series(zone_baseline, dtype=pl.Float64).fill_nan(None),
        )


def barrier_physics(
    touches: pl.DataFrame,
    books: pl.DataFrame | BookArrays | Iterable[BookBatch],
    trades: pl.DataFrame,
    params: BarrierParams,
    es_spy_ratio: float,
    tick: float,
    depths: Depths | None = None,
    lookback_books: Iterable[pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Barrier columns per touch. `books` holds every book inside each touch's window: a frame,
    or batches of windows (each consumed before the next is asked for); `depths` and
    `lookback_books` (frames of bronze columns in ts_event order) every book of each lookback
    (by default the frame of books)."""
    if isinstance(books, pl.DataFrame):
        depths = depths if depths is not None else depths_of(books)
        lookback_books = lookback_books if lookback_books is not None else [books]
        books = book_arrays(books, tick)
    assert depths is not None, "pass the lookback depths with window-only books"
    assert lookback_books is not None, "pass the lookback books with window-only books"
    if isinstance(books, BookArrays):  # one batch that holds every window
        books = [BookBatch(np.iinfo(np.int64).min, np.iinfo(np.int64).max, books)]
    accumulator = BarrierAccumulator(touches, trades, params, es_spy_ratio, tick)
    for batch in books:
        accumulator.add(batch, depths)
    for frame in lookback_books:
        accumulator.zone.observe_frame(frame)
    return accumulator.frame()
