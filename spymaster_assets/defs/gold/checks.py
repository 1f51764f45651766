"""Gold asset checks: the schema and every validation rule of `spymaster validate`."""

import dagster as dg

from spymaster_assets.defs.check_helpers import check_spec, schema_spec
from spymaster_assets.signals.realism import MIN_SIGNALS_FOR_VARIATION, constant_columns

SIGNALS = dg.AssetKey(["gold", "signals"])
SIGNALS_VECTORIZED = dg.AssetKey(["gold", "signals_vectorized"])

VALIDATION = "validation"
COMBINED = "combined_days"
PHYSICS_VARIES = "physics_varies"

_VALIDATION = (
    "The rules of `spymaster validate`: unique event ids, signals inside regular hours, "
    "distance within MONITOR_BAND, direction consistent with the bar's open, labels consistent "
    "with excursions, null rules."
)

SIGNALS_CHECKS = [
    schema_spec(SIGNALS),
    check_spec(SIGNALS, VALIDATION, _VALIDATION),
    check_spec(
        SIGNALS,
        PHYSICS_VARIES,
        f"No physics column is constant over a day with more than {MIN_SIGNALS_FOR_VARIATION} "
        "signals (the original shipped constant replenishment ratios and sweeps).",
    ),
]


def constant_physics_columns(frame) -> list[str]:
    return [f"{c} is constant ({frame[c][0]})" for c in constant_columns(frame)]


SIGNALS_VECTORIZED_CHECKS = [
    schema_spec(SIGNALS_VECTORIZED, partitioned=False),
    check_spec(SIGNALS_VECTORIZED, VALIDATION, _VALIDATION, partitioned=False),
    check_spec(
        SIGNALS_VECTORIZED,
        COMBINED,
        "Every day file under lake/gold/signals is in the combined file, sorted by ts_ns.",
        partitioned=False,
    ),
]
