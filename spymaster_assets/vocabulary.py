"""The platform's shared names, below everything that uses them (schemas, market, signals).

Plain constants without imports, so a schema, a decoder and a kernel module can all take them
without importing one another.
"""

from __future__ import annotations

import re

# Level kinds in the SPEC's priority order (§4): the code is the position in this list.
LEVEL_KINDS = (
    "CALL_WALL",
    "PUT_WALL",
    "PM_HIGH",
    "PM_LOW",
    "OR_HIGH",
    "OR_LOW",
    "SESSION_HIGH",
    "SESSION_LOW",
    "VWAP",
    "SMA_200",
    "STRIKE",
    "ROUND",
)
LEVEL_CODE = {name: code for code, name in enumerate(LEVEL_KINDS)}
# Levels whose price moves through the day: "the same level" means the same kind.
MOVING_KINDS = frozenset(
    {"VWAP", "SMA_200", "SESSION_HIGH", "SESSION_LOW", "CALL_WALL", "PUT_WALL"}
)

# Directions of approach and outcomes of a signal (touches, labels, schemas, validation).
UP = "UP"
DOWN = "DOWN"
DIRECTIONS = (UP, DOWN)
OUTCOMES = ("CHOP", "BREAK", "BOUNCE")  # codes 0, 1, 2 in the label kernel

# Categories of the physics (SPEC §6): the code is the position in each list.
BARRIER_STATES = ("VACUUM", "CONSUMED", "WALL", "ABSORPTION", "WEAK", "NEUTRAL")
FUEL_EFFECTS = ("NEUTRAL", "AMPLIFY", "DAMPEN")

# The MBP-10 book's columns: ten levels a side, best first.
N_LEVELS = 10
BOOK_KINDS = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")


def level_field(kind: str, level: int) -> str:
    """Name of one book column, e.g. level_field('bid_px', 3) == 'bid_px_03'."""
    return f"{kind}_{level:02d}"


# The label grid (SPEC §8): one outcome and one truncation flag per threshold x horizon.
DEFAULT_LABEL_THRESHOLDS = (0.5, 1.0, 2.0)  # SPY dollars
DEFAULT_LABEL_HORIZONS_MIN = (2, 5, 15)  # minutes after info_ts_ns


def grid_outcome(threshold: float, minutes: int) -> str:
    """e.g. grid_outcome(0.5, 2) == 'outcome_t050_h02' (threshold in cents, horizon in minutes)."""
    return f"outcome_t{round(threshold * 100):03d}_h{minutes:02d}"


def grid_truncated(threshold: float, minutes: int) -> str:
    """e.g. grid_truncated(0.5, 2) == 'truncated_t050_h02'."""
    return f"truncated_t{round(threshold * 100):03d}_h{minutes:02d}"


def grid_columns(thresholds, horizons) -> list[tuple[float, int, str, str]]:
    """(threshold, minutes, outcome column, truncated column) of every pair, thresholds first."""
    return [(t, h, grid_outcome(t, h), grid_truncated(t, h)) for t in thresholds for h in horizons]


def label_grid_of(columns) -> tuple[list[float], list[int]]:
    """(thresholds, horizons) of the label grid a table carries, read from its column names in
    their order; empty lists when it has none."""
    thresholds, horizons = {}, {}
    for name in columns:
        match = re.fullmatch(r"outcome_t(\d{3})_h(\d{2,})", name)
        if match:
            thresholds[int(match[1]) / 100] = None
            horizons[int(match[2])] = None
    return list(thresholds), list(horizons)


# The research layer's features (SPEC §12), by group, and its classes and fold roles.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "level": (
        "level_kind", "direction", "level_price", "spot", "distance", "prior_touches",
        "bars_since_open", "is_first_15m",
    ),
    "barrier": (
        "barrier_state", "barrier_delta_liq", "barrier_replenishment_ratio", "barrier_added",
        "barrier_canceled", "barrier_filled", "depth_in_zone", "wall_ratio", "zone_baseline",
    ),
    "tape": ("tape_imbalance", "tape_buy_vol", "tape_sell_vol", "tape_velocity", "sweep_detected"),
    "fuel": ("gamma_exposure", "gamma_share", "fuel_effect"),
    "approach": ("approach_velocity", "approach_bars", "approach_distance"),
}  # fmt: skip
PHYSICS_GROUPS = ("barrier", "tape", "fuel")  # what the ablation takes away
FEATURES = tuple(c for group in FEATURE_GROUPS.values() for c in group)
# Categorical features and their categories (the code is the position; level_kind is already
# its code in gold).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "direction": DIRECTIONS,
    "barrier_state": BARRIER_STATES,
    "fuel_effect": FUEL_EFFECTS,
}
CATEGORICAL = ("level_kind", "barrier_state", "fuel_effect")  # unordered: trees split on sets
CLASSES = tuple(sorted(OUTCOMES))  # BOUNCE, BREAK, CHOP: the order of every probability column
FOLD_ROLES = ("train", "embargo", "test")


def group_of(feature: str) -> str:
    return next(g for g, columns in FEATURE_GROUPS.items() if feature in columns)
