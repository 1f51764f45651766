"""Feature-time audit (issue 16, SPEC §12): every gold feature of a signal is known at its
`info_ts_ns`. For a sample of signals, the raw files are cut there (every record after it
deleted), the day is built again from the cut files, and each feature of the signal must equal
the stored one. A feature that peeks past `info_ts_ns` (a window one bar too long, a level
fed by the close of its own bar, a gamma sum over the whole day) changes under the cut."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from spymaster_assets.market.dbn_reader import instrument_symbols, open_dbn
from spymaster_assets.market.dbn_stream import read_all
from spymaster_assets.market.dbn_writer import write_dbn
from spymaster_assets.paths import DataLayout
from spymaster_assets.settings import SpymasterConfig
from spymaster_assets.vocabulary import FEATURES

from .conftest import SAMPLE_DAY
from .test_determinism import materialize

# Everything of a gold row but the labels, which look forward by definition.
LABELS = ("outcome", "truncated_", "time_to_outcome_s", "future_price_5min", "excursion_",
          "label_truncated")  # fmt: skip
SAMPLED = 6


def cut_raw_files(source: Path, target: Path, cut_ns: int) -> None:
    """Copy the day's raw files from `source` to `target` without any record after `cut_ns`."""
    src, dst = DataLayout(source), DataLayout(target)
    for schema in ("trades", "mbp-10"):
        path = src.dbn_path(schema, SAMPLE_DAY)
        store = open_dbn(path, schema, SAMPLE_DAY)
        records = read_all(path, SAMPLE_DAY, schema)
        write_dbn(
            dst.dbn_path(schema, SAMPLE_DAY),
            schema=schema,
            day=SAMPLE_DAY,
            start_ns=store.metadata.start,
            end_ns=store.metadata.end,
            mappings={s: i for i, s in instrument_symbols(store, SAMPLE_DAY).items()},
            record_chunks=[records[records["ts_event"] <= cut_ns]],
        )
    # the options CSV line by line: the kept rows stay byte for byte what they were
    lines = gzip.decompress(src.options_path(SAMPLE_DAY).read_bytes()).decode().splitlines()
    rows = list(csv.reader(lines))  # quoted fields hold commas: parse, but keep the lines
    column = rows[0].index("sip_timestamp")
    kept = [
        lines[0],
        *(x for x, r in zip(lines[1:], rows[1:], strict=True) if int(r[column]) <= cut_ns),
    ]
    out = dst.options_path(SAMPLE_DAY)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(("\n".join(kept) + "\n").encode(), mtime=0))


def known_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.startswith(LABELS)]


def built_day(raw_from: Path, root: Path, settings: SpymasterConfig, cut_ns: int | None = None):
    """The gold signals of the sample day built from its raw files, cut at `cut_ns` if given."""
    if cut_ns is None:
        shutil.copytree(raw_from / "raw", root / "raw")
    else:
        cut_raw_files(raw_from, root, cut_ns)
    materialize(root, settings)
    return pl.read_parquet(root / "lake" / "gold" / "signals" / f"{SAMPLE_DAY}.parquet")


def audited_signals(signals: pl.DataFrame) -> pl.DataFrame:
    """Signals spread over the session, and the one with the busiest tape."""
    ordered = signals.sort("ts_ns")
    picks = np.linspace(0, ordered.height - 1, SAMPLED).round().astype(int)
    busiest = ordered["tape_buy_vol"] + ordered["tape_sell_vol"]
    return ordered[sorted({*picks.tolist(), int(busiest.arg_max())})]


def audit(sample_root: Path, folder: Path, settings: SpymasterConfig) -> dict[str, dict]:
    """For each audited signal, the known columns whose value changes under the cut."""
    full = built_day(sample_root, folder / "full", settings)
    columns = known_columns(full)
    assert set(FEATURES) <= set(columns)  # every model input is audited
    audited = audited_signals(full)
    assert audited["barrier_state"].n_unique() > 1  # not rows of defaults
    changed = {}
    for row in audited.iter_rows(named=True):
        cut_ns = row["info_ts_ns"]
        rebuilt = built_day(sample_root, folder / str(cut_ns), settings, cut_ns)
        assert rebuilt["info_ts_ns"].max() <= cut_ns  # no signal of a later bar
        again = rebuilt.filter(pl.col("event_id") == row["event_id"]).select(columns)
        assert again.height == 1, f"signal {row['event_id']} gone after the cut at {cut_ns}"
        stored = full.filter(pl.col("event_id") == row["event_id"]).select(columns)
        differ = [c for c in columns if not stored[c].equals(again[c])]
        changed[row["event_id"]] = {c: (stored[c][0], again[c][0]) for c in differ}
    return changed


def test_every_feature_is_the_same_from_raw_files_cut_at_its_info_time(sample_root, tmp_path):
    changed = audit(sample_root, tmp_path, SpymasterConfig())
    assert len(changed) >= SAMPLED
    assert not any(changed.values()), changed


def test_the_audit_catches_windows_that_reach_past_the_bar(sample_root, tmp_path):
    """Barrier and tape windows of two minutes read the minute after `info_ts_ns`: the same
    audit sees their columns change, so it has teeth."""
    settings = SpymasterConfig(barrier_window_s=120.0, tape_window_s=120.0)
    changed = audit(sample_root, tmp_path, settings)
    seen = {c for differ in changed.values() for c in differ}
    assert {"tape_velocity", "barrier_added"} <= seen, changed
    assert seen <= set(FEATURES), seen - set(FEATURES)
