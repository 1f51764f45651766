"""The daily chain: every trading-day asset of the graph, computed by one step per run.

Each asset keeps its own key, group, checks, code version and lineage in the UI; they share
one subsettable multi-asset, so a run materializes any selection of them over a range of days
in one process: day after day in date order, with warm kernels and the memory of one day.
Backfills split their days into runs of SPYMASTER_DAYS_PER_RUN consecutive days (Dagster's
multi-run backfill policy); two runs go at once (dagster.yaml). Nothing serializes the runs:
silver/levels reads the bars of the days before (SMA_200) from its own run, the lake, or the
raw trades files (defs/chain/runner.py).
"""

import os

import dagster as dg

from spymaster_assets.defs.bronze import assets as bronze
from spymaster_assets.defs.chain.runner import ChainRun
from spymaster_assets.defs.column_schema import column_schema
from spymaster_assets.defs.daily import DailyAsset
from spymaster_assets.defs.gold import assets as gold
from spymaster_assets.defs.gold import charts
from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.defs.partitions import trading_days
from spymaster_assets.defs.physics import assets as physics
from spymaster_assets.defs.resources import LakeResource
from spymaster_assets.defs.silver import assets as silver
from spymaster_assets.settings import SpymasterConfig

DAYS_PER_RUN_ENV = "SPYMASTER_DAYS_PER_RUN"
DEFAULT_DAYS_PER_RUN = 10


def days_per_run() -> int:
    """Trading days per backfill run: each run pays one process start and definitions load."""
    value = os.environ.get(DAYS_PER_RUN_ENV) or str(DEFAULT_DAYS_PER_RUN)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{DAYS_PER_RUN_ENV}={value!r}: expected a whole number of days >= 1")
    return int(value)


DAILY_ASSETS: list[DailyAsset] = [
    value
    for module in (bronze, silver, physics, gold, charts)
    for value in vars(module).values()
    if isinstance(value, DailyAsset)
]


def _spec(asset: DailyAsset) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=asset.key,
        group_name=asset.group,
        description=asset.description,
        kinds=set(asset.kinds),
        deps=list(asset.upstream),
        skippable=True,  # a day that fails records nothing for it
        partitions_def=trading_days,
        metadata={"dagster/column_schema": column_schema(asset.name)} if asset.table else None,
    )


@dg.multi_asset(
    name="trading_day_chain",
    specs=[_spec(a) for a in DAILY_ASSETS],
    check_specs=[spec for a in DAILY_ASSETS for spec in a.checks],
    can_subset=True,
    partitions_def=trading_days,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=days_per_run()),
    description=(
        "Every trading-day asset, bronze to gold, run day by day in date order over the run's "
        "partitions."
    ),
)
def trading_day_chain(
    context: dg.AssetExecutionContext,
    settings: SpymasterConfig,
    kernels: NumbaKernels,
    lake: LakeResource,
):
    import datetime as dt

    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    yield from ChainRun(context, DAILY_ASSETS, settings, kernels, lake).run(days)
