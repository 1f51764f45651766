"""Level kinds in the SPEC's priority order: the code is the position in this list."""

from __future__ import annotations

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
CODE = {name: code for code, name in enumerate(LEVEL_KINDS)}
# Levels whose price moves through the day: "the same level" means the same kind.
MOVING_KINDS = frozenset(
    {"VWAP", "SMA_200", "SESSION_HIGH", "SESSION_LOW", "CALL_WALL", "PUT_WALL"}
)
