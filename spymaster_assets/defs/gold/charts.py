"""Pictures of each trading day, next to the gold data and in the UI."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs.daily import Day, DayOutput, daily_asset
from spymaster_assets.defs.gold.checks import SIGNALS
from spymaster_assets.defs.silver.checks import LEVELS, OHLCV_1M

if TYPE_CHECKING:
    import polars as pl

DAY_CHARTS = dg.AssetKey(["gold", "day_charts"])


def embed_png(png: bytes, title: str) -> dg.MetadataValue:
    """A PNG shown inline in the asset's metadata in the UI."""
    return dg.MetadataValue.md(
        f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"
    )


@daily_asset(
    DAY_CHARTS,
    group="gold",
    kinds={"matplotlib", "png"},
    table=False,
    inputs={"bars": OHLCV_1M, "levels": LEVELS, "signals": SIGNALS},
    description=(
        "Two PNG pictures per trading day, written to lake/gold/charts/: the regular-hours price "
        "with its levels and every signal coloured by outcome, and the outcome mix by level kind "
        "and by barrier state. Both are shown in the materialization metadata."
    ),
)
def day_charts(
    day: Day, bars: pl.LazyFrame, levels: pl.LazyFrame, signals: pl.LazyFrame
) -> DayOutput:
    from spymaster_assets.charts.day import day_chart, outcome_breakdown
    from spymaster_assets.storage import atomic_path

    key = day.partition_key
    signals = signals.collect()
    folder = day.lake.layout.lake_dir("gold", "charts")
    pictures = {
        f"{key}.png": day_chart(day.day, bars.collect(), levels.collect(), signals),
        f"{key}_outcomes.png": outcome_breakdown(day.day, signals),
    }
    for name, png in pictures.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(png)
    return DayOutput(
        files=[folder / name for name in pictures],
        metadata={
            "price_and_signals": embed_png(
                pictures[f"{key}.png"], f"{key} price, levels and signals"
            ),
            "outcome_breakdown": embed_png(pictures[f"{key}_outcomes.png"], f"{key} outcomes"),
            "files": dg.MetadataValue.json([str(folder / n) for n in pictures]),
        },
    )
