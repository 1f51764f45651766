"""Exact duplicate records are dropped, counted and reported by a WARN check (bronze ES)."""

from __future__ import annotations

import shutil

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.bronze_es import RepeatedRecords, first_occurrences
from spymaster_assets.market.dbn_format import F_LAST, MBP10_DTYPE
from spymaster_assets.paths import DataLayout

from .bronze_runner import check_results, materializations, run_bronze
from .conftest import SAMPLE_DAY
from .dbn_factory import read_day_file, write_day_file


def stream(n: int, seed: int) -> np.ndarray:
    """Records in ts_recv order (runs of equal ts_recv) with copies inside their run."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, MBP10_DTYPE)
    out["ts_recv"] = np.sort(rng.integers(0, max(1, n // 3), n))
    out["sequence"] = rng.integers(0, 4, n)  # few values: distinct records often look alike
    out["size"] = rng.integers(0, 3, n)
    for i in np.flatnonzero(rng.random(n) < 0.2):  # a copy of an earlier record of its run
        run = np.flatnonzero(out["ts_recv"][:i] == out["ts_recv"][i])
        if len(run):
            out[i] = out[rng.choice(run)]
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**31), st.integers(1, 50))
def test_streamed_duplicates_are_exactly_the_whole_files(n, seed, chunk):
    """Chunk by chunk, only the selected rows (bronze: the contract's complete books in the
    window): the same verdict as over all the selected records at once."""
    records = stream(n, seed)
    chosen = np.random.default_rng(seed + 1).random(n) < 0.8
    repeated = RepeatedRecords()
    keep = []
    for i in range(0, n, chunk):
        part = records[i : i + chunk].copy()
        keep.append(repeated.keep(part, np.flatnonzero(chosen[i : i + chunk])))
    keep = np.concatenate(keep or [np.zeros(0, bool)])
    selected = records[chosen]
    expected = first_occurrences(selected)
    assert np.array_equal(keep, expected)
    assert repeated.dropped == int((~expected).sum())
    # what is kept has no two equal records, and every dropped one equals a kept one
    kept = {r.tobytes() for r in selected[keep]}
    assert len(kept) == int(keep.sum())
    assert all(r.tobytes() in kept for r in selected[~keep])


def with_copies(path, schema: str, every: int, dest) -> np.ndarray:
    """The file again with every `every`-th record written twice in a row; the copies."""
    records, mappings = read_day_file(path)
    picks = np.arange(0, len(records), every)
    write_day_file(dest, schema, SAMPLE_DAY, np.insert(records, picks + 1, records[picks]),
                   mappings)  # fmt: skip
    return records[picks]


def test_a_day_with_duplicated_records_gives_the_clean_output_and_warns(sample_root, tmp_path):
    clean, doubled = tmp_path / "clean", tmp_path / "doubled"
    for root in (clean, doubled):
        shutil.copytree(sample_root / "raw", root / "raw")
    layout = DataLayout(doubled)
    copies = {
        schema: with_copies(
            DataLayout(sample_root).dbn_path(schema, SAMPLE_DAY), schema, every,
            layout.dbn_path(schema, SAMPLE_DAY),
        )
        for schema, every in (("trades", 50), ("mbp-10", 400))
    }  # fmt: skip
    good, bad = run_bronze(clean, SAMPLE_DAY), run_bronze(doubled, SAMPLE_DAY)
    assert good.success and bad.success  # duplicates are a warning, not a failure
    for name in ("es_trades", "es_mbp10"):
        a = pl.read_parquet(DataLayout(clean).lake_path("bronze", name, SAMPLE_DAY.isoformat()))
        b = pl.read_parquet(layout.lake_path("bronze", name, SAMPLE_DAY.isoformat()))
        assert a.equals(b), name
    meta = materializations(bad)
    checks = check_results(bad)
    front = int(pl.read_parquet(layout.lake_path("bronze", "es_trades", SAMPLE_DAY.isoformat()))[
        "instrument_id"][0])  # fmt: skip
    books = pl.read_parquet(layout.lake_path("bronze", "es_mbp10", SAMPLE_DAY.isoformat()))
    for asset, schema in (("bronze/es_trades", "trades"), ("bronze/es_mbp10", "mbp-10")):
        mine = copies[schema][copies[schema]["instrument_id"] == front]
        if schema == "mbp-10":  # only complete books inside the kept window count
            mine = mine[np.isin(mine["ts_event"].astype(np.int64), books["ts_event"].to_numpy())]
            mine = mine[(mine["flags"] & F_LAST) != 0]
        else:
            kept = pl.read_parquet(layout.lake_path("bronze", "es_trades", SAMPLE_DAY.isoformat()))
            mine = mine[np.isin(mine["ts_event"].astype(np.int64), kept["ts_event"].to_numpy())]
        assert meta[asset].metadata["duplicates_dropped"].value == len(mine) > 0, asset
        check = checks[f"{asset}:duplicates"]
        assert not check.passed and check.severity.value == "WARN"
        assert materializations(good)[asset].metadata["duplicates_dropped"].value == 0
        assert check_results(good)[f"{asset}:duplicates"].passed
