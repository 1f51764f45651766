"""How a day's signals look to the physics rules and the labels: the figures a researcher checks
before learning anything from a day, against what a real-size ES day should show (SPEC §6, §8;
issue 15). Shown in gold/signals' metadata and in `make bench`'s report.

A constant physics column or one class holding most signals says the thresholds do not mean
the same at this day's volume. These are figures, not blocking checks: a real quiet day may
legitimately miss one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the gold checks import this module while the definitions load
    import polars as pl

PHYSICS_COLUMNS = (
    "barrier_state",
    "barrier_delta_liq",
    "barrier_replenishment_ratio",
    "barrier_added",
    "barrier_canceled",
    "barrier_filled",
    "depth_in_zone",
    "wall_ratio",
    "zone_baseline",
    "tape_imbalance",
    "tape_buy_vol",
    "tape_sell_vol",
    "tape_velocity",
    "sweep_detected",
    "gamma_exposure",
    "gamma_share",
    "fuel_effect",
)
MIN_SIGNALS_FOR_VARIATION = 20

# (figure, goal as text, test on the figure's value)
TARGETS = (
    ("constant_physics_columns", "none", lambda v: not v),
    ("fuel_effects_seen", "all 3", lambda v: v == 3),
    ("fuel_effect_max_share", "<= 0.80", lambda v: v <= 0.80),
    ("barrier_states_seen", ">= 5", lambda v: v >= 5),
    ("barrier_state_max_share", "<= 0.60", lambda v: v <= 0.60),
    ("sweep_share", "0.01 .. 0.30", lambda v: 0.01 <= v <= 0.30),
    ("decided_share_t050_h05", ">= 0.10", lambda v: v >= 0.10),
)
LABEL_PAIR = "outcome_t050_h05"  # the $0.50 / 5-minute target


def constant_columns(frame: pl.DataFrame) -> list[str]:
    """Physics columns holding one value over a day with enough signals to vary."""
    if frame.height <= MIN_SIGNALS_FOR_VARIATION:
        return []
    return [c for c in PHYSICS_COLUMNS if frame[c].n_unique() == 1]


def _max_share(frame: pl.DataFrame, column: str) -> float:
    return round(float(frame[column].value_counts()["count"].max() / frame.height), 4)


def day_figures(frame: pl.DataFrame) -> dict:
    """The figures of TARGETS for one day's (or several days') gold signals."""
    if frame.height == 0:
        return {"signals": 0}
    figures = {
        "signals": frame.height,
        "constant_physics_columns": constant_columns(frame),
        "fuel_effects_seen": frame["fuel_effect"].n_unique(),
        "fuel_effect_max_share": _max_share(frame, "fuel_effect"),
        "barrier_states_seen": frame["barrier_state"].n_unique(),
        "barrier_state_max_share": _max_share(frame, "barrier_state"),
        "sweep_share": round(float(frame["sweep_detected"].mean()), 4),
    }
    if LABEL_PAIR in frame.columns:
        decided = frame[LABEL_PAIR].is_in(["BREAK", "BOUNCE"]).mean()
        figures["decided_share_t050_h05"] = round(float(decided), 4)
    return figures


def missed_targets(figures: dict) -> list[str]:
    """One line per target the figures miss (none for a day without signals)."""
    return [
        f"{name} = {figures[name]} (goal {goal})"
        for name, goal, ok in TARGETS
        if name in figures and not ok(figures[name])
    ]
