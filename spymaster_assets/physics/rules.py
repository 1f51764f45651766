"""Internal consistency of the physics tables, checked on each day's output (plain polars)."""

import polars as pl

from spymaster_assets.signals.rules import rule_failures


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
