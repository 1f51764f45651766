"""Physics asset checks: schemas, one row per touch, and internal consistency of each table."""

import dagster as dg

from spymaster_assets.defs.check_helpers import check_spec, schema_spec

OPTION_FLOW = dg.AssetKey(["silver", "option_flow"])
BARRIER_PHYSICS = dg.AssetKey(["silver", "barrier_physics"])
TAPE_PHYSICS = dg.AssetKey(["silver", "tape_physics"])
FUEL_PHYSICS = dg.AssetKey(["silver", "fuel_physics"])

CONSISTENCY = "consistency"
IV_QUALITY = "iv_quality"

OPTION_FLOW_CHECKS = [
    schema_spec(OPTION_FLOW),
    check_spec(
        OPTION_FLOW,
        IV_QUALITY,
        "Most option prints solve for an implied volatility (the rest fall back); a WARN when "
        "fewer than half do, which means the prices or the spot are off.",
    ),
]
BARRIER_PHYSICS_CHECKS = [
    schema_spec(BARRIER_PHYSICS),
    check_spec(
        BARRIER_PHYSICS,
        CONSISTENCY,
        "delta_liq = added - canceled - filled; the ratio is finite; one row per touch.",
    ),
]
TAPE_PHYSICS_CHECKS = [
    schema_spec(TAPE_PHYSICS),
    check_spec(
        TAPE_PHYSICS, CONSISTENCY, "Imbalance = (buy - sell) / (buy + sell); one row per touch."
    ),
]
FUEL_PHYSICS_CHECKS = [
    schema_spec(FUEL_PHYSICS),
    check_spec(
        FUEL_PHYSICS,
        CONSISTENCY,
        "fuel_effect follows gamma_exposure and the threshold; one row per touch.",
    ),
]
