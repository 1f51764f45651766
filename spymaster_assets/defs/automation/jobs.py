"""Jobs: the whole per-day chain, one trading day per run."""

import dagster as dg

from spymaster_assets.defs.gold.checks import SIGNALS_VECTORIZED
from spymaster_assets.defs.partitions import trading_days

# dagster.yaml lets one run with this tag run at a time, and the run queue is first in, first out:
# runs of the chain for several days (sensor, job backfill) go in date order, as silver/levels
# needs the earlier days' bars for SMA_200.
DAILY_CHAIN_LANE = {"spymaster/lane": "daily_chain"}

daily_chain = dg.define_asset_job(
    "daily_chain",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SIGNALS_VECTORIZED),
    partitions_def=trading_days,
    description="Every daily asset of one trading day, bronze to gold, in one process.",
    executor_def=dg.in_process_executor,
    tags=DAILY_CHAIN_LANE,
)
