"""The code location loads, and its asset graph is what we think it is (snapshot)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from spymaster_assets.definitions import defs
from spymaster_assets.defs.partitions import trading_days
from spymaster_assets.settings import SpymasterConfig

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        out[key.to_user_string()] = {
            "group": node.group_name,
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(c.name for c in node.check_keys),
            "kinds": sorted(node.kinds),
        }
    return out


def test_asset_graph_matches_the_snapshot():
    current = graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "asset graph changed; if intended, rerun with UPDATE_SNAPSHOTS=1 and commit the snapshot"
    )


# Not partitioned: the combined file, and the research step that evaluates every day at once
COMBINED = {
    "gold/signals_vectorized",
    "research/folds",
    "research/training_table",
    "research/predictions",
    "research/placebo_predictions",
    "research/evaluation",
}
BLOCKING = {"schema", "causality", "walk_forward", "placebo"}  # checks that stop what follows


def test_every_asset_is_described_and_partitioned_by_trading_day():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 40, key
        expected = None if key.to_user_string() in COMBINED else trading_days
        assert node.partitions_def == expected, key
        assert node.code_version, key
        if "parquet" in node.kinds:  # every stored table shows its columns in the catalog
            columns = node.metadata["dagster/column_schema"].columns
            assert columns and all(c.type for c in columns), key


def test_schema_causality_and_leakage_checks_block_downstream_and_quality_checks_do_not():
    graph = defs.resolve_asset_graph()
    for key in graph.asset_check_keys:
        check = graph.get_check_spec(key)
        assert check.blocking is (check.name in BLOCKING), check.name
        partitioned = key.asset_key.to_user_string() not in COMBINED
        assert (check.partitions_def is not None) is partitioned, key


def test_resources_include_the_typed_configuration_with_spec_defaults():
    resources = defs.resources
    assert isinstance(resources["settings"], SpymasterConfig)
    s = SpymasterConfig()
    spec_defaults = {
        "monitor_band": 0.25,
        "touch_band": 0.10,
        "barrier_zone_es_ticks": 8,
        "barrier_window_s": 60.0,
        "tape_window_s": 60.0,
        "tape_band": 0.50,
        "outcome_threshold": 2.0,
        "lookforward_minutes": 5,
        "lookback_minutes": 10,
        "es_spy_ratio": 10.0,
        "or_minutes": 15,
        "strike_range": 5.0,
        "strike_min_volume": 100,
        "weak_lookback_s": 1800.0,
        "f_thresh_frac": 0.5,
        "label_thresholds": [0.5, 1.0, 2.0],
        "label_horizons_min": [2, 5, 15],
        "r_vac": 0.3,
        "r_wall": 1.5,
        "weak_percentile": 0.20,
        "sweep_max_gap_ms": 100.0,
        "sweep_min_notional": 10_000_000.0,
        "risk_free_rate": 0.045,
        "iv_min": 0.01,
        "iv_max": 5.0,
        "default_iv": 0.20,
        "fuel_strike_range": 2.0,
        "fuel_share_threshold": 0.10,
        "front_month_warn_share": 0.90,
        "front_month_error_share": 0.50,
    }
    for name, value in spec_defaults.items():
        assert getattr(s, name) == value, name


def test_configuration_can_be_changed_per_run_and_is_documented():
    schema = SpymasterConfig.to_config_schema().as_field().config_type
    fields = schema.fields
    assert set(fields) == set(SpymasterConfig.model_fields)
    assert all(f.description for f in fields.values())
    assert isinstance(SpymasterConfig(monitor_band=0.3).monitor_band, float)


def test_definitions_validate():
    assert dg.Definitions.validate_loadable(defs) is None
