"""Physics asset checks: schemas, one row per touch, and internal consistency of each table."""

import dagster as dg
import polars as pl

from spymaster_assets.defs.check_helpers import check_spec, schema_spec
from spymaster_assets.signals.rules import rule_failures

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


def barrier_failures(frame: pl.DataFrame) -> list[str]:
    return rule_failures(
        frame,
        {
            "delta_liq = added - canceled - filled": (
                pl.col("barrier_delta_liq")
                == pl.col("barrier_added") - pl.col("barrier_canceled") - pl.col("barrier_filled")
            ),
            "replenishment ratio is finite": pl.col("barrier_replenishment_ratio").is_finite(),
        },
    )


def tape_failures(frame: pl.DataFrame) -> list[str]:
    total = pl.col("tape_buy_vol") + pl.col("tape_sell_vol")
    expected = (
        pl.when(total > 0)
        .then((pl.col("tape_buy_vol") - pl.col("tape_sell_vol")) / total)
        .otherwise(0.0)
    )
    return rule_failures(
        frame, {"imbalance from volumes": (pl.col("tape_imbalance") - expected).abs() < 1e-12}
    )


def fuel_failures(frame: pl.DataFrame, threshold: float) -> list[str]:
    g = pl.col("gamma_exposure")
    expected = (
        pl.when(g < -threshold)
        .then(pl.lit("AMPLIFY"))
        .when(g > threshold)
        .then(pl.lit("DAMPEN"))
        .otherwise(pl.lit("NEUTRAL"))
    )
    return rule_failures(frame, {"effect follows exposure": pl.col("fuel_effect") == expected})
