"""Pictures of each trading day, next to the gold data and in the UI."""

import base64

import dagster as dg
import polars as pl

from spymaster_assets.charts.day import day_chart, outcome_breakdown
from spymaster_assets.defs.gold.checks import SIGNALS
from spymaster_assets.defs.partitions import trading_days
from spymaster_assets.defs.resources import LakeResource, trading_day_of
from spymaster_assets.defs.silver.checks import LEVELS, OHLCV_1M
from spymaster_assets.market.atomic import atomic_path

DAY_CHARTS = dg.AssetKey(["gold", "day_charts"])


def _embed(png: bytes, title: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"
    )


@dg.asset(
    key=DAY_CHARTS,
    partitions_def=trading_days,
    group_name="gold",
    kinds={"matplotlib", "png"},
    code_version="1",
    deps=[SIGNALS, LEVELS, OHLCV_1M],
    description=(
        "Two PNG pictures per trading day, written to lake/gold/charts/: the regular-hours price "
        "with its levels and every signal coloured by outcome, and the outcome mix by level kind "
        "and by barrier state. Both are shown in the materialization metadata."
    ),
)
def day_charts(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    day = trading_day_of(context)
    key = context.partition_key
    bars = pl.read_parquet(lake.asset_path(OHLCV_1M, key))
    levels = pl.read_parquet(lake.asset_path(LEVELS, key))
    signals = pl.read_parquet(lake.asset_path(SIGNALS, key))
    folder = lake.layout.lake_dir("gold", "charts")
    pictures = {
        f"{key}.png": day_chart(day, bars, levels, signals),
        f"{key}_outcomes.png": outcome_breakdown(day, signals),
    }
    for name, png in pictures.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(png)
    return dg.MaterializeResult(
        metadata={
            "price_and_signals": _embed(pictures[f"{key}.png"], f"{key} price, levels and signals"),
            "outcome_breakdown": _embed(pictures[f"{key}_outcomes.png"], f"{key} outcomes"),
            "files": dg.MetadataValue.json([str(folder / n) for n in pictures]),
        }
    )
