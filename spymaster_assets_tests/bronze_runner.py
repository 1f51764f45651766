"""Run the real bronze assets through Dagster on a given data folder (resources as in production)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from spymaster_assets.defs.bronze import assets as bronze
from spymaster_assets.defs.chain.assets import trading_day_chain
from spymaster_assets.defs.resources import make_resources
from spymaster_assets.settings import SpymasterConfig

BRONZE_ASSETS = [bronze.es_trades.key, bronze.es_mbp10.key, bronze.spy_option_trades.key]


def run_bronze(
    data_dir: Path,
    day: dt.date,
    *,
    instance: dg.DagsterInstance | None = None,
    settings: SpymasterConfig | None = None,
    selection: list[str] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [trading_day_chain],
        partition_key=day.isoformat(),
        instance=instance,
        resources=make_resources(data_dir, settings),
        selection=selection or BRONZE_ASSETS,
        raise_on_error=False,
    )


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        e.step_failure_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    ]


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    out = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = e.event_specific_data
            out[f"{ev.asset_key.to_user_string()}:{ev.check_name}"] = ev
    return out


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetMaterialization]:
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
    }
