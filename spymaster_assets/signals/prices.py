"""Exact price arithmetic: SPY prices as integer thousandths of a dollar ("milli").

An ES tick (0.25 point) is $0.025 SPY = 25 milli and a cent is 10 milli, so every trade price,
bar price and cent-rounded level is an exact integer here, and comparisons such as "the bar
opened exactly at the level" or "a trade printed at L + $2.00" never depend on float rounding.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MILLI = 1000


def to_milli(dollars) -> np.ndarray:
    return np.round(np.asarray(dollars, dtype=np.float64) * MILLI).astype(np.int64)


def milli_expr(col: str | pl.Expr) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return (expr * MILLI).round(0).cast(pl.Int64)


def to_cent(dollars) -> np.ndarray:
    """Round to the cent, half away from zero on the exact milli value.

    Division (not multiplication by 0.01) gives the float nearest to the decimal cent value.
    """
    milli = to_milli(dollars)
    cents = np.where(milli >= 0, (milli + 5) // 10, -((-milli + 5) // 10))
    return cents / 100.0


def mean_to_cent(total_milli: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count rounded to the cent once, half up, from the exact ratio of the integers
    (NaN where count is 0): a volume-weighted mean price first rounded to the milli and then
    to the cent would be a cent off whenever its thousandths end on 5 only after rounding
    (627.86488 -> 627.865 -> 627.87 instead of 627.86). `total_milli` is Σ price x size with
    prices in milli (non-negative), `count` Σ size."""
    total = np.asarray(total_milli, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    safe = np.where(count > 0, count, 1)
    cents = (2 * total + 10 * safe) // (20 * safe)  # floor(total / (10 count) + 1/2)
    return np.where(count > 0, cents / 100.0, np.nan)
