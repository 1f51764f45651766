"""The platform's shared names, below everything that uses them (schemas, market, signals).

Plain constants without imports, so a schema, a decoder and a kernel module can all take them
without importing one another.
"""

from __future__ import annotations

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

# The MBP-10 book's columns: ten levels a side, best first.
N_LEVELS = 10
BOOK_KINDS = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")


def level_field(kind: str, level: int) -> str:
    """Name of one book column, e.g. level_field('bid_px', 3) == 'bid_px_03'."""
    return f"{kind}_{level:02d}"
