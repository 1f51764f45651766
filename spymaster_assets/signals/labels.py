"""Outcome labels (SPEC §8): first passage on front-month trades after the information time.

Window: trades with ts_event in (info_ts, info_ts + LOOKFORWARD], cut at the session close
(`label_truncated`). With s = +1 for UP and -1 for DOWN and r = s * (price - L): BREAK when
r >= threshold, BOUNCE when r <= -threshold, whichever trade comes first; else CHOP.
Prices are exact integer thousandths of a dollar.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE, SessionWindows
from spymaster_assets.schemas.columns import dtypes
from spymaster_assets.schemas.silver import OUTCOME_LABELS
from spymaster_assets.signals.prices import MILLI, to_milli
from spymaster_assets.vocabulary import OUTCOMES, UP

CHOP, BREAK, BOUNCE = 0, 1, 2

LABEL_COLUMNS = dtypes(OUTCOME_LABELS)


@njit(cache=True)
def first_passage_kernel(
    trade_ts: np.ndarray,
    trade_m: np.ndarray,
    start_ts: np.ndarray,
    end_ts: np.ndarray,
    level_m: np.ndarray,
    sign: np.ndarray,
    threshold_m: int,
    outcome: np.ndarray,
    decided_ts: np.ndarray,
    last_m: np.ndarray,
    exc_max: np.ndarray,
    exc_min: np.ndarray,
    n_trades: np.ndarray,
) -> None:
    for i in range(len(start_ts)):
        lo = np.searchsorted(trade_ts, start_ts[i], side="right")
        hi = np.searchsorted(trade_ts, end_ts[i], side="right")
        outcome[i] = CHOP
        decided_ts[i] = -1
        n_trades[i] = max(hi - lo, 0)
        hi_rel = np.iinfo(np.int64).min
        lo_rel = np.iinfo(np.int64).max
        for p in range(lo, hi):
            rel = sign[i] * (trade_m[p] - level_m[i])
            hi_rel = max(hi_rel, rel)
            lo_rel = min(lo_rel, rel)
            if outcome[i] == CHOP and decided_ts[i] < 0:
                if rel >= threshold_m:
                    outcome[i] = BREAK
                    decided_ts[i] = trade_ts[p]
                elif rel <= -threshold_m:
                    outcome[i] = BOUNCE
                    decided_ts[i] = trade_ts[p]
        exc_max[i] = hi_rel
        exc_min[i] = lo_rel
        last_m[i] = trade_m[hi - 1] if hi > lo else 0


def outcome_labels(
    touches: pl.DataFrame,
    trades: pl.DataFrame,
    windows: SessionWindows,
    lookforward_minutes: int,
    threshold: float,
    es_spy_ratio: float,
) -> pl.DataFrame:
    """Labels of every signal, from front-month trades sorted by ts_event (bronze order)."""
    n = touches.height
    info = touches["info_ts_ns"].to_numpy()
    horizon = info + lookforward_minutes * NS_PER_MINUTE
    end = np.minimum(horizon, windows.rth_close_ns)
    out = {
        "outcome": np.empty(n, np.int64),
        "decided_ts": np.empty(n, np.int64),
        "last_m": np.empty(n, np.int64),
        "exc_max": np.empty(n, np.int64),
        "exc_min": np.empty(n, np.int64),
        "n_trades": np.empty(n, np.int64),
    }
    first_passage_kernel(
        trades["ts_event"].to_numpy(),
        to_milli(trades["price"].to_numpy() / es_spy_ratio),
        info,
        end,
        to_milli(touches["level_price"].to_numpy()),
        np.where(touches["direction"].to_numpy() == UP, 1, -1).astype(np.int64),
        round(threshold * MILLI),
        *out.values(),
    )
    has = out["n_trades"] > 0
    decided = out["decided_ts"] >= 0

    def dollars(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        return pl.Series(np.where(mask, values / MILLI, np.nan)).fill_nan(None)

    return pl.DataFrame(
        {
            "ts_ns": touches["ts_ns"],
            "level_price": touches["level_price"],
            "outcome": np.array(OUTCOMES)[out["outcome"]],
            "time_to_outcome_s": pl.Series(
                np.where(decided, (out["decided_ts"] - info) / 1e9, np.nan)
            ).fill_nan(None),
            "future_price_5min": dollars(out["last_m"], has),
            "excursion_max": dollars(out["exc_max"], has),
            "excursion_min": dollars(out["exc_min"], has),
            "label_truncated": horizon > windows.rth_close_ns,
        }
    ).cast(LABEL_COLUMNS)
