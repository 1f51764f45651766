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
