"""The semantic rules of touches and labels, as polars expressions over table columns.

One definition serves the silver asset checks, the gold asset check and `spymaster validate`.
Rules on regular hours expect `open_ns` / `close_ns` columns (the session of each row's date).
"""

from __future__ import annotations

from itertools import pairwise

import polars as pl

from spymaster_assets.market.trading_calendar import NS_PER_MINUTE
from spymaster_assets.signals.prices import MILLI, milli_expr
from spymaster_assets.vocabulary import UP, grid_columns, grid_outcome


def touch_rules(monitor_band: float) -> dict[str, pl.Expr]:
    level = milli_expr("level_price")
    return {
        "signal bar inside regular hours": (pl.col("ts_ns") >= pl.col("open_ns"))
        & (pl.col("ts_ns") <= pl.col("close_ns") - NS_PER_MINUTE),
        "distance <= MONITOR_BAND": milli_expr("distance") <= round(monitor_band * MILLI),
        "distance = |spot - level|": milli_expr("distance") == (milli_expr("spot") - level).abs(),
        "info_ts_ns = ts_ns + 60 s": pl.col("info_ts_ns") == pl.col("ts_ns") + NS_PER_MINUTE,
    }


def direction_rule() -> dict[str, pl.Expr]:
    """Needs `bar_open`: UP exactly when the bar opened below the level (ties: either)."""
    level, open_ = milli_expr("level_price"), milli_expr("bar_open")
    return {
        "direction consistent with the bar's open": (open_ == level)
        | ((open_ < level) == (pl.col("direction") == UP))
    }


def _excursion_rules(outcome: pl.Expr, threshold: float) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """BREAK, BOUNCE and CHOP of `outcome` agree with the main window's excursions."""
    thr = round(threshold * MILLI)
    hi, lo = milli_expr("excursion_max"), milli_expr("excursion_min")
    no_trades = pl.col("excursion_max").is_null()
    return (
        (outcome != "BREAK") | (hi >= thr),
        (outcome != "BOUNCE") | (lo <= -thr),
        (outcome != "CHOP") | no_trades | ((hi < thr) & (lo > -thr)),
    )


def label_rules(threshold: float, lookforward_minutes: int) -> dict[str, pl.Expr]:
    outcome = pl.col("outcome")
    no_trades = pl.col("excursion_max").is_null()
    hi, lo = milli_expr("excursion_max"), milli_expr("excursion_min")
    breaks, bounces, chops = _excursion_rules(outcome, threshold)
    return {
        "BREAK crossed the threshold through the level": breaks,
        "BOUNCE crossed the threshold away from the level": bounces,
        "CHOP crossed neither side": chops,
        "time_to_outcome_s is null exactly for CHOP": pl.col("time_to_outcome_s").is_null()
        == (outcome == "CHOP"),
        "future price and excursions are null together": (
            pl.col("future_price_5min").is_null() == no_trades
        )
        & (pl.col("excursion_min").is_null() == no_trades),
        "excursion_max >= excursion_min": no_trades | (hi >= lo),
        "label_truncated exactly when the window passes the close": pl.col("label_truncated")
        == (pl.col("info_ts_ns") + lookforward_minutes * NS_PER_MINUTE > pl.col("close_ns")),
    }


def label_grid_rules(
    thresholds, horizons, threshold: float, lookforward_minutes: int
) -> dict[str, pl.Expr]:
    """Rules of the label grid (SPEC §8), from the first-passage rule alone: a passage that came
    within a short window stands in every longer one; a larger threshold is never reached
    before a smaller one; the pair of the main target is `outcome`; each horizon is cut at the
    close; and the pairs of the main window agree with its excursions."""
    pairs = grid_columns(thresholds, horizons)
    column = {(t, h): pl.col(o) for t, h, o, _ in pairs}
    rules: dict[str, pl.Expr] = {}
    for t in thresholds:
        for short, long in pairwise(sorted(horizons)):
            rules[f"{grid_outcome(t, long)} keeps a passage of {grid_outcome(t, short)}"] = (
                column[t, short] == "CHOP"
            ) | (column[t, long] == column[t, short])
    for h in horizons:
        for small, large in pairwise(sorted(thresholds)):
            rules[f"{grid_outcome(large, h)} decided only if {grid_outcome(small, h)} is"] = (
                column[large, h] == "CHOP"
            ) | (column[small, h] != "CHOP")
    for t, h, outcome, flag in pairs:
        rules[f"{flag} exactly when its window passes the close"] = pl.col(flag) == (
            pl.col("info_ts_ns") + h * NS_PER_MINUTE > pl.col("close_ns")
        )
        if h != lookforward_minutes:
            continue
        breaks, bounces, chops = _excursion_rules(pl.col(outcome), t)
        rules[f"{outcome} agrees with the excursions"] = breaks & bounces & chops
        if round(t * MILLI) == round(threshold * MILLI):
            rules[f"{outcome} equals outcome"] = pl.col(outcome) == pl.col("outcome")
    return rules


def rule_failures(
    frame: pl.DataFrame, rules: dict[str, pl.Expr], id_column: str | None = None
) -> list[str]:
    """One line per broken rule: how many rows break it, and an example."""
    if frame.height == 0:
        return []
    checked = frame.with_columns(**{f"__{n}": e.fill_null(False) for n, e in rules.items()})
    out = []
    for name in rules:
        bad = checked.filter(~pl.col(f"__{name}"))
        if bad.height:
            example = f" (e.g. {id_column} {bad[id_column][0]})" if id_column else ""
            out.append(f"{name}: {bad.height} rows fail{example}")
    return out
