"""Validation of gold signals: the rules a researcher relies on, checked on the stored data.

Used by `spymaster validate` and by the gold asset checks. Every rule reports how many rows
break it and an example event id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.schemas.columns import schema_errors
from spymaster_assets.schemas.gold import signals_schema_of
from spymaster_assets.signals.rules import (
    direction_rule,
    label_grid_rules,
    label_rules,
    rule_failures,
    touch_rules,
)
from spymaster_assets.vocabulary import OUTCOMES, grid_columns, label_grid_of


@dataclass
class ValidationReport:
    rows: int
    errors: list[str] = field(default_factory=list)
    by_day: pl.DataFrame | None = None
    by_kind: pl.DataFrame | None = None
    by_barrier: pl.DataFrame | None = None
    by_fuel: pl.DataFrame | None = None
    by_grid: pl.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def outcome_table(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """Counts of each outcome per `by` value, with a total column."""
    counts = frame.group_by(by, "outcome").len()
    table = counts.pivot(on="outcome", index=by, values="len").fill_null(0)
    for name in OUTCOMES:
        if name not in table.columns:
            table = table.with_columns(pl.lit(0, dtype=pl.UInt32).alias(name))
    return table.select(by, *OUTCOMES).with_columns(total=pl.sum_horizontal(*OUTCOMES)).sort(by)


def grid_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The class mix of every label-grid pair: one row per threshold x horizon, with the part
    of the signals that are decided (BREAK + BOUNCE) and the number cut at the close."""
    rows = []
    for t, h, outcome, flag in grid_columns(*label_grid_of(frame.columns)):
        counts = dict(frame[outcome].value_counts().iter_rows()) if frame.height else {}
        decided = counts.get("BREAK", 0) + counts.get("BOUNCE", 0)
        rows.append(
            {
                "label": outcome,
                "threshold": t,
                "minutes": h,
                **{name: counts.get(name, 0) for name in OUTCOMES},
                "decided_share": round(decided / frame.height, 4) if frame.height else 0.0,
                "truncated": int(frame[flag].sum()) if frame.height else 0,
            }
        )
    return pl.DataFrame(rows)


def _session_bounds(days: list[dt.date]) -> pl.DataFrame:
    rows = []
    for day in days:
        w = session_windows(day)
        rows.append((day, w.rth_open_ns, w.rth_close_ns))
    return pl.DataFrame(
        rows, schema={"date": pl.Date, "open_ns": pl.Int64, "close_ns": pl.Int64}, orient="row"
    )


def validate_signals(
    frame: pl.DataFrame,
    *,
    monitor_band: float,
    outcome_threshold: float,
    lookforward_minutes: int,
    bar_opens: pl.DataFrame | None = None,
) -> ValidationReport:
    """`bar_opens` (ts_ns, open) of the touch bars enables the direction rule."""
    report = ValidationReport(rows=frame.height)
    schema = signals_schema_of(frame.columns)
    report.errors = [f"schema: {e}" for e in schema_errors(schema, frame)]
    if set(frame.columns) != set(schema.columns):
        return report  # the rules below need the columns
    bounds = _session_bounds(frame["date"].unique().sort().to_list())
    f = frame.join(bounds, on="date", how="left")
    rules = {
        "event_id is unique": pl.col("event_id").is_duplicated().not_(),
        **touch_rules(monitor_band),
        **label_rules(outcome_threshold, lookforward_minutes),
        **label_grid_rules(*label_grid_of(frame.columns), outcome_threshold, lookforward_minutes),
    }
    if bar_opens is not None:
        f = f.join(bar_opens.select("ts_ns", bar_open="open"), on="ts_ns", how="left")
        rules["every signal has its bar"] = pl.col("bar_open").is_not_null()
        rules.update(direction_rule())
    report.errors.extend(rule_failures(f, rules, "event_id"))
    report.by_day = outcome_table(frame, "date")
    report.by_kind = outcome_table(frame, "level_kind_name")
    report.by_barrier = outcome_table(frame, "barrier_state")
    report.by_fuel = outcome_table(frame, "fuel_effect")
    report.by_grid = grid_table(frame)
    return report


def markdown_table(frame: pl.DataFrame) -> str:
    with pl.Config(
        tbl_formatting="ASCII_MARKDOWN",
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_rows=-1,
        tbl_cols=-1,
    ):
        return str(frame)
