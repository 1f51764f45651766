"""The `full` profile is a realistic day in size (the performance work measures against it)."""

from __future__ import annotations

import datetime as dt

import databento as db
import numpy as np
import polars as pl

from spymaster_assets.sample.contracts import dominant_contract
from spymaster_assets.sample.generator import generate_day

DAY = dt.date(2025, 11, 21)


def test_full_profile_has_realistic_volumes(tmp_path):
    generated = generate_day(DAY, tmp_path, profile="full", seed=7)
    front_id = dominant_contract(DAY)[0].instrument_id
    front_books = 0
    for chunk in db.DBNStore.from_file(generated.paths["mbp-10"]).to_ndarray(count=1_000_000):
        front_books += int(np.count_nonzero(chunk["instrument_id"] == front_id))
    trades = db.DBNStore.from_file(generated.paths["trades"]).to_ndarray()
    front_trades = int(np.count_nonzero(trades["instrument_id"] == front_id))
    options = pl.scan_csv(generated.paths["options"]).select(pl.len()).collect().item()
    assert front_books >= 5_800_000
    assert 500_000 <= front_trades <= 720_000
    assert 630_000 <= options <= 770_000


# The issue-15 day at a tenth of its volume: the same price path and market shape, cheap to run.
REDUCED_DAY = dt.date(2025, 12, 16)


def test_a_reduced_volume_full_day_looks_like_a_real_day_to_the_rules(tmp_path):
    """On a full-profile day (a tenth of the volume, the same rules), the physics and the labels
    spread like a real ES day's: no constant physics column, every fuel effect, at least five
    barrier states, sweeps as rare bursts, and a $0.50 / 5-minute target with enough BREAK and
    BOUNCE to learn from. Every check passes, physics_varies included, and the figures are in
    the day's metadata."""
    import dagster as dg

    from spymaster_assets import failed_checks
    from spymaster_assets.bench.chain import run_chain
    from spymaster_assets.definitions import defs
    from spymaster_assets.signals import realism

    generate_day(REDUCED_DAY, tmp_path, profile="full", seed=3, volume=0.1)
    with dg.DagsterInstance.ephemeral() as instance:
        _, run_id = run_chain(defs, str(tmp_path), str(REDUCED_DAY), instance)
        events = instance.all_logs(run_id)
        failed = [f.line() for f in failed_checks.from_events(events)]
        (meta,) = [
            e.dagster_event.event_specific_data.materialization.metadata
            for e in events
            if e.dagster_event is not None
            and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
            and e.dagster_event.event_specific_data.materialization.asset_key.to_user_string()
            == "gold/signals"
        ]
    assert failed == []  # physics_varies included
    gold = pl.read_parquet(tmp_path / "lake" / "gold" / "signals" / f"{REDUCED_DAY}.parquet")
    figures = realism.day_figures(gold)
    assert figures["signals"] > 200
    assert realism.missed_targets(figures) == [], figures
    assert set(gold["barrier_state"]) >= {"VACUUM", "CONSUMED", "WALL"}, figures
    assert gold["zone_baseline"].null_count() == 0 and gold["zone_baseline"].min() >= 0
    assert meta["realism"].value == figures
    assert meta["realism_missed"].value == []
