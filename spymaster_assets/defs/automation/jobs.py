"""Jobs: the whole per-day chain of a trading day (or a range of them)."""

import dagster as dg

from spymaster_assets.defs.gold.checks import SIGNALS_VECTORIZED
from spymaster_assets.defs.partitions import trading_days

daily_chain = dg.define_asset_job(
    "daily_chain",
    # the combined file and the research step are not per day (the research runs on demand)
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets(SIGNALS_VECTORIZED)
    - dg.AssetSelection.groups("research"),
    partitions_def=trading_days,
    description="Every daily asset of a trading day (or a range of days), bronze to gold, in "
    "one process.",
    executor_def=dg.in_process_executor,
)
