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


def fuel_failures(frame: pl.DataFrame, share_threshold: float) -> list[str]:
    share, exposure = pl.col("gamma_share"), pl.col("gamma_exposure")
    expected = (
        pl.when(share < -share_threshold)
        .then(pl.lit("AMPLIFY"))
        .when(share > share_threshold)
        .then(pl.lit("DAMPEN"))
        .otherwise(pl.lit("NEUTRAL"))  # a null share (no 0DTE trade yet) included
    )
    return rule_failures(
        frame,
        {
            "effect follows the share": pl.col("fuel_effect") == expected,
            "share within [-1, 1]": share.is_null() | share.is_between(-1.0, 1.0),
            "share has the sign of the exposure": share.is_null()
            | (share.sign() == exposure.sign()),
            "no share only without exposure": share.is_not_null() | (exposure == 0),
        },
    )
