"""Channel gaps the vendor flagged (F_MAYBE_BAD_BOOK) are counted per file and warned about."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.bronze_es import gap_runs
from spymaster_assets.market.dbn_format import F_LAST, F_MAYBE_BAD_BOOK
from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.paths import DataLayout
from spymaster_assets.settings import SpymasterConfig

from .bronze_runner import check_results, materializations, run_bronze
from .conftest import SAMPLE_DAY
from .dbn_factory import edit_day_file

MINUTE = 60 * 10**9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), max_size=300), st.integers(1, 40))
def test_gap_runs_over_chunks_count_the_same_runs_as_the_whole_file(flagged, chunk):
    flags = np.where(np.array(flagged, bool), F_LAST | F_MAYBE_BAD_BOOK, F_LAST).astype(np.uint8)
    expected = sum(1 for i, f in enumerate(flagged) if f and (i == 0 or not flagged[i - 1]))
    total, inside = 0, False
    for i in range(0, len(flags), chunk):
        part = flags[i : i + chunk]
        total += gap_runs(part, inside)
        inside = bool(part[-1] & F_MAYBE_BAD_BOOK)
    assert total == gap_runs(flags) == expected


def flag_channel(records: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Every record (all instruments: the flag is per channel) received inside the spans."""
    recv = records["ts_recv"].astype(np.int64)
    for lo, hi in spans:
        records["flags"][(recv >= lo) & (recv < hi)] |= F_MAYBE_BAD_BOOK
    return records


def test_flagged_channel_gaps_are_counted_and_warned(one_day):
    open_ns = session_windows(SAMPLE_DAY).rth_open_ns
    layout = DataLayout(one_day)
    # trades: three gaps in RTH; books: two, one of them minutes long (many chunks at 997)
    spans = {
        "trades": [(open_ns + m * MINUTE, open_ns + (m + 2) * MINUTE) for m in (10, 60, 200)],
        "mbp-10": [(open_ns + 30 * MINUTE, open_ns + 31 * MINUTE),
                   (open_ns + 90 * MINUTE, open_ns + 100 * MINUTE)],
    }  # fmt: skip
    # A gap before the kept window (00:30 UTC) is not the window's concern.
    early = dt.datetime.combine(SAMPLE_DAY, dt.time(0, 30), dt.UTC).timestamp() * 10**9
    outside = (int(early), int(early) + MINUTE)
    for schema, day_spans in spans.items():
        edit_day_file(
            layout.dbn_path(schema, SAMPLE_DAY), schema, SAMPLE_DAY,
            lambda r, s=day_spans: flag_channel(r, [*s, outside]),
        )  # fmt: skip
    result = run_bronze(one_day, SAMPLE_DAY, settings=SpymasterConfig(mbp_chunk_records=997))
    assert result.success, "a gap is a warning: the data is still usable"
    meta, checks = materializations(result), check_results(result)
    for asset, expected in (("bronze/es_trades", 3), ("bronze/es_mbp10", 2)):
        assert meta[asset].metadata["sequence_gaps"].value == expected, asset
        check = checks[f"{asset}:sequence_gaps"]
        assert not check.passed and check.severity.value == "WARN", asset
    # the flag travels with the rows, so a researcher can drop the suspect books
    books = pl.read_parquet(layout.lake_path("bronze", "es_mbp10", str(SAMPLE_DAY)))
    suspect = books.filter((pl.col("flags") & F_MAYBE_BAD_BOOK) != 0)
    assert suspect.height > 997
    lo, hi = spans["mbp-10"][1]
    assert suspect.filter(pl.col("ts_recv").is_between(lo, hi, closed="left")).height > 0

    tolerant = run_bronze(
        one_day, SAMPLE_DAY, settings=SpymasterConfig(max_sequence_gaps=3),
        selection=["bronze/es_trades"],
    )  # fmt: skip
    assert check_results(tolerant)["bronze/es_trades:sequence_gaps"].passed


def test_a_clean_day_has_no_sequence_gaps(one_day):
    result = run_bronze(one_day, SAMPLE_DAY)
    meta, checks = materializations(result), check_results(result)
    for asset in ("bronze/es_trades", "bronze/es_mbp10"):
        assert meta[asset].metadata["sequence_gaps"].value == 0
        assert checks[f"{asset}:sequence_gaps"].passed
