"""On generated demo days the physics shows the variety a researcher needs (and the checks agree)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import polars as pl
import pytest

from spymaster_assets.definitions import defs
from spymaster_assets.defs.gold.checks import constant_physics_columns
from spymaster_assets.defs.resources import make_resources
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.generator import generate_day
from spymaster_assets.signals import realism
from spymaster_assets.signals.realism import PHYSICS_COLUMNS

DAYS = [dt.date(2025, 11, 24), dt.date(2025, 11, 25)]
GRAPH = defs.resolve_asset_graph()
DAILY = [k for k in GRAPH.get_all_asset_keys() if GRAPH.get(k).partitions_def is not None]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("physics_demo")
    checks = {}
    metadata = {}
    for day in DAYS:
        generate_day(day, root, profile="demo", seed=7)
        result = dg.materialize(
            list(defs.assets),
            partition_key=day.isoformat(),
            selection=DAILY,
            resources=make_resources(root),
        )
        for m in result.get_asset_materialization_events():
            mat = m.event_specific_data.materialization
            metadata[(day, mat.asset_key.to_user_string())] = mat.metadata
        for e in result.all_events:
            if e.event_type_value == "ASSET_CHECK_EVALUATION":
                ev = e.event_specific_data
                checks[(day, f"{ev.asset_key.to_user_string()}:{ev.check_name}")] = ev
    frames = [
        pl.read_parquet(DataLayout(root).lake_path("gold", "signals", d.isoformat())) for d in DAYS
    ]
    return SimpleNamespace(gold=pl.concat(frames), checks=checks, metadata=metadata, root=root)


def test_every_check_passes_on_the_demo_days(demo):
    checks = demo.checks
    failed = {
        k: v.description for k, v in checks.items() if not v.passed and v.severity.value == "ERROR"
    }
    assert not failed
    assert all(checks[(d, "gold/signals:physics_varies")].passed for d in DAYS)


def test_barrier_states_fuel_effects_and_option_levels_all_appear(demo):
    gold = demo.gold
    states = set(gold["barrier_state"])
    assert len(states) >= 5, states  # every state except possibly one
    assert {"AMPLIFY", "DAMPEN"} <= set(gold["fuel_effect"])
    kinds = {k for kinds_at in gold["level_kinds"].to_list() for k in kinds_at}
    assert "STRIKE" in kinds and kinds & {"CALL_WALL", "PUT_WALL"}
    assert set(gold["sweep_detected"]) == {True, False}


def test_the_day_s_mix_of_physics_is_in_its_materialization_metadata(demo):
    for day in DAYS:
        one = demo.gold.filter(pl.col("date") == day)
        meta = demo.metadata[(day, "gold/signals")]
        assert meta["sweep_share"].value == round(float(one["sweep_detected"].mean()), 4), day
        assert 0 < meta["sweep_share"].value < 0.3, "sweeps are rare on a demo day"
        counts = dict(one["fuel_effect"].value_counts().iter_rows())
        assert meta["fuel_effects"].value == counts, day
        states = dict(one["barrier_state"].value_counts().iter_rows())
        assert meta["barrier_states"].value == states, day
        assert meta["realism"].value == realism.day_figures(one), day
        assert meta["realism_missed"].value == realism.missed_targets(meta["realism"].value)
        grid = meta["label_grid"].value
        assert len(grid) == 9, day
        for column, mix in grid.items():
            assert mix == dict(one[column].value_counts().iter_rows()), (day, column)


def test_no_physics_column_is_constant_on_any_demo_day(demo):
    gold = demo.gold
    for day in DAYS:
        one = gold.filter(pl.col("date") == day)
        assert one.height > 20
        assert constant_physics_columns(one) == []


def test_the_check_fails_when_a_physics_column_is_constant(demo):
    gold = demo.gold
    flat = gold.with_columns(barrier_replenishment_ratio=pl.lit(1.0), sweep_detected=pl.lit(False))
    assert [line.split(" ")[0] for line in constant_physics_columns(flat)] == [
        "barrier_replenishment_ratio",
        "sweep_detected",
    ]
    assert constant_physics_columns(flat.head(20)) == [], "too few signals to judge"
    assert set(PHYSICS_COLUMNS) <= set(gold.columns)


KERNEL_FUNCTIONS = {
    "barrier_physics",
    "barrier_kernel",
    "tape_physics",
    "tape_kernel",
    "fuel_physics",
    "fuel_kernel",
    "option_flow_kernel",
    "approach_kernel",
    "first_passage_kernel",
}


def test_assets_reach_kernels_only_through_the_resource():
    defs_dir = Path(__file__).resolve().parent.parent / "spymaster_assets" / "defs"
    for path in defs_dir.rglob("*.py"):
        if path.name == "kernels.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(("spymaster_assets.physics", "spymaster_assets.signals"))
            ):
                imported = {a.name for a in node.names}
                leaked = imported & (
                    KERNEL_FUNCTIONS | {"approach_context", "outcome_labels", "option_flow"}
                )
                assert not leaked, f"{path.name} imports {leaked} around the NumbaKernels resource"
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if "numba" in node.kinds:
            assert "kernels" in graph.assets_defs_for_keys([key])[0].required_resource_keys, key


def test_each_day_has_its_pictures_on_disk_and_in_the_ui(demo):
    charts = DataLayout(demo.root).lake_dir("gold", "charts")
    for day in DAYS:
        for name in (f"{day}.png", f"{day}_outcomes.png"):
            png = (charts / name).read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
        meta = demo.metadata[(day, "gold/day_charts")]
        for key in ("price_and_signals", "outcome_breakdown"):
            assert meta[key].value.startswith("![") and "data:image/png;base64," in meta[key].value


def test_barrier_physics_from_the_book_stream_equals_barrier_physics_from_the_bronze_file(demo):
    """The whole chain computes barrier physics while bronze/es_mbp10 streams the book; alone,
    barrier physics reads the bronze file: the same table, byte for byte."""
    from spymaster_assets.defs.chain.runner import FORCE_TAG

    day = DAYS[0]
    path = DataLayout(demo.root).lake_path("silver", "barrier_physics", day.isoformat())
    streamed = path.read_bytes()
    assert demo.metadata[(day, "silver/barrier_physics")]["book_source"].value.endswith(
        "stream (same run)"
    )
    alone = dg.materialize(
        list(defs.assets),
        partition_key=day.isoformat(),
        selection=[dg.AssetKey(["silver", "barrier_physics"])],
        resources=make_resources(demo.root),
        tags={FORCE_TAG: "true"},
    )
    (mat,) = [
        e.event_specific_data.materialization for e in alone.get_asset_materialization_events()
    ]
    assert mat.metadata["book_source"].value == "bronze/es_mbp10 file"
    assert path.read_bytes() == streamed
    assert (
        mat.metadata["window_books"].value
        == demo.metadata[(day, "silver/barrier_physics")]["window_books"].value
    )
