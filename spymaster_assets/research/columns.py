"""The research layer's column names and categories, without heavy imports (the definitions
build the research tables' column schemas from them)."""

from __future__ import annotations

from spymaster_assets.vocabulary import BARRIER_STATES, DIRECTIONS, FUEL_EFFECTS, OUTCOMES

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


def group_of(feature: str) -> str:
    return next(g for g, columns in FEATURE_GROUPS.items() if feature in columns)
