"""Outcome labels (SPEC §8): first passage on front-month trades after the information time.

Window: trades with ts_event in (info_ts, info_ts + LOOKFORWARD], cut at the session close
(`label_truncated`). With s = +1 for UP and -1 for DOWN and r = s * (price - L): BREAK when
r >= threshold, BOUNCE when r <= -threshold, whichever trade comes first; else CHOP.
The label grid applies the same rule to every threshold x horizon of the configuration, each
window cut at the close on its own. Prices are exact integer thousandths of a dollar.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.silver import outcome_labels_schema
from spymaster_assets.signals.prices import MILLI, to_milli
from spymaster_assets.vocabulary import (
    DEFAULT_LABEL_HORIZONS_MIN,
    DEFAULT_LABEL_THRESHOLDS,
    OUTCOMES,
    UP,
    grid_columns,
)

CHOP, BREAK, BOUNCE = 0, 1, 2


@njit(cache=True)
def first_passage_kernel(
    trade_ts: np.ndarray,
    trade_m: np.ndarray,
    start_ts: np.ndarray,
    level_m: np.ndarray,
    sign: np.ndarray,
    thresholds_m: np.ndarray,
    window_end: np.ndarray,
    ends: np.ndarray,
    first_outcome: np.ndarray,
    first_ts: np.ndarray,
    grid: np.ndarray,
    last_m: np.ndarray,
    exc_max: np.ndarray,
    exc_min: np.ndarray,
    n_trades: np.ndarray,
) -> None:
    """One pass over each signal's trades for every threshold and horizon.

    For signal i the trades are those in (start_ts[i], max end]. first_outcome / first_ts [i, k]:
    the first passage of thresholds_m[k] (BREAK through, BOUNCE away; CHOP and -1 when none).
    grid[i, k, h]: that outcome if it came by ends[i, h], else CHOP (the first passage within a
    shorter window is the same trade). Excursions, the last price and the trade count cover the
    main window (start_ts[i], window_end[i]]."""
    n_thresholds = len(thresholds_m)
    for i in range(len(start_ts)):
        horizon_end = window_end[i]
        for h in range(ends.shape[1]):
            horizon_end = max(horizon_end, ends[i, h])
        lo = np.searchsorted(trade_ts, start_ts[i], side="right")
        for k in range(n_thresholds):
            first_outcome[i, k] = CHOP
            first_ts[i, k] = -1
        undecided = n_thresholds
        hi_rel = np.iinfo(np.int64).min
        lo_rel = np.iinfo(np.int64).max
        last = -1
        p = lo
        while p < len(trade_ts) and trade_ts[p] <= horizon_end:
            ts = trade_ts[p]
            if ts > window_end[i] and undecided == 0:
                break  # nothing left to learn from later trades
            rel = sign[i] * (trade_m[p] - level_m[i])
            if ts <= window_end[i]:
                hi_rel = max(hi_rel, rel)
                lo_rel = min(lo_rel, rel)
                last = p
            if undecided:
                for k in range(n_thresholds):
                    if first_ts[i, k] < 0:
                        if rel >= thresholds_m[k]:
                            first_outcome[i, k] = BREAK
                            first_ts[i, k] = ts
                            undecided -= 1
                        elif rel <= -thresholds_m[k]:
                            first_outcome[i, k] = BOUNCE
                            first_ts[i, k] = ts
                            undecided -= 1
            p += 1
        n_trades[i] = last - lo + 1 if last >= lo else 0
        exc_max[i] = hi_rel
        exc_min[i] = lo_rel
        last_m[i] = trade_m[last] if last >= lo else 0
        for k in range(n_thresholds):
            for h in range(ends.shape[1]):
                decided = 0 <= first_ts[i, k] <= ends[i, h]
                grid[i, k, h] = first_outcome[i, k] if decided else CHOP


def outcome_labels(
    touches: pl.DataFrame,
    trades: pl.DataFrame,
    windows: SessionWindows,
    lookforward_minutes: int,
    threshold: float,
    es_spy_ratio: float,
    label_thresholds=DEFAULT_LABEL_THRESHOLDS,
    label_horizons_min=DEFAULT_LABEL_HORIZONS_MIN,
) -> pl.DataFrame:
    """Labels of every signal, from front-month trades sorted by ts_event (bronze order): the
    main outcome (threshold, lookforward_minutes) and the label grid (SPEC §8)."""
    n = touches.height
    info = touches["info_ts_ns"].to_numpy()
    close = windows.rth_close_ns
    horizon = info + lookforward_minutes * NS_PER_MINUTE
    grid_horizons = info[:, None] + np.asarray(label_horizons_min, np.int64) * NS_PER_MINUTE
    # The main threshold is one more first passage of the same pass.
    thresholds = [*label_thresholds, threshold]
    n_thr = len(thresholds)
    first_outcome = np.empty((n, n_thr), np.int64)
    first_ts = np.empty((n, n_thr), np.int64)
    grid = np.empty((n, n_thr, len(label_horizons_min)), np.int64)
    out = {name: np.empty(n, np.int64) for name in ("last_m", "exc_max", "exc_min", "n_trades")}
    first_passage_kernel(
        trades["ts_event"].to_numpy(),
        to_milli(trades["price"].to_numpy() / es_spy_ratio),
        info,
        to_milli(touches["level_price"].to_numpy()),
        np.where(touches["direction"].to_numpy() == UP, 1, -1).astype(np.int64),
        np.array([round(t * MILLI) for t in thresholds], np.int64),
        np.minimum(horizon, close),
        np.ascontiguousarray(np.minimum(grid_horizons, close)),
        first_outcome,
        first_ts,
        grid,
        *out.values(),
    )
    has = out["n_trades"] > 0
    main_ts = first_ts[:, -1]
    decided = (main_ts >= 0) & (main_ts <= np.minimum(horizon, close))
    names = np.array(OUTCOMES)

    def dollars(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        return pl.Series(np.where(mask, values / MILLI, np.nan)).fill_nan(None)

    columns = {
        "ts_ns": touches["ts_ns"],
        "level_price": touches["level_price"],
        "outcome": names[np.where(decided, first_outcome[:, -1], CHOP)],
        "time_to_outcome_s": pl.Series(np.where(decided, (main_ts - info) / 1e9, np.nan)).fill_nan(
            None
        ),
        "future_price_5min": dollars(out["last_m"], has),
        "excursion_max": dollars(out["exc_max"], has),
        "excursion_min": dollars(out["exc_min"], has),
        "label_truncated": horizon > close,
    }
    pairs = grid_columns(label_thresholds, label_horizons_min)
    for index, (_, _, outcome, _) in enumerate(pairs):
        k, h = divmod(index, len(label_horizons_min))
        columns[outcome] = names[grid[:, k, h]]
    for index, (_, _, _, flag) in enumerate(pairs):
        h = index % len(label_horizons_min)
        columns[flag] = grid_horizons[:, h] > close
    schema = outcome_labels_schema(label_thresholds, label_horizons_min)
    return pl.DataFrame(columns).cast(dtypes(schema))
